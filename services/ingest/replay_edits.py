"""What a replay does with the edits people made to the transcript.

A replay from summarize keeps the transcript, edits and all: the summary is made again from it (the
summarize stage reads the labelled transcript, which is the edited one). A replay from assemble or
before makes a new transcript, which the edits cannot apply to: they are set aside, never silently.

    1. before the replay's compare-and-set: the live log is copied to transcript.revisions.gen<G>.json
    2. the compare-and-set that starts the run also resets transcript_revision to 0 and adds the
       "edits_set_aside" warning (how many, of which generation, where); it is refused when the
       transcript was edited since step 1
    3. the live log is deleted
A crash after 1 leaves a copy and the live log (the replay did not start: harmless). A crash after 2
leaves a live log of an older generation, which the next edit sets aside (services/ingest/edits.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import keys
from contracts.artifacts import decode_revision_log
from contracts.state import JobState, JobWarning
from runtime.replay import RERUN, ReplayPlan, start_run
from runtime.storage.base import ObjectNotFound, Storage
from services.ingest.edits import JSON, aside_key


@dataclass(frozen=True)
class SetAside:
    """The edits a replay sets aside: how many, of which generation, where, and the revision then."""

    revision: int
    count: int = 0
    generation: int = 0
    key: str = ""


def prepare_set_aside(storage: Storage, state: JobState, from_stage: str) -> SetAside | None:
    """Before a replay from `from_stage`: None when it keeps the transcript; else copy the log aside."""
    if "assemble" not in RERUN.get(from_stage, ()):
        return None
    try:
        data = storage.get_bytes(keys.transcript_revisions_key(state.job_id))
    except ObjectNotFound:
        return SetAside(revision=state.transcript_revision)
    stale = decode_revision_log(data)
    if not stale.revisions:
        return SetAside(revision=state.transcript_revision)
    key = aside_key(state.job_id, stale.generation)
    storage.put_bytes(key, data, JSON)
    return SetAside(state.transcript_revision, len(stale.revisions), stale.generation, key)


def start_run_setting_aside(job: JobState, plan: ReplayPlan, aside: SetAside | None) -> bool | None:
    """The replay's compare-and-set (runtime.replay.start_run), which also resets the transcript's
    revision and warns of the edits set aside; False when the transcript was edited since the plan."""
    if aside is not None and job.transcript_revision != aside.revision:
        return False
    if start_run(job, plan) is False:
        return False
    if aside is not None:
        _set_aside(job, aside, plan.from_stage)
    return None


def _set_aside(job: JobState, aside: SetAside, from_stage: str) -> None:
    job.transcript_revision, job.transcript_revised_at = 0, None
    job.outputs.pop("transcript_revisions", None)
    if aside.count:
        job.outputs[f"transcript_revisions_gen{aside.generation}"] = aside.key
        said = (
            f"{aside.count} revision{'s' if aside.count != 1 else ''} of generation {aside.generation}'s "
            f"transcript set aside in {aside.key}: the replay from {from_stage} makes a new transcript, "
            "which those edits cannot apply to"
        )
        earlier = next((w.message for w in job.warnings if w.code == "edits_set_aside"), None)
        message = f"{earlier}; {said}" if earlier and said not in earlier else said
        job.warn(JobWarning(stage="edits", code="edits_set_aside", message=message))


def finish_set_aside(storage: Storage, job_id: str, aside: SetAside | None) -> None:
    """After the replay's compare-and-set: the live log goes (its copy is aside)."""
    if aside is not None and aside.count:
        storage.delete_prefix(keys.transcript_revisions_key(job_id))  # exactly that key
