"""Results: the transcript and summary in every format, the document, the player's audio, speaker names."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator, Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from contracts import keys
from contracts.api import SpeakerNamesSet
from contracts.artifacts import Summary, Transcript
from contracts.state import JobState
from exports.docx import DocumentInfo
from exports.formats import (
    DOCUMENT_FORMATS,
    SUMMARY_FORMATS,
    TRANSCRIPT_FORMATS,
    render_document,
    render_summary,
    render_transcript,
)
from runtime.retention.rules import removal_of
from runtime.storage.base import IO_CHUNK, ObjectNotFound, Storage
from services.ingest import exports
from services.ingest.access import load_job
from services.ingest.answers import answers, formats_media, reply, streamed
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep

router = APIRouter(prefix="/v1/jobs", tags=["results"])

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_NAME_CHARS = 80


def _format(fmt: str, known: Mapping[str, object], what: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in known:
        raise HTTPException(400, f"unknown {what} format {fmt!r}: use one of {', '.join(known)}")
    return fmt


def _not_ready(state: JobState, what: str) -> HTTPException:
    if state.status == "failed":
        return HTTPException(409, f"job {state.job_id} failed in {state.failed_stage}: {state.error}")
    return HTTPException(409, f"the {what} of job {state.job_id} is not ready yet (job is {state.status})")


def _removed(state: JobState, key: str, what: str) -> HTTPException | None:
    """410 naming the rule, when retention removed the kind of artifact the key names."""
    removal = removal_of(state, keys.artifact_kind(key))
    if removal is None:
        return None
    when = time.strftime("%Y-%m-%d", time.gmtime(removal.at))
    return HTTPException(410, f"the {what} of job {state.job_id} was removed on {when} by {removal.rule}")


def _file_name(state: JobState, suffix: str) -> str:
    stem = keys.safe_file_name(state.original_name, default=state.job_id).rsplit(".", 1)[0] or state.job_id
    return f"{stem}.{suffix}"


def _download_name(state: JobState, suffix: str) -> str:
    """Content-Disposition for a download: the ASCII name, and the original one (accents kept) in UTF-8."""
    base = state.original_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = "".join(c for c in base.rsplit(".", 1)[0] if c.isprintable() and c not in '"\\').strip()
    plain = f'attachment; filename="{_file_name(state, suffix)}"'
    return f"{plain}; filename*=UTF-8''{quote(f'{stem}.{suffix}')}" if stem else plain


def _reply(body: bytes, media_type: str, download: bool, filename: str) -> Response:
    headers = {"content-disposition": f'attachment; filename="{filename}"'} if download else {}
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/{job_id}/transcript",
    responses=answers(Transcript, 400, 404, 409, other_media=formats_media(TRANSCRIPT_FORMATS)),
)
async def transcript(
    job_id: str,
    services: ServicesDep,
    caller: Caller,
    format: str = Query("json", description="json, srt, vtt, txt or md"),
    download: bool = False,
) -> Response:
    """The transcript with speakers (and their names) in one of the export formats."""
    if format.lower().lstrip(".") in DOCUMENT_FORMATS:
        raise HTTPException(
            400,
            f"{format} holds the summary too: use /v1/jobs/{job_id}/document?format={format}"
            f" (transcript formats: {', '.join(TRANSCRIPT_FORMATS)})",
        )
    fmt = _format(format, TRANSCRIPT_FORMATS, "transcript")
    state = await load_job(services, job_id, caller)
    try:
        t = await asyncio.to_thread(exports.transcript, services.storage, job_id, state.speaker_names)
    except ObjectNotFound as exc:
        raise _not_ready(state, "transcript") from exc
    body = await asyncio.to_thread(render_transcript, t, fmt)
    return _reply(body, TRANSCRIPT_FORMATS[fmt][0], download, _file_name(state, fmt))


@router.get(
    "/{job_id}/summary", responses=answers(Summary, 400, 404, 409, other_media=formats_media(SUMMARY_FORMATS))
)
async def summary(
    job_id: str,
    services: ServicesDep,
    caller: Caller,
    format: str = Query("json", description="json or md"),
    download: bool = False,
) -> Response:
    """The summary (decisions, action items, chapters...) as JSON or Markdown."""
    fmt = _format(format, SUMMARY_FORMATS, "summary")
    state = await load_job(services, job_id, caller)
    try:
        s = await asyncio.to_thread(exports.summary, services.storage, job_id, state.speaker_names)
    except ObjectNotFound as exc:
        raise _not_ready(state, "summary") from exc
    body = render_summary(s, fmt)
    return _reply(body, SUMMARY_FORMATS[fmt][0], download, _file_name(state, f"summary.{fmt}"))


@router.get(
    "/{job_id}/document",
    response_class=Response,
    responses=streamed(
        DOCUMENT_FORMATS["docx"][0], "The summary, then the transcript, as a Word document", 400, 404, 409
    ),
)
async def document(
    job_id: str,
    services: ServicesDep,
    caller: Caller,
    format: str = Query("docx", description="docx: the summary then the transcript, for Word or LibreOffice"),
) -> Response:
    """The summary and the transcript in one document to send around, always a download.

    Rendered from the stored transcript and summary with the job's speaker names and edits; before the
    summary is written (or when none was requested) the document has the transcript and says so.
    """
    fmt = _format(format, DOCUMENT_FORMATS, "document")
    state = await load_job(services, job_id, caller)
    try:
        t = await asyncio.to_thread(exports.transcript, services.storage, job_id, state.speaker_names)
    except ObjectNotFound as exc:
        raise _not_ready(state, "transcript") from exc
    try:
        s: Summary | None = await asyncio.to_thread(
            exports.summary, services.storage, job_id, state.speaker_names
        )
    except ObjectNotFound:
        s = None
    info = DocumentInfo(
        name=state.original_name or job_id,
        created_at=state.created_at,
        summary_method=state.options.summary_method,
    )
    body = await asyncio.to_thread(render_document, t, s, info, fmt)
    headers = {"content-disposition": _download_name(state, fmt)}
    return Response(body, media_type=DOCUMENT_FORMATS[fmt][0], headers=headers)


@router.put("/{job_id}/speakers", responses=answers(SpeakerNamesSet, 404, 409, 422))
async def rename_speakers(
    job_id: str,
    services: ServicesDep,
    caller: Caller,
    names: Annotated[dict[str, str], Body(examples=[{"SPEAKER_1": "Alice", "SPEAKER_2": "Bob"}])],
) -> Response:
    """Name the speakers (the whole map); every export, stored ones included, is rewritten."""
    state = await load_job(services, job_id, caller)
    try:
        labelled = await asyncio.to_thread(exports.labelled_transcript, services.storage, job_id)
    except ObjectNotFound as exc:
        raise _not_ready(state, "transcript") from exc
    labels = labelled.speakers
    cleaned = {}
    for label, name in names.items():
        # a label named before an edit moved all its segments keeps its name (an undo brings it back)
        if label not in labels and label not in state.speaker_names:
            raise HTTPException(
                422, f"no speaker {label!r} in this transcript (it has: {', '.join(labels) or 'none'})"
            )
        name = " ".join(name.split())
        if not name or not name.isprintable() or len(name) > MAX_NAME_CHARS:
            raise HTTPException(422, f"name for {label} must be 1-{MAX_NAME_CHARS} printable characters")
        if name != label:
            cleaned[label] = name
    if len(set(cleaned.values())) < len(cleaned):
        raise HTTPException(422, "two speakers cannot have the same name")

    def named(job: JobState) -> None:
        job.speaker_names = dict(cleaned)
        # a speaker renamed by hand is no longer the person a voice profile said (runtime/identities.py)
        job.speaker_identities = {k: v for k, v in job.speaker_identities.items() if cleaned.get(k) == v.name}

    await services.jobs.update(job_id, named)
    await asyncio.to_thread(exports.rewrite_exports, services.storage, job_id, cleaned, labelled)
    return reply(SpeakerNamesSet(speaker_names=cleaned))


@router.get(
    "/{job_id}/audio",
    response_class=StreamingResponse,
    responses=streamed("audio/flac", "The recording", 404, 409, 410, 416)
    | streamed("audio/flac", "The range asked for", status=206),
)
async def audio(job_id: str, request: Request, services: ServicesDep, caller: Caller) -> Response:
    """The normalized recording (16 kHz mono FLAC) for the player; supports Range requests."""
    state = await load_job(services, job_id, caller)
    key = state.outputs.get("normalized_audio", keys.normalized_audio_key(job_id))
    try:
        size = await asyncio.to_thread(services.storage.size, key)
    except ObjectNotFound as exc:
        raise _removed(state, key, "audio") or _not_ready(state, "audio") from exc
    headers = {"accept-ranges": "bytes", "cache-control": "private, max-age=3600"}
    wanted = request.headers.get("range")
    if not wanted:
        headers["content-length"] = str(size)
        return StreamingResponse(_stream(services.storage, key), media_type="audio/flac", headers=headers)
    match = _RANGE.match(wanted.strip())
    start_text, end_text = match.groups() if match else ("", "")
    if not match or (not start_text and not end_text):
        raise HTTPException(416, f"unsupported range {wanted!r}", {"content-range": f"bytes */{size}"})
    if start_text:
        start, end = int(start_text), min(int(end_text) if end_text else size - 1, size - 1)
    else:  # the last N bytes
        start, end = max(0, size - int(end_text)), size - 1
    if start >= size or start > end:
        raise HTTPException(
            416, f"range {wanted!r} is outside the {size} bytes", {"content-range": f"bytes */{size}"}
        )
    headers |= {"content-range": f"bytes {start}-{end}/{size}", "content-length": str(end - start + 1)}
    body = _stream_range(services.storage, key, start, end - start + 1)
    return StreamingResponse(body, status_code=206, media_type="audio/flac", headers=headers)


@router.get(
    "/{job_id}/outputs/{name}",
    response_class=StreamingResponse,
    responses=streamed("application/octet-stream", "The artifact's bytes", 404, 410),
)
async def get_output(job_id: str, name: str, services: ServicesDep, caller: Caller) -> StreamingResponse:
    """Stream one stored artifact by name (the job's `outputs` lists them)."""
    state = await load_job(services, job_id, caller)
    key = state.outputs.get(name)
    if key is None:
        known = ", ".join(sorted(state.outputs)) or "none yet"
        raise HTTPException(404, f"job {job_id} has no output {name!r} (has: {known})")
    try:
        size = await asyncio.to_thread(services.storage.size, key)
    except ObjectNotFound as exc:
        gone = HTTPException(410, f"output {name!r} of job {job_id} is gone from storage")
        raise _removed(state, key, f"output {name!r}") or gone from exc
    filename = key.rsplit("/", 1)[-1]
    headers = {"content-length": str(size), "content-disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(_stream(services.storage, key), headers=headers)


def _stream(storage: Storage, key: str) -> Iterator[bytes]:
    with storage.reader(key) as source:
        while chunk := source.read(IO_CHUNK):
            yield chunk


def _stream_range(storage: Storage, key: str, start: int, length: int) -> Iterator[bytes]:
    with storage.range_reader(key, start, length) as source:
        while chunk := source.read(IO_CHUNK):
            yield chunk
