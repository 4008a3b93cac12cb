"""Finding a job for a caller: unknown ids and other keys' jobs answer the same 404."""

from __future__ import annotations

from fastapi import HTTPException

from contracts import keys
from contracts.state import JobState
from runtime.jobs import JobNotFound
from services.ingest.deps import Services


def visible_to(state: JobState, caller: str | None) -> bool:
    """Open API (caller None): every job. With keys: only the jobs the caller's key submitted."""
    return caller is None or state.owner == caller


async def load_job(services: Services, job_id: str, caller: str | None) -> JobState:
    if not keys.is_valid_job_id(job_id):
        raise HTTPException(404, f"unknown job: {job_id!r} is not a job id")
    try:
        state = await services.jobs.get(job_id)
    except JobNotFound as exc:
        raise HTTPException(404, f"unknown job {job_id}") from exc
    if not visible_to(state, caller):
        raise HTTPException(404, f"unknown job {job_id}")
    return state
