"""Admission of a new job: room on the disk it will fill (507) and the caller's limits (429).

Each limited key has one record in the usage KV bucket (services/ingest/limits.py `Usage`). A job is
admitted by a compare-and-set write adding its hold, so two requests racing for a key's last place,
on one replica or many, cannot both win: the loser re-reads and is refused. A refused or failed
submission releases its hold; a finished job's hold is retired on the key's next admission, after
reading the state of that key's own unfinished jobs (O(jobs in flight for the key), not O(all jobs)).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts.state import JobState
from runtime.bus import ensure_key_value
from runtime.jobs import JobDeleted, JobNotFound, JobStore
from services.ingest.config import IngestSettings
from services.ingest.deps import Services, ServicesDep
from services.ingest.limits import (
    Hold,
    Limits,
    LimitTable,
    Refusal,
    Usage,
    decode_usage,
    encode_usage,
    holds_place,
    over_bytes,
    over_jobs,
    parse_key_limits,
    retire,
)
from services.ingest.space import DiskRoom

ATTEMPTS = 50  # compare-and-set rounds before answering 503; each lost round means another request won


def limit_table(settings: IngestSettings) -> LimitTable:
    """The default limits and each key's overrides, from the settings (validated at start-up)."""
    default = Limits(settings.max_jobs_per_key, int(settings.max_daily_bytes_per_key))
    return LimitTable(default, parse_key_limits(settings.key_limits, default))


def usage_bucket(namespace: str) -> str:
    return f"aodio_usage_{namespace}" if namespace else "aodio_usage"


def usage_key(caller: str | None) -> str:
    """A KV key for a key name (names may hold '@', which KV keys may not)."""
    return "open" if caller is None else "key_" + caller.encode().hex()


async def open_usage_bucket(js: JetStreamContext, namespace: str, jobs_bucket: str) -> KeyValue:
    """The usage bucket, created with the jobs bucket's replicas when missing (replicas race safely)."""
    replicas = (await js.stream_info(f"KV_{jobs_bucket}")).config.num_replicas or 1
    return await ensure_key_value(js, usage_bucket(namespace), 1, replicas)


class Ledger:
    """Every limited key's usage, changed only by compare-and-set."""

    def __init__(self, kv: KeyValue, jobs: JobStore, hold_s: float, upload_s: float) -> None:
        self._kv, self._jobs, self._hold_s, self._upload_s = kv, jobs, hold_s, upload_s

    async def admit(self, caller: str | None, limits: Limits, job_id: str, size: int) -> None:
        """Add the job's hold, or raise the refusal of the first limit it is over."""

        def add(usage: Usage, now: float, running: int) -> Refusal | Usage:
            refusal = over_jobs(limits, caller, running) or over_bytes(limits, caller, usage, size, now)
            if refusal is not None:
                return refusal
            usage.holds.append(Hold(job_id=job_id, at=now, size_bytes=size))
            return usage

        await self._change(caller, add)

    async def admit_run(self, caller: str | None, limits: Limits, job_id: str, generation: int) -> None:
        """Add a hold for a replay's run (no bytes: it reuses what is stored), or raise the refusal."""

        def add(usage: Usage, now: float, running: int) -> Refusal | Usage:
            refusal = over_jobs(limits, caller, running)
            if refusal is not None:
                return refusal
            usage.holds.append(Hold(job_id=job_id, at=now, size_bytes=0, generation=generation))
            return usage

        await self._change(caller, add)

    async def settle(self, caller: str | None, limits: Limits, job_id: str, size: int) -> None:
        """Record what was stored; raise a refusal when more came than was declared and it is over."""

        def stored(usage: Usage, now: float, running: int) -> Refusal | Usage:
            held = next((h for h in usage.holds if h.job_id == job_id), None)
            if held is None or size > held.size_bytes:
                refusal = over_bytes(limits, caller, usage, size, now, without=job_id)
                if refusal is not None:
                    return refusal
            at = held.at if held is not None else now  # a hold lost to its time limit comes back
            others = [h for h in usage.holds if h.job_id != job_id]
            usage.holds = [*others, Hold(job_id=job_id, at=at, size_bytes=size, stored=True)]
            return usage

        await self._change(caller, stored)

    async def release(self, caller: str | None, job_id: str, generation: int = 1) -> None:
        """Forget the hold of a submission (or replay) that was refused or failed."""

        def drop(usage: Usage, now: float, running: int) -> Usage:
            usage.holds = [h for h in usage.holds if (h.job_id, h.generation) != (job_id, generation)]
            return usage

        await self._change(caller, drop, retire_finished=False)

    async def _change(
        self,
        caller: str | None,
        change: Callable[[Usage, float, int], Refusal | Usage],
        retire_finished: bool = True,
    ) -> None:
        key = usage_key(caller)
        for attempt in range(ATTEMPTS):
            usage, revision = await self._read(key)
            now = time.time()
            if retire_finished:
                usage = retire(usage, await self._finished(usage, now), now)
            outcome = change(usage, now, len(usage.holds))
            if isinstance(outcome, Refusal):
                raise refused(outcome)
            try:
                payload = encode_usage(outcome)
                if revision is None:
                    await self._kv.create(key, payload)
                else:
                    await self._kv.update(key, payload, last=revision)
                return
            except KeyWrongLastSequenceError:  # another request changed it first: decide again
                await asyncio.sleep(min(0.2, 0.005 * (attempt + 1)))
        raise HTTPException(503, "too many submissions at once for this key; retry in a few seconds")

    async def _read(self, key: str) -> tuple[Usage, int | None]:
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError:
            return Usage(), None
        return (decode_usage(entry.value) if entry.value else Usage()), entry.revision

    async def _finished(self, usage: Usage, now: float) -> set[Hold]:
        async def state_of(job_id: str) -> tuple[JobState | None, bool]:
            try:
                return await self._jobs.get(job_id), False
            except JobDeleted:
                return None, True
            except JobNotFound:
                return None, False

        states = await asyncio.gather(*(state_of(h.job_id) for h in usage.holds))
        return {
            hold
            for hold, (state, deleted) in zip(usage.holds, states, strict=True)
            if not holds_place(hold, state, deleted, now, self._hold_s, self._upload_s)
        }


def refused(refusal: Refusal) -> HTTPException:
    headers = {"retry-after": str(refusal.retry_after_s)} if refusal.retry_after_s else None
    return HTTPException(refusal.status, refusal.detail, headers)


@dataclass
class Ticket:
    """An admitted submission: settle it with the stored size before queueing the job."""

    gate: Gate
    caller: str | None
    job_id: str

    async def settle(self, size: int) -> None:
        await self.gate.settle(self.caller, self.job_id, size)


class Gate:
    """One per app: the disk check, the limits table and the (lazily opened) ledger."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.table = limit_table(settings)
        self.room = DiskRoom.for_storage(
            services.storage, settings.disk_space_factor, settings.min_free_bytes
        )
        self._ledger: Ledger | None = None
        self._opening = asyncio.Lock()

    async def ledger(self) -> Ledger:
        async with self._opening:
            if self._ledger is None:
                services, settings = self.services, self.services.settings
                kv = await open_usage_bucket(
                    services.nc.jetstream(), services.topology.namespace, services.topology.jobs_bucket
                )
                self._ledger = Ledger(kv, services.jobs, settings.limits_hold_s, settings.upload_url_expiry_s)
            return self._ledger

    async def settle(self, caller: str | None, job_id: str, size: int) -> None:
        """Record the size a job's upload stored (429 when more came than declared and it is over)."""
        limits = self.table.for_caller(caller)
        if not limits.unlimited:
            await (await self.ledger()).settle(caller, limits, job_id, size)

    @contextlib.asynccontextmanager
    async def admit(
        self, caller: str | None, job_id: str, size: int | None, on_disk: bool = True
    ) -> AsyncIterator[Ticket]:
        """507 without room on disk (when the bytes come through ingest), 429 over a limit.

        A submission that ends in an exception gives its hold back.
        """
        limits = self.table.for_caller(caller)
        with self.room.claim(size) if on_disk else contextlib.nullcontext():
            if limits.unlimited:
                yield Ticket(self, caller, job_id)
                return
            ledger = await self.ledger()
            await ledger.admit(caller, limits, job_id, size or 0)
            try:
                yield Ticket(self, caller, job_id)
            except BaseException:
                # shielded: a cancelled request (the client went away) still gives its place back
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.shield(ledger.release(caller, job_id))
                raise

    @contextlib.asynccontextmanager
    async def admit_replay(self, caller: str | None, job_id: str, generation: int) -> AsyncIterator[None]:
        """429 when the caller is at its jobs limit: a replay runs stages again, like a new job."""
        limits = self.table.for_caller(caller)
        if limits.unlimited or limits.jobs == 0:
            yield
            return
        ledger = await self.ledger()
        await ledger.admit_run(caller, limits, job_id, generation)
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(ledger.release(caller, job_id, generation))
            raise


async def get_gate(request: Request, services: ServicesDep) -> Gate:
    """The app's gate, built on first use (async: on the event loop, so two requests build one)."""
    gate: Gate | None = getattr(request.app.state, "admission_gate", None)
    if gate is None or gate.services is not services:
        gate = request.app.state.admission_gate = Gate(services)
    return gate


GateDep = Annotated[Gate, Depends(get_gate)]
