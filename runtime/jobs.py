"""Job state in the JetStream KV bucket: read, create, and compare-and-set updates."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts.state import JobState, decode_state, encode_state

log = logging.getLogger(__name__)

Mutation = Callable[[JobState], bool | None]


class JobNotFound(LookupError):
    """No job with that id."""


class JobDeleted(JobNotFound):
    """The job existed and was deleted (its key carries a delete or purge marker)."""


class JobStore:
    """The jobs bucket. Every write is a compare-and-set, so concurrent stages never lose an update."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    @classmethod
    async def open(cls, js: JetStreamContext, bucket: str) -> JobStore:
        return cls(await js.key_value(bucket))

    async def get(self, job_id: str) -> JobState:
        """The job's current state; raises JobNotFound."""
        state, _ = await self._get(job_id)
        return state

    async def find(self, job_id: str) -> JobState | None:
        """The job's current state, or None when there is no such job (or it was deleted)."""
        try:
            return await self.get(job_id)
        except JobNotFound:
            return None

    async def create(self, state: JobState) -> None:
        """Store a new job; fails if the id exists."""
        state.created_at = state.created_at or time.time()
        state.updated_at = time.time()
        await self._kv.create(state.job_id, encode_state(state))

    async def update(self, job_id: str, mutate: Mutation, attempts: int = 50) -> JobState:
        """Apply `mutate` under compare-and-set, retrying on a concurrent write.

        `mutate` edits the state in place and may return False to skip the write.
        """
        for attempt in range(attempts):
            state, revision = await self._get(job_id)
            if mutate(state) is False:
                return state
            state.updated_at = time.time()
            try:
                await self._kv.update(job_id, encode_state(state), last=revision)
                return state
            except KeyWrongLastSequenceError:
                await asyncio.sleep(min(0.2, 0.005 * (attempt + 1)))
        raise RuntimeError(f"job {job_id}: state update lost {attempts} races in a row")

    async def keys(self) -> list[str]:
        try:
            return list(await self._kv.keys())
        except Exception as exc:  # nats raises NoKeysError on an empty bucket
            if type(exc).__name__ == "NoKeysError":
                return []
            raise

    async def delete(self, job_id: str) -> None:
        await self._kv.purge(job_id)

    async def watch(self, job_id: str) -> AsyncIterator[JobState]:
        """Every new state of one job, starting with the current one; ends when the job is deleted."""
        watcher = await self._kv.watch(job_id)
        try:
            async for entry in watcher:
                if entry is None:
                    continue
                if entry.operation in ("DEL", "PURGE"):
                    return
                if entry.value:
                    yield decode_state(entry.value)
        finally:
            await watcher.stop()

    async def _get(self, job_id: str) -> tuple[JobState, int]:
        try:
            entry = await self._kv.get(job_id)
        except KeyNotFoundError as exc:
            if getattr(exc, "op", None):  # a delete or purge marker: the job was deleted
                raise JobDeleted(job_id) from exc
            raise JobNotFound(job_id) from exc
        if entry.value is None or entry.revision is None:
            raise JobNotFound(job_id)
        return decode_state(entry.value), entry.revision
