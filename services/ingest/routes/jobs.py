"""Jobs: submit a recording, list jobs, read one job's state, delete a job and everything it made."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from contracts import keys
from contracts.api import JobAccepted, JobPage, JobSummary
from contracts.state import JobState, encode_state
from runtime.registry import BUILT_STAGES
from runtime.storage.base import StorageFull
from runtime.storage.direct import DirectUploads
from runtime.storage.s3 import S3Storage
from services.ingest.access import load_job, visible_to
from services.ingest.admission import GateDep
from services.ingest.answers import JSON, answers, refusals, reply
from services.ingest.auth import Caller
from services.ingest.deps import Services, ServicesDep
from services.ingest.space import storage_full
from services.ingest.submit import discard, new_job_id, options_from, queue_job
from services.ingest.upload import ReceivedUpload, UploadError, receive_upload

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _options_from_fields(fields: dict[str, str]) -> Any:
    raw = fields.get("options", "").strip() or "{}"
    try:
        merged = msgspec.json.decode(raw.encode())
    except msgspec.DecodeError as exc:
        raise HTTPException(422, f"bad options: not JSON ({exc})") from exc
    if isinstance(merged, dict):
        if fields.get("language", "").strip():
            merged["language"] = fields["language"].strip()
        if fields.get("speakers", "").strip():
            try:
                merged["speakers"] = int(fields["speakers"])
            except ValueError as exc:
                raise HTTPException(
                    422, f"bad options: speakers={fields['speakers']!r} is not a number"
                ) from exc
    return options_from(merged)


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


async def _receive(request: Request, services: Services, job_id: str) -> ReceivedUpload:
    """The upload stored under the job's source key; refusals as HTTP errors (the caller discards)."""
    try:
        upload = await receive_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            services.storage,
            lambda name: keys.source_key(job_id, name),
            services.settings.max_upload_bytes,
        )
    except UploadError as exc:
        raise HTTPException(exc.status, exc.reason) from exc
    except StorageFull as exc:  # the disk filled while it streamed
        raise storage_full(exc) from exc
    if upload.size_bytes == 0:
        raise HTTPException(400, "upload is empty: 0 bytes")
    return upload


@router.post(
    "", status_code=202, responses=answers(JobAccepted, 400, 413, 415, 422, 429, 503, 507, status=202)
)
async def submit_job(request: Request, services: ServicesDep, caller: Caller, gate: GateDep) -> Response:
    """Stream a multipart upload (field 'file', optional 'options' JSON) into storage and queue the job."""
    limit = services.settings.max_upload_bytes
    declared = _declared_length(request)
    if declared is not None and declared > limit + 1024 * 1024:
        raise HTTPException(413, f"upload is larger than the limit of {limit / 2**30:.2f} GiB")
    job_id = new_job_id()
    async with gate.admit(caller, job_id, declared) as ticket:
        try:
            upload = await _receive(request, services, job_id)
            assert upload.file_key is not None and upload.original_name is not None
            options = _options_from_fields(upload.fields)
            await ticket.settle(upload.size_bytes)
        except BaseException:  # refused, or the client went away mid-upload: keep nothing of it
            await discard(services, job_id)
            raise
        return await queue_job(
            services,
            job_id=job_id,
            source_key=upload.file_key,
            original_name=upload.original_name,
            size_bytes=upload.size_bytes,
            options=options,
            owner=caller,
        )


def _progress(state: JobState) -> tuple[float, str | None]:
    """Overall progress over the pipeline's stages (0..1) and the stage running now."""
    if state.status == "completed":
        return 1.0, None
    fractions = [state.stages[s].fraction if s in state.stages else 0.0 for s in BUILT_STAGES]
    running = next(
        (s for s in BUILT_STAGES if s in state.stages and state.stages[s].status == "running"), None
    )
    return sum(fractions) / len(fractions), running


def job_summary(state: JobState) -> JobSummary:
    progress, running = _progress(state)
    return JobSummary(
        job_id=state.job_id,
        status=state.status,
        created_at=state.created_at,
        updated_at=state.updated_at,
        original_name=state.original_name,
        size_bytes=state.size_bytes,
        duration_s=state.duration_s,
        lane=state.lane,
        language=state.language,
        progress=round(progress, 4),
        stage=running,
        failed_stage=state.failed_stage,
        error=state.error,
    )


@router.get("", responses=answers(JobPage))
async def list_jobs(
    services: ServicesDep,
    caller: Caller,
    limit: int = Query(20, ge=1, le=200),
    before: str | None = Query(None, description="the last job id of the previous page"),
) -> Response:
    """Jobs, newest first (ids sort by submission time), a page at a time."""
    ids = sorted((k for k in await services.jobs.keys() if keys.is_valid_job_id(k)), reverse=True)
    if before is not None:
        ids = [k for k in ids if k < before]
    page: list[JobSummary] = []
    position = 0
    while position < len(ids) and len(page) < limit:
        batch = ids[position : position + limit]
        position += len(batch)
        for state in await asyncio.gather(*(services.jobs.find(k) for k in batch)):
            if state is not None and visible_to(state, caller) and len(page) < limit:
                page.append(job_summary(state))
    more = len(page) == limit and ids[-1] < page[-1].job_id
    return reply(JobPage(jobs=page, next_before=page[-1].job_id if more else None))


@router.get("/{job_id}", responses=answers(JobState, 404))
async def get_job(job_id: str, services: ServicesDep, caller: Caller) -> Response:
    """The job's state: status, every stage's progress and timings, errors, outputs."""
    return Response(encode_state(await load_job(services, job_id, caller)), media_type=JSON)


@router.delete("/{job_id}", status_code=204, responses=refusals(404))
async def delete_job(job_id: str, services: ServicesDep, caller: Caller) -> Response:
    """Delete the job and all its artifacts; stages still working on it drop their work."""
    state = await load_job(services, job_id, caller)
    if state.status == "uploading" and state.upload_id and isinstance(services.storage, S3Storage):
        with contextlib.suppress(Exception):  # parts left behind would otherwise cost storage
            await asyncio.to_thread(
                DirectUploads(services.storage).abort, state.outputs["source"], state.upload_id
            )
    await services.jobs.delete(job_id)
    await asyncio.to_thread(services.storage.delete_prefix, keys.job_prefix(job_id))
    return Response(status_code=204)
