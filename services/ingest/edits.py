"""Edits of a job's transcript: each takes a number under compare-and-set, then is stored, log first.

What is stored: the edited transcript as the labelled transcript (transcript.labels.json, diarization
labels, its model["revision"] set), every export rendered again from it with the job's names, and the
RevisionLog (transcript.revisions.json). JobState.transcript_revision is the lock: an edit made on
revision N takes N + 1 by compare-and-set, so of two editors racing one wins and the other gets 409.

The order of an edit, and why:

    1. read the labelled transcript, then the log, then the job state (this order: see below)
    2. reconcile them (below); then the caller's revision must be the job's, else 409 with the job's
    3. apply the edit (exports/edits.py): one that cannot apply is refused before it takes a number
    4. take the number: transcript_revision N -> N + 1, transcript_revised_at = now (CAS)
    5. write the log with revision N + 1: the journal, holding the segments the edit replaces
    6. write the labelled transcript (revision N + 1): what people see
    7. write every export again

An edit writes state, log, transcript in that order, and a reader reads them backwards, so a
transcript at N + 1 implies a log and a state at N + 1 or later. A crash leaves one of:
    state N+1, log N,   transcript N   -- crashed after 4: nothing of the edit was stored
    state N+1, log N+1, transcript N   -- crashed after 5: the edit never reached the transcript
    all N+1, stale exports             -- crashed in 7: the API's routes render from the labelled
                                          transcript and are right; the stored files catch up at
                                          the next edit or rename
The transcript is the truth (it is what was shown and exported): while a number is fresh (taken less
than SAVING_S ago) its edit may still be saving, and a second editor gets 409; after that the next
edit repairs: the log forgets revisions the transcript never got, the state goes back to the
transcript's revision, and the repair is logged. A transcript ahead of its log cannot be repaired
(the edits it holds are not in the log to undo): edits are refused with a 409 that says so, never
silently. GET /revisions reports a disagreement in its `note` without writing anything.

A replay that makes a new transcript sets the log aside (services/ingest/replay_edits.py). A crash
in the middle leaves a live log whose generation is not the transcript's; the next edit finishes
setting it aside.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from msgspec.structs import replace

from contracts import keys
from contracts.api import RevisionEntry, RevisionList
from contracts.artifacts import Revision, RevisionLog, Transcript, decode_revision_log, encode
from contracts.state import JobState
from exports import edits
from exports import transcript as transcripts
from exports.edits import EditError, NothingToUndo, Stamp
from runtime.jobs import JobStore
from runtime.replay import RERUN
from runtime.retention.rules import removal_of
from runtime.storage.base import ObjectNotFound, Storage
from services.ingest import exports

log = logging.getLogger(__name__)

SAVING_S = 120.0  # an edit's number this fresh may still be saving: wait for it, do not repair
JSON = "application/json"

# An edit as the routes give it: the labelled transcript, the log, the stamp and the job in; the result out.
Edit = Callable[[Transcript, RevisionLog, Stamp, JobState], tuple[Transcript, Revision]]


class EditRefused(Exception):
    """An edit the job cannot take now; `status` is the HTTP answer, `revision` the job's, for a 409."""

    def __init__(self, status: int, detail: str, revision: int | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.revision = status, detail, revision


@dataclass(frozen=True)
class Stored:
    transcript: Transcript  # labelled (diarization labels)
    log: RevisionLog
    log_found: bool

    @property
    def logged(self) -> int:
        """The last revision in the log (0: none)."""
        return self.log.revisions[-1].number if self.log.revisions else 0

    @property
    def on_file(self) -> int:
        """The revision the stored transcript is at (exports/edits.py revision_of)."""
        return edits.revision_of(self.transcript)


# --- which transcript, which generation -----------------------------------------------------------


def assembled_generation(state: JobState) -> int:
    """The generation whose run made the transcript: the latest one that ran assemble."""
    runs = [(r.generation, r.from_stage) for r in state.history] + [(state.generation, state.run_from)]
    for generation, from_stage in reversed(runs):
        if from_stage not in RERUN or "assemble" in RERUN[from_stage]:  # "ingest": the first run
            return generation
    return 1


def transcript_assembled(state: JobState) -> bool:
    """Whether this run's transcript is made (a replay from assemble or before makes it again)."""
    stage = state.stages.get("assemble")
    return stage.status == "done" if stage is not None else "transcript_json" in state.outputs


def not_editable(state: JobState) -> str | None:
    """Why the job's transcript cannot be edited now, or None: it must be assembled in this run."""
    if transcript_assembled(state):
        return None
    if state.status == "failed":
        return f"job {state.job_id} failed in {state.failed_stage} before its transcript was made"
    return f"the transcript of job {state.job_id} is not ready yet (job is {state.status})"


def aside_key(job_id: str, generation: int) -> str:
    """Where a replay sets aside the edits of generation `generation`'s transcript."""
    return keys.transcript_key(job_id, f"revisions.gen{generation}.json")


# --- reading, reconciling, storing ----------------------------------------------------------------


def _read(storage: Storage, state: JobState) -> Stored:
    job_id = state.job_id
    try:
        transcript = exports.labelled_transcript(storage, job_id)
    except ObjectNotFound as exc:
        removal = removal_of(state, "transcript")
        if removal is not None:
            raise EditRefused(410, f"the transcript of job {job_id} was removed by {removal.rule}") from exc
        raise EditRefused(409, f"the transcript of job {job_id} is not in storage") from exc
    try:
        found = decode_revision_log(storage.get_bytes(keys.transcript_revisions_key(job_id)))
        return Stored(transcript, found, True)
    except ObjectNotFound:
        return Stored(transcript, RevisionLog(generation=assembled_generation(state)), False)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise EditRefused(
            409, f"the revision log of job {job_id} is not valid ({exc}): the edits cannot go on safely"
        ) from exc


def _finish_set_aside(storage: Storage, job_id: str, stale: RevisionLog) -> None:
    """A replay's set-aside that stopped after its compare-and-set: copy (if not yet) and delete."""
    key = aside_key(job_id, stale.generation)
    if not storage.exists(key):
        storage.put_bytes(key, encode(stale), JSON)
    storage.delete_prefix(keys.transcript_revisions_key(job_id))  # exactly that key


async def current(storage: Storage, jobs: JobStore, loaded: JobState) -> tuple[JobState, Stored]:
    """The transcript, its log and the job, read in that order and reconciled (module docstring)."""
    job_id = loaded.job_id
    stored = await asyncio.to_thread(_read, storage, loaded)
    state = await jobs.get(job_id)  # after the storage reads: it knows of any edit they saw
    wanted = assembled_generation(state)
    if stored.log_found and stored.log.generation != wanted:
        await asyncio.to_thread(_finish_set_aside, storage, job_id, stored.log)
        log.warning(
            "job %s: finished setting aside the edits of generation %d", job_id, stored.log.generation
        )
        stored = Stored(stored.transcript, RevisionLog(generation=wanted), False)
    on_file, logged, counted = stored.on_file, stored.logged, state.transcript_revision
    if on_file == logged == counted:
        return state, stored
    if on_file > logged:
        raise EditRefused(
            409,
            f"the transcript of job {job_id} is at revision {on_file} but its revision log ends at "
            f"{logged}: the log was lost or damaged, so its edits cannot be undone; replay the job from "
            "assemble to start again from a new transcript",
            counted,
        )
    taken = state.transcript_revised_at
    if counted > on_file and taken is not None and time.time() - taken < SAVING_S:
        raise EditRefused(
            409, f"revision {counted} of this transcript is being saved: reload it and edit again", counted
        )
    repaired = await _repair(storage, jobs, state, stored)
    return repaired, Stored(stored.transcript, edits.forget_after(stored.log, on_file), stored.log_found)


async def _repair(storage: Storage, jobs: JobStore, state: JobState, stored: Stored) -> JobState:
    """An edit that stopped after taking its number: forget what the transcript never got."""
    job_id, on_file = state.job_id, stored.on_file
    if stored.logged > on_file:
        kept = edits.forget_after(stored.log, on_file)
        await asyncio.to_thread(storage.put_bytes, keys.transcript_revisions_key(job_id), encode(kept), JSON)
    counted, taken = state.transcript_revision, state.transcript_revised_at

    def back(job: JobState) -> bool | None:
        if (job.transcript_revision, job.transcript_revised_at) != (counted, taken):
            return False  # another edit or repair moved it since
        job.transcript_revision = on_file
        return None

    repaired = await jobs.update(job_id, back)
    log.warning(
        "job %s: an interrupted edit left revision %d (log %d), the transcript is at %d: repaired",
        job_id,
        counted,
        stored.logged,
        on_file,
    )
    if repaired.transcript_revision != on_file:
        raise EditRefused(409, "the transcript changed while it was being checked: reload it", counted)
    return repaired


def _store(storage: Storage, job_id: str, new_log: RevisionLog, t: Transcript, names: dict[str, str]) -> None:
    """Steps 5 to 7: the log, then the labelled transcript, then every export."""
    storage.put_bytes(keys.transcript_revisions_key(job_id), encode(new_log), JSON)
    storage.put_bytes(keys.labelled_transcript_key(job_id), encode(t), JSON)
    exports.rewrite_exports(storage, job_id, names, t)


# --- an edit --------------------------------------------------------------------------------------


async def apply(
    storage: Storage, jobs: JobStore, loaded: JobState, revision: int, author: str | None, edit: Edit
) -> tuple[int, Transcript]:
    """Apply one edit made on `revision`; the new revision and the transcript with names. EditRefused."""
    job_id = loaded.job_id
    if (why := not_editable(loaded)) is not None:  # a replay's new transcript: nothing to reconcile yet
        raise EditRefused(409, why, loaded.transcript_revision)
    state, stored = await current(storage, jobs, loaded)
    if (why := not_editable(state)) is not None:
        raise EditRefused(409, why, state.transcript_revision)
    if revision != state.transcript_revision:
        raise EditRefused(
            409,
            f"the transcript is at revision {state.transcript_revision}, not {revision}: "
            "someone else edited it; reload it and edit again",
            state.transcript_revision,
        )
    now, number = time.time(), revision + 1
    try:
        edited, made = edit(stored.transcript, stored.log, Stamp(number, author, now), state)
    except NothingToUndo as exc:
        raise EditRefused(409, str(exc), revision) from exc
    except EditError as exc:
        raise EditRefused(422, str(exc), revision) from exc
    generation = state.generation

    def claim(job: JobState) -> bool | None:
        if job.generation != generation or job.transcript_revision != revision or not_editable(job):
            return False
        job.transcript_revision, job.transcript_revised_at = number, now
        job.outputs["transcript_revisions"] = keys.transcript_revisions_key(job_id)
        return None

    claimed = await jobs.update(job_id, claim)
    if (claimed.transcript_revision, claimed.transcript_revised_at) != (number, now):
        raise EditRefused(
            409,
            f"the transcript changed while this edit was made (now revision {claimed.transcript_revision}, "
            f"or the job was replayed): reload it and edit again",
            claimed.transcript_revision,
        )
    new_log = edits.record(replace(stored.log, generation=assembled_generation(claimed)), made)
    names = dict(claimed.speaker_names)
    await asyncio.to_thread(_store, storage, job_id, new_log, edited, names)
    log.info("job %s: revision %d by %s: %s", job_id, number, author or "-", made.detail)
    return number, transcripts.rename_speakers(edited, names) if names else edited


async def revisions(storage: Storage, state: JobState) -> RevisionList:
    """The log as the API lists it; `note` when it disagrees with the transcript or the job (no repair)."""
    generation = assembled_generation(state)
    if (why := not_editable(state)) is not None:
        return RevisionList(revision=state.transcript_revision, generation=generation, revisions=[], note=why)
    try:
        stored = await asyncio.to_thread(_read, storage, state)
    except EditRefused as exc:
        return RevisionList(
            revision=state.transcript_revision, generation=generation, revisions=[], note=exc.detail
        )
    note = None
    listed = stored.log
    if stored.log_found and stored.log.generation != generation:
        note = (
            f"these edits were made to generation {stored.log.generation}'s transcript, which a replay "
            f"replaced; they are being set aside in {aside_key(state.job_id, stored.log.generation)}"
        )
        listed = RevisionLog(generation=generation)
    elif not stored.on_file == stored.logged == state.transcript_revision:
        note = (
            f"the job is at revision {state.transcript_revision}, the log ends at {stored.logged} and the "
            f"transcript is at {stored.on_file}: an edit was interrupted or is being saved; "
            "the next edit repairs this"
        )
    entries = [
        RevisionEntry(
            number=r.number,
            author=r.author,
            at=r.at,
            action=r.action,
            detail=r.detail,
            undone=r.undone,
            undoes=r.undoes,
        )
        for r in listed.revisions
    ]
    return RevisionList(
        revision=state.transcript_revision, generation=listed.generation, revisions=entries, note=note
    )
