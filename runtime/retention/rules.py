"""Which artifacts of one job are due for deletion, and the job-state edit that records a removal.

Pure functions over the job state and a listing: the sweeper does the I/O. "Ended" means completed
or failed; the age of an artifact is counted from the end of the job's latest run, so a replay
restarts the clock for everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.keys import ARTIFACT_KINDS, artifact_kind
from contracts.state import JobState, Removal, StageState
from runtime.retention.config import DAY_S, RetentionSettings
from runtime.storage.base import StoredObject

ENDED = ("completed", "failed")
UPLOAD_KIND = "upload"


def ended_at(state: JobState) -> float:
    """When the job's latest run ended: its last stage's finish, never before the run started."""
    finished = [s.finished_at for s in state.stages.values() if s.finished_at is not None]
    return max([*finished, state.run_started_at or 0.0, state.created_at])


def by_kind(objects: Iterable[StoredObject]) -> dict[str, list[StoredObject]]:
    """A job's objects grouped by artifact kind ("other" for keys no kind names)."""
    grouped: dict[str, list[StoredObject]] = defaultdict(list)
    for obj in objects:
        grouped[artifact_kind(obj.key)].append(obj)
    return dict(grouped)


def due_kinds(
    state: JobState, present: dict[str, list[StoredObject]], settings: RetentionSettings, now: float
) -> list[Removal]:
    """The removals the rules call for now, for the kinds the job still has; none unless it ended."""
    if state.status not in ENDED:
        return []
    age = now - ended_at(state)
    floor = settings.failed_min_days * DAY_S if state.status == "failed" else 0.0
    due = []
    for kind in ARTIFACT_KINDS:
        rule = settings.rule(kind)
        objects = present.get(kind)
        if not objects or rule.after_s is None or age < max(rule.after_s, floor):
            continue
        due.append(
            Removal(
                kind=kind,
                objects=len(objects),
                size_bytes=sum(o.size for o in objects),
                at=now,
                rule=f"{settings.env_name(kind)}={rule.text}",
                generation=state.generation,
            )
        )
    return due


def record_removals(state: JobState, removals: list[Removal], generation: int, status: str) -> bool | None:
    """Compare-and-set edit: add the removals, unless the job moved on (a replay) since it was read.

    Idempotent: a kind already recorded for this generation is not recorded twice (two sweeps, or a
    sweep that died between recording and deleting, then ran again).
    """
    if state.generation != generation or state.status != status:
        return False
    recorded = {(r.kind, r.generation) for r in state.removed}
    new = [r for r in removals if (r.kind, r.generation) not in recorded]
    if not new:
        return False
    state.removed.extend(new)
    return None


@dataclass(frozen=True)
class ExpiredUpload:
    """The edit that ends an upload whose URLs expired long ago: the job fails, saying why."""

    reason: str
    removal: Removal

    def __call__(self, state: JobState) -> bool | None:
        if state.status != "uploading":
            return False  # completed (or deleted) meanwhile
        state.status, state.error, state.failed_stage = "failed", self.reason, "ingest"
        state.stages["ingest"] = StageState(status="failed", error=self.reason, finished_at=self.removal.at)
        state.removed.append(self.removal)
        return None


def upload_expired(state: JobState, expiry_s: float, settings: RetentionSettings, now: float) -> bool:
    """Whether an uploading job is past its URLs' expiry plus the grace: nobody can finish it now."""
    return state.status == "uploading" and now >= state.created_at + expiry_s + settings.upload_grace_s


def expired_upload(
    state: JobState, expiry_s: float, settings: RetentionSettings, now: float, parts: int, size_bytes: int
) -> ExpiredUpload:
    """The edit that fails an expired upload's job, recording the parts that were uploaded."""
    hours = expiry_s / 3600
    reason = (
        f"the upload was not completed: its part URLs expired {hours:g} h after it started and it was "
        "aborted; start a new upload (POST /v1/uploads)"
    )
    removal = Removal(
        kind=UPLOAD_KIND,
        objects=parts,
        size_bytes=size_bytes,
        at=now,
        rule=(
            f"AODIO_INGEST_UPLOAD_URL_EXPIRY_S={expiry_s:g} + "
            f"AODIO_RETENTION_UPLOAD_GRACE_S={settings.upload_grace_s:g}"
        ),
        generation=state.generation,
    )
    return ExpiredUpload(reason, removal)


def removal_of(state: JobState, kind: str) -> Removal | None:
    """The latest record of retention removing a kind of this job's artifacts, if any."""
    return next((r for r in reversed(state.removed) if r.kind == kind), None)
