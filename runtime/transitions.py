"""How one stage's work changes a job's state. Pure edits, run under compare-and-set (maybe twice)."""

from __future__ import annotations

import time

from contracts.events import StageProgress
from contracts.state import JobState
from runtime.stage import Outcome


def mark_running(state: JobState, stage_name: str, attempt: int) -> None:
    stage = state.stage(stage_name)
    if stage.status in ("pending", "failed", "not_built"):
        stage.status = "running"
    stage.started_at = stage.started_at or time.time()
    stage.attempts = max(stage.attempts, attempt)
    if state.status == "queued":
        state.status = "running"


def mark_done(
    state: JobState, stage_name: str, generation: int, outcome: Outcome, cpu_s: float
) -> bool | None:
    """Record the stage's outcome; False (skip the write) when a newer run owns the job."""
    if state.generation != generation:
        return False
    stage = state.stage(stage_name)
    stage.cpu_s = (stage.cpu_s or 0.0) + cpu_s
    stage.error = None
    if outcome.update is not None:
        outcome.update(state)
    if outcome.stage_done:
        stage.status = "done"
        stage.finished_at = time.time()
        stage.wall_s = stage.finished_at - (stage.started_at or stage.finished_at)
        stage.done = stage.total = stage.total or 1.0
        stage.eta_s = 0.0
    return None


def mark_failed(
    state: JobState, stage_name: str, generation: int, reason: str, attempts: int, stage_only: bool = False
) -> bool | None:
    """The stage failed for good; so does the job, unless only the stage's own record changes."""
    if state.generation != generation:
        return False
    if not stage_only:
        state.status, state.error, state.failed_stage = "failed", reason, stage_name
    stage = state.stage(stage_name)
    stage.status, stage.error, stage.attempts = "failed", reason, attempts
    stage.finished_at = time.time()
    return None


def note_retry(state: JobState, stage_name: str, attempt: int, delay_s: float, reason: str) -> None:
    state.stage(stage_name).error = f"attempt {attempt} failed, retrying in {delay_s:.0f}s: {reason}"


def apply_progress(state: JobState, report: StageProgress) -> bool | None:
    if state.generation != report.generation:
        return False
    stage = state.stage(report.stage)
    if stage.status in ("done", "failed"):
        return False
    stage.done, stage.total, stage.unit = report.done, report.total, report.unit
    stage.message, stage.eta_s = report.message, report.eta_s
    if report.unit == "chunks":
        # A fan-out stage: replicas report job-level chunk counts from their own (maybe stale) view.
        stage.done = max(report.done, float(len(state.chunks_done)))
        elapsed = time.time() - (stage.started_at or time.time())
        stage.eta_s = (report.total - stage.done) * elapsed / stage.done if stage.done > 0.05 else None
    return None
