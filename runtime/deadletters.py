"""Dead letters kept in the stream: list them a page at a time, read one, retry it, or drop it.

A letter's id is its own stream sequence. Retrying republishes the message the stage gave up on
(its exact bytes while the stream still holds it) under a fresh Nats-Msg-Id, after taking the
job out of "failed" so the worker does not skip it; then the letter is deleted from the stream,
so what is listed is what still waits for a person.

Errors:

    DeadLetterError
     ├── LetterNotFound   no dead letter with that id (never was, or retried or dropped since)
     └── JobGone          the letter names a job that no longer exists: drop the letter instead
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from contracts.api import StoredDeadLetter
from contracts.events import DeadLetter
from contracts.state import JobState
from contracts.subjects import Topology
from runtime.jobs import JobNotFound, JobStore

__all__ = ["DeadLetterError", "DeadLetters", "JobGone", "LetterNotFound", "Retried", "StoredDeadLetter"]

log = logging.getLogger(__name__)

MAX_SCAN = 2000  # letters read per page at most, so a narrow filter over a huge stream stays bounded


class DeadLetterError(Exception):
    """A dead-letter operation could not be done; the message says why."""


class LetterNotFound(DeadLetterError, LookupError):
    """No dead letter with that id."""


class JobGone(DeadLetterError):
    """The letter's job was deleted (or never existed), so there is nothing to retry it for."""


@dataclass(frozen=True)
class Retried:
    """What a retry did: where the message went again, and the job's status after un-failing it."""

    id: int
    subject: str
    sequence: int
    job_id: str | None
    job_status: str | None


_decoder = msgspec.json.Decoder(DeadLetter)


def unfail(state: JobState, stage_name: str) -> bool | None:
    """Undo a stage's permanent failure so its retried message is processed; False: nothing to undo."""
    stage = state.stages.get(stage_name)
    job_failed_here = state.status == "failed" and state.failed_stage == stage_name
    if not job_failed_here and (stage is None or stage.status != "failed"):
        return False
    if job_failed_here:
        state.status, state.error, state.failed_stage = "running", None, None
    if stage is not None:
        stage.status, stage.error, stage.finished_at = "pending", None, None
    return None


class DeadLetters:
    """The dead letters of one Aodio install (one stream)."""

    def __init__(self, js: JetStreamContext, jobs: JobStore, topology: Topology) -> None:
        self._js, self._jobs, self._topology = js, jobs, topology
        self._stream = topology.stream
        self._prefix = f"{topology.prefix}.dead_letter."

    async def page(
        self,
        limit: int = 50,
        after: int = 0,
        stage: str | None = None,
        job_id: str | None = None,
        owner: str | None = None,
    ) -> tuple[list[StoredDeadLetter], int | None]:
        """Letters with ids above `after`, oldest first, and the `after` of the next page (None: no more).

        `owner` set: only letters of jobs that key submitted. A page may come back short with a next
        page when filters skip many letters (at most MAX_SCAN are read per call).
        """
        subject = self._topology.dead_letter_subject(stage) if stage else f"{self._prefix}>"
        owners: dict[str, str | None] = {}
        found: list[StoredDeadLetter] = []
        position = after
        for _ in range(MAX_SCAN):
            try:
                raw = await self._js.get_msg(self._stream, position + 1, subject=subject, next=True)
            except NotFoundError:
                return found, None
            position = raw.seq or position + 1
            letter = self._decode(position, raw.data)
            if letter is None or (job_id is not None and letter.job_id != job_id):
                continue
            if owner is not None and await self._owner(letter.job_id, owners) != owner:
                continue
            found.append(letter)
            if len(found) >= limit:
                break
        return found, position

    async def get(self, letter_id: int) -> StoredDeadLetter:
        """One letter by id; raises LetterNotFound."""
        try:
            raw = await self._js.get_msg(self._stream, letter_id)
        except NotFoundError as exc:
            raise LetterNotFound(f"no dead letter {letter_id}") from exc
        letter = self._decode(letter_id, raw.data) if (raw.subject or "").startswith(self._prefix) else None
        if letter is None:
            raise LetterNotFound(f"no dead letter {letter_id}")
        return letter

    async def owner_of(self, letter: StoredDeadLetter) -> str | None:
        """The key name that owns the letter's job; None when there is no job (or no owner)."""
        return await self._owner(letter.job_id, {})

    async def retry(self, letter_id: int) -> Retried:
        """Un-fail the job in the letter's stage, republish the original message, delete the letter."""
        letter = await self.get(letter_id)
        job_status: str | None = None
        if letter.job_id is not None:
            try:
                state = await self._jobs.update(letter.job_id, lambda s: unfail(s, letter.stage))
            except JobNotFound as exc:
                raise JobGone(
                    f"job {letter.job_id} of dead letter {letter_id} no longer exists: drop the letter"
                ) from exc
            job_status = state.status
        ack = await self._js.publish(
            letter.subject,
            await self._original_bytes(letter),
            headers={"Nats-Msg-Id": f"retry.{letter_id}"},  # two retries at once publish it once
        )
        await self._delete(letter_id)
        log.info(
            "dead letter %d of stage %s retried as %s #%d",
            letter_id,
            letter.stage,
            letter.subject,
            ack.seq,
            extra={"job_id": letter.job_id, "stage": letter.stage},
        )
        return Retried(letter_id, letter.subject, ack.seq, letter.job_id, job_status)

    async def drop(self, letter_id: int) -> None:
        """Delete the letter without retrying it; raises LetterNotFound."""
        letter = await self.get(letter_id)
        await self._delete(letter_id)
        log.info(
            "dead letter %d of stage %s dropped", letter_id, letter.stage, extra={"job_id": letter.job_id}
        )

    async def _original_bytes(self, letter: StoredDeadLetter) -> bytes:
        """The exact bytes the stage gave up on while the stream keeps them, else the letter's copy."""
        if letter.stream_sequence:
            try:
                raw = await self._js.get_msg(self._stream, letter.stream_sequence)
                if raw.subject == letter.subject and raw.data is not None:
                    return raw.data
            except NotFoundError:
                pass
        return letter.payload.encode()

    async def _delete(self, letter_id: int) -> None:
        try:
            await self._js.delete_msg(self._stream, letter_id)
        except NotFoundError as exc:  # retried or dropped meanwhile by someone else
            raise LetterNotFound(f"no dead letter {letter_id}") from exc

    async def _owner(self, job_id: str | None, cache: dict[str, str | None]) -> str | None:
        if job_id is None:
            return None
        if job_id not in cache:
            state = await self._jobs.find(job_id)
            cache[job_id] = state.owner if state is not None else None
        return cache[job_id]

    @staticmethod
    def _decode(sequence: int, data: bytes | None) -> StoredDeadLetter | None:
        try:
            letter = _decoder.decode(data or b"")
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("stream message %d on a dead-letter subject is not a dead letter", sequence)
            return None
        return StoredDeadLetter(id=sequence, **msgspec.structs.asdict(letter))
