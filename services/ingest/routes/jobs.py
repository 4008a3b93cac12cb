"""Jobs: submit a recording, read a job's state, download what its stages produced."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator

import msgspec
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from contracts import keys
from contracts.events import JobSubmitted, encode
from contracts.options import JobOptions, parse_options
from contracts.state import JobState, StageState, encode_state
from contracts.subjects import message_id
from runtime.jobs import JobNotFound
from runtime.storage.base import IO_CHUNK, ObjectNotFound, Storage
from services.ingest.deps import ServicesDep
from services.ingest.upload import UploadError, receive_upload

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

JSON = "application/json"


def new_job_id() -> str:
    """Sortable by submission time, unguessable: 20261125-093000-1f2e3d4c."""
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(4)


def _options_from_fields(fields: dict[str, str]) -> JobOptions:
    raw = fields.get("options", "").strip() or "{}"
    extra = {name: fields[name] for name in ("language", "speakers") if fields.get(name, "").strip()}
    try:
        merged = msgspec.json.decode(raw.encode())
        if not isinstance(merged, dict):
            raise ValueError("options must be a JSON object")
        if "speakers" in extra:
            extra["speakers"] = int(extra["speakers"])  # type: ignore[assignment]
        return parse_options(msgspec.json.encode({**merged, **extra}))
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise HTTPException(422, f"bad options: {exc}") from exc


@router.post("", status_code=202)
async def submit_job(request: Request, services: ServicesDep) -> Response:
    """Stream a multipart upload (field 'file', optional 'options' JSON) into storage and queue the job."""
    limit = services.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 1024 * 1024:
        raise HTTPException(413, f"upload is larger than the limit of {limit / 2**30:.2f} GiB")
    job_id = new_job_id()
    try:
        upload = await receive_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            services.storage,
            lambda name: keys.source_key(job_id, name),
            limit,
        )
    except UploadError as exc:
        await asyncio.to_thread(services.storage.delete_prefix, keys.job_prefix(job_id))
        raise HTTPException(exc.status, exc.reason) from exc
    except BaseException:  # client went away mid-upload: keep nothing of it
        await asyncio.to_thread(services.storage.delete_prefix, keys.job_prefix(job_id))
        raise
    assert upload.file_key is not None and upload.original_name is not None
    try:
        if upload.size_bytes == 0:
            raise HTTPException(400, "upload is empty: 0 bytes")
        options = _options_from_fields(upload.fields)
    except HTTPException:
        await asyncio.to_thread(services.storage.delete_prefix, keys.job_prefix(job_id))
        raise
    now = time.time()
    state = JobState(
        job_id=job_id,
        created_at=now,
        original_name=upload.original_name,
        size_bytes=upload.size_bytes,
        options=options,
        stages={"ingest": StageState(status="done", started_at=now, finished_at=now, done=1, total=1)},
        outputs={"source": upload.file_key},
    )
    await services.jobs.create(state)
    event = JobSubmitted(
        job_id=job_id,
        source_key=upload.file_key,
        original_name=upload.original_name,
        size_bytes=upload.size_bytes,
        options=options,
    )
    js = services.nc.jetstream()
    try:
        await js.publish(
            services.topology.subject_for(event),
            encode(event),
            headers={"Nats-Msg-Id": message_id(event)},
        )
    except Exception as exc:  # the upload is stored; say so, and let the user retry
        reason = f"could not queue the job (NATS: {exc or type(exc).__name__}); upload again"

        def failed(job: JobState) -> None:
            job.status, job.error, job.failed_stage = "failed", reason, "ingest"

        with contextlib.suppress(Exception):
            await services.jobs.update(job_id, failed)
        raise HTTPException(503, reason) from exc
    body = {
        "job_id": job_id,
        "status": "queued",
        "size_bytes": upload.size_bytes,
        "status_url": f"/v1/jobs/{job_id}",
    }
    return Response(msgspec.json.encode(body), status_code=202, media_type=JSON)


async def _job(services: ServicesDep, job_id: str) -> JobState:
    if not keys.is_valid_job_id(job_id):
        raise HTTPException(404, f"unknown job: {job_id!r} is not a job id")
    try:
        return await services.jobs.get(job_id)
    except JobNotFound as exc:
        raise HTTPException(404, f"unknown job {job_id}") from exc


@router.get("/{job_id}")
async def get_job(job_id: str, services: ServicesDep) -> Response:
    """The job's state: status, every stage's progress and timings, errors, outputs."""
    return Response(encode_state(await _job(services, job_id)), media_type=JSON)


@router.get("/{job_id}/outputs/{name}")
async def get_output(job_id: str, name: str, services: ServicesDep) -> StreamingResponse:
    """Stream one output the job's stages recorded (its names are listed in the job's `outputs`)."""
    state = await _job(services, job_id)
    key = state.outputs.get(name)
    if key is None:
        known = ", ".join(sorted(state.outputs)) or "none yet"
        raise HTTPException(404, f"job {job_id} has no output {name!r} (has: {known})")
    try:
        size = await asyncio.to_thread(services.storage.size, key)
    except ObjectNotFound as exc:
        raise HTTPException(410, f"output {name!r} of job {job_id} is gone from storage") from exc
    filename = key.rsplit("/", 1)[-1]
    headers = {
        "content-length": str(size),
        "content-disposition": f'attachment; filename="{filename}"',
    }
    return StreamingResponse(_stream(services.storage, key), headers=headers)


def _stream(storage: Storage, key: str) -> Iterator[bytes]:
    with storage.reader(key) as source:
        while chunk := source.read(IO_CHUNK):
            yield chunk
