"""Live progress: Server-Sent Events fed by the jobs bucket's watch (no polling in the server)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from contracts.state import JobState, encode_state
from services.ingest.access import load_job
from services.ingest.answers import streamed
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

KEEPALIVE_S = 15.0
FINAL = ("completed", "failed")
_DONE = object()


async def _pump(states: AsyncIterator[JobState], queue: asyncio.Queue[object]) -> None:
    try:
        async for state in states:
            await queue.put(state)
    finally:
        await queue.put(_DONE)


async def job_events(request: Request, states: AsyncIterator[JobState]) -> AsyncIterator[bytes]:
    """`event: state` per change; `event: end` once the job is completed, failed or deleted."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=64)
    pump = asyncio.create_task(_pump(states, queue))
    try:
        yield b"retry: 3000\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": keepalive\n\n"
                continue
            if item is _DONE:
                yield b"event: end\ndata: deleted\n\n"
                return
            assert isinstance(item, JobState)
            yield b"event: state\ndata: " + encode_state(item) + b"\n\n"
            if item.status in FINAL:
                yield f"event: end\ndata: {item.status}\n\n".encode()
                return
    finally:
        pump.cancel()
        with contextlib.suppress(BaseException):
            await pump


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses=streamed(
        "text/event-stream",
        "`event: state` with the JobState as data at every change, then `event: end`",
        404,
    ),
)
async def events(job_id: str, request: Request, services: ServicesDep, caller: Caller) -> StreamingResponse:
    """Server-Sent Events: the job's state now and at every change, until it completes or fails."""
    await load_job(services, job_id, caller)
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(
        job_events(request, services.jobs.watch(job_id)), media_type="text/event-stream", headers=headers
    )
