"""Other ways in: a recording fetched from a URL, and presigned multipart uploads straight to S3."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contracts import keys
from contracts.api import JobAccepted, PresignedPart, UploadStarted
from contracts.state import JobState
from runtime.storage.base import StorageError
from runtime.storage.direct import DirectUploadError, DirectUploads
from runtime.storage.s3 import S3Storage
from services.ingest.access import load_job
from services.ingest.admission import GateDep
from services.ingest.answers import answers, reply
from services.ingest.auth import Caller
from services.ingest.deps import Services, ServicesDep
from services.ingest.fetch import fetch_to_storage
from services.ingest.submit import (
    keeping_nothing_if_refused,
    new_job_id,
    options_from,
    queue_job,
    with_vocabulary,
)

router = APIRouter(tags=["jobs"])


class FromUrl(BaseModel):
    url: str = Field(description="http(s) URL of the recording")
    options: dict[str, Any] = Field(default_factory=dict)


class UploadPlan(BaseModel):
    filename: str = Field(min_length=1, max_length=500)
    size_bytes: int = Field(gt=0)
    options: dict[str, Any] = Field(default_factory=dict)


class UploadedPart(BaseModel):
    part_number: int = Field(ge=1)
    etag: str = Field(min_length=1)


class UploadDone(BaseModel):
    parts: list[UploadedPart] = Field(min_length=1)


@router.post(
    "/v1/jobs/from-url",
    status_code=202,
    responses=answers(JobAccepted, 400, 413, 422, 429, 503, 507, status=202),
)
async def submit_from_url(body: FromUrl, services: ServicesDep, caller: Caller, gate: GateDep) -> Response:
    """Fetch the recording from a URL into storage, then queue the job."""
    options = options_from(body.options)
    job_id = new_job_id()
    settings = services.settings
    # The size is known only once the fetch starts (fetch.py): the disk check before it asks for the
    # room kept free, a disk that fills during it answers 507, and the size is settled after it.
    async with gate.admit(caller, job_id, None) as ticket:
        async with keeping_nothing_if_refused(services, job_id):
            key, name, size = await fetch_to_storage(
                body.url,
                services.storage,
                lambda n: keys.source_key(job_id, n),
                settings.max_upload_bytes,
                settings.fetch_timeout_s,
                services.egress,
            )
            if size == 0:
                raise HTTPException(400, f"the file at {body.url[:200]} is empty: 0 bytes")
            await ticket.settle(size)
        return await queue_job(
            services,
            job_id=job_id,
            source_key=key,
            original_name=name,
            size_bytes=size,
            options=options,
            owner=caller,
        )


def _direct(services: Services) -> DirectUploads:
    storage = services.storage
    if not isinstance(storage, S3Storage):
        raise HTTPException(
            501, "direct uploads need S3 storage (AODIO_STORAGE_BACKEND=s3); send the file to POST /v1/jobs"
        )
    return DirectUploads(storage, services.settings.public_s3_endpoint)


@router.post(
    "/v1/uploads", status_code=201, responses=answers(UploadStarted, 413, 422, 429, 501, 503, status=201)
)
async def start_upload(plan: UploadPlan, services: ServicesDep, caller: Caller, gate: GateDep) -> Response:
    """Plan a presigned multipart upload: PUT each part to its URL, then POST the complete URL."""
    direct = _direct(services)
    settings = services.settings
    if plan.size_bytes > settings.max_upload_bytes:
        raise HTTPException(
            413, f"upload is larger than the limit of {settings.max_upload_bytes / 2**30:.2f} GiB"
        )
    options, warnings = await with_vocabulary(services, options_from(plan.options), caller)
    job_id = new_job_id()
    key = keys.source_key(job_id, plan.filename)
    part_bytes = direct.part_size(plan.size_bytes, settings.upload_part_bytes)
    expires = settings.upload_url_expiry_s
    # The parts go straight to S3, never through a disk of ours: only the limits apply.
    async with gate.admit(caller, job_id, plan.size_bytes, on_disk=False):
        try:
            upload_id, urls = await asyncio.to_thread(direct.start, key, plan.size_bytes, part_bytes, expires)
        except StorageError as exc:
            raise HTTPException(503, f"could not start the upload: {exc}") from exc
        now = time.time()
        await services.jobs.create(
            JobState(
                job_id=job_id,
                status="uploading",
                created_at=now,
                original_name=plan.filename,
                size_bytes=plan.size_bytes,
                options=options,
                outputs={"source": key},
                owner=caller,
                upload_id=upload_id,
                warnings=warnings,
            )
        )
    started = UploadStarted(
        job_id=job_id,
        upload_id=upload_id,
        part_size=part_bytes,
        parts=[PresignedPart(part_number=p.part_number, url=p.url) for p in urls],
        complete_url=f"/v1/uploads/{job_id}/complete",
        expires_s=expires,
    )
    return reply(started, status=201)


@router.post(
    "/v1/uploads/{job_id}/complete",
    status_code=202,
    responses=answers(JobAccepted, 400, 404, 409, 422, 501, 503, status=202),
)
async def complete_upload(
    job_id: str, done: UploadDone, services: ServicesDep, caller: Caller, gate: GateDep
) -> Response:
    """Join the uploaded parts and queue the job."""
    direct = _direct(services)
    state = await load_job(services, job_id, caller)
    if state.status != "uploading" or state.upload_id is None:
        raise HTTPException(409, f"job {job_id} is not waiting for an upload (it is {state.status})")
    key = state.outputs["source"]
    parts = [(p.part_number, p.etag) for p in done.parts]
    try:
        size = await asyncio.to_thread(direct.complete, key, state.upload_id, parts)
    except DirectUploadError as exc:
        raise HTTPException(422, str(exc)) from exc
    except StorageError as exc:
        raise HTTPException(400, f"S3 refused to complete the upload: {exc}") from exc
    if size == 0:
        raise HTTPException(400, "upload is empty: 0 bytes")
    await gate.settle(state.owner, job_id, size)
    return await queue_job(
        services,
        job_id=job_id,
        source_key=key,
        original_name=state.original_name,
        size_bytes=size,
        options=state.options,
        owner=state.owner,
        existing=True,
    )
