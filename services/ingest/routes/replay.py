"""Replay: run a job again from one stage with new options, reusing what came before it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contracts.api import ReplayAccepted
from contracts.state import JobState
from runtime.publish import publish_event
from runtime.replay import REPLAYABLE, ReplayRefused, plan_replay
from services.ingest import replay_edits
from services.ingest.access import load_job
from services.ingest.admission import GateDep
from services.ingest.answers import answers, reply
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep
from services.ingest.people import reidentify

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class Replay(BaseModel):
    from_stage: str = Field(alias="from", description=f"one of {', '.join(REPLAYABLE)}")
    options: dict[str, Any] = Field(default_factory=dict, description="options to change for this run")


@router.post(
    "/{job_id}/replay",
    status_code=202,
    responses=answers(ReplayAccepted, 404, 409, 422, 429, 503, status=202),
)
async def replay(job_id: str, body: Replay, services: ServicesDep, caller: Caller, gate: GateDep) -> Response:
    """Run the job again from a stage (a new generation); earlier runs are kept in `history`."""
    state = await load_job(services, job_id, caller)
    try:
        plan = await asyncio.to_thread(plan_replay, state, body.from_stage, body.options, services.storage)
    except ReplayRefused as exc:
        status = 422 if str(exc).startswith(("cannot replay from", "bad options")) else 409
        raise HTTPException(status, str(exc)) from exc
    # A new transcript (a replay from assemble or before) cannot take the edits: they are set aside.
    aside = await asyncio.to_thread(replay_edits.prepare_set_aside, services.storage, state, plan.from_stage)
    async with gate.admit_replay(caller, job_id, plan.generation):
        updated = await services.jobs.update(
            job_id, lambda job: replay_edits.start_run_setting_aside(job, plan, aside)
        )
        if updated.generation != plan.generation or updated.run_from != plan.from_stage:
            raise HTTPException(
                409,
                f"job {job_id} changed while this replay was planned (another replay started, "
                "retention removed artifacts, or the transcript was edited): replay again",
            )
    await asyncio.to_thread(replay_edits.finish_set_aside, services.storage, job_id, aside)
    if plan.from_stage == "summarize":  # assemble matches voices on every other replay; none runs here
        await reidentify(services, job_id)
    js = services.nc.jetstream()
    try:
        for event in plan.events:
            await publish_event(js, services.topology, event)
    except Exception as exc:
        reason = f"could not queue the replay (NATS: {exc or type(exc).__name__}); replay again"

        def failed(job: JobState) -> bool | None:
            if job.generation != plan.generation:
                return False
            job.status, job.error, job.failed_stage = "failed", reason, body.from_stage
            return None

        with contextlib.suppress(Exception):
            await services.jobs.update(job_id, failed)
        raise HTTPException(503, reason) from exc
    accepted = ReplayAccepted(
        job_id=job_id,
        generation=plan.generation,
        from_stage=plan.from_stage,
        events=len(plan.events),
        status_url=f"/v1/jobs/{job_id}",
    )
    return reply(accepted, status=202)
