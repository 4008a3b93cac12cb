"""Queue a job whose recording is stored: the job state first, then the job.submitted event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator

import msgspec
from fastapi import HTTPException
from fastapi.responses import Response

from contracts import keys
from contracts.api import JobAccepted
from contracts.events import JobSubmitted
from contracts.options import JobOptions, parse_options
from contracts.state import JobState, JobWarning, StageState
from runtime.jobs import JobNotFound
from runtime.publish import publish_event
from runtime.storage.base import StorageFull
from services.ingest.answers import reply
from services.ingest.deps import Services
from services.ingest.glossary import load_glossary, with_glossary
from services.ingest.space import storage_full
from services.ingest.upload import UploadError

log = logging.getLogger(__name__)


def new_job_id() -> str:
    """Sortable by submission time, unguessable: 20261125-093000-1f2e3d4c."""
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(4)


def options_from(raw: object) -> JobOptions:
    """JobOptions from a decoded JSON object; 422 with the reason when they are not valid."""
    try:
        if not isinstance(raw, dict):
            raise ValueError("options must be a JSON object")
        return parse_options(msgspec.json.encode(raw))
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise HTTPException(422, f"bad options: {exc}") from exc


async def with_vocabulary(
    services: Services, options: JobOptions, owner: str | None
) -> tuple[JobOptions, list[JobWarning]]:
    """The options with the key's glossary merged into `vocabulary` (job terms first), and warnings."""
    try:
        glossary = await asyncio.to_thread(load_glossary, services.storage, owner)
    except msgspec.DecodeError as exc:  # a damaged glossary must not stop every submission
        log.warning("glossary of key %r is unreadable, jobs run without it: %s", owner, exc)
        unread = JobWarning(
            stage="ingest",
            code="glossary_unreadable",
            message=f"the API key's glossary could not be read ({exc}): set it again (PUT /v1/glossary)",
        )
        return options, [unread]
    return with_glossary(options, glossary)


async def discard(services: Services, job_id: str) -> None:
    """Remove whatever a refused submission stored."""
    with contextlib.suppress(Exception):
        await asyncio.to_thread(services.storage.delete_prefix, keys.job_prefix(job_id))


@contextlib.asynccontextmanager
async def keeping_nothing_if_refused(services: Services, job_id: str) -> AsyncIterator[None]:
    """Receive an upload inside this: refused (a clear 4xx/507) or abandoned, nothing of it stays stored."""
    try:
        yield
    except UploadError as exc:
        await discard(services, job_id)
        raise HTTPException(exc.status, exc.reason) from exc
    except StorageFull as exc:
        await discard(services, job_id)
        raise storage_full(exc) from exc
    except BaseException:
        await discard(services, job_id)
        raise


async def queue_job(
    services: Services,
    *,
    job_id: str,
    source_key: str,
    original_name: str,
    size_bytes: int,
    options: JobOptions,
    owner: str | None,
    existing: bool = False,
) -> Response:
    """Record the job (or move an uploading one to queued) and publish job.submitted; 202 reply.

    A new job's options get the key's glossary here; an uploading one got it when its upload started.
    """
    now = time.time()
    ingest = StageState(status="done", started_at=now, finished_at=now, done=1, total=1)
    if existing:

        def queued(job: JobState) -> bool | None:
            if job.status != "uploading":
                return False  # completed twice: the first call queued it
            job.status, job.size_bytes, job.stages["ingest"] = "queued", size_bytes, ingest
            job.outputs["source"] = source_key
            return None

        try:
            await services.jobs.update(job_id, queued)
        except JobNotFound as exc:
            raise HTTPException(404, f"unknown job {job_id}") from exc
    else:
        options, warnings = await with_vocabulary(services, options, owner)
        state = JobState(
            job_id=job_id,
            created_at=now,
            original_name=original_name,
            size_bytes=size_bytes,
            options=options,
            stages={"ingest": ingest},
            outputs={"source": source_key},
            owner=owner,
            warnings=warnings,
        )
        await services.jobs.create(state)
    event = JobSubmitted(
        job_id=job_id,
        source_key=source_key,
        original_name=original_name,
        size_bytes=size_bytes,
        options=options,
    )
    try:
        await publish_event(services.nc.jetstream(), services.topology, event)
    except Exception as exc:  # the recording is stored; say so, and let the user retry
        reason = f"could not queue the job (NATS: {exc or type(exc).__name__}); submit it again"

        def failed(job: JobState) -> None:
            job.status, job.error, job.failed_stage = "failed", reason, "ingest"

        with contextlib.suppress(Exception):
            await services.jobs.update(job_id, failed)
        raise HTTPException(503, reason) from exc
    accepted = JobAccepted(
        job_id=job_id, status="queued", size_bytes=size_bytes, status_url=f"/v1/jobs/{job_id}"
    )
    return reply(accepted, status=202)
