"""Editing the transcript: one edit at a time, each made on a revision the job must still be at.

The storage, the numbering and the crash order are services/ingest/edits.py; the edits themselves
exports/edits.py. Bodies are msgspec structs (contracts/api.py), decoded here, so /docs, the web page
and the API read one definition.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from contracts.api import (
    RevisionConflict,
    RevisionList,
    SegmentEdit,
    SegmentsPatch,
    TranscriptEdited,
    UndoRequest,
)
from contracts.artifacts import RevisionLog, Transcript
from contracts.state import JobState
from exports import edits
from exports.edits import Stamp
from services.ingest import edits as stored_edits
from services.ingest.access import load_job
from services.ingest.answers import JSON, answers, reply
from services.ingest.auth import Caller
from services.ingest.deps import Services, ServicesDep
from services.ingest.edits import Edit, EditRefused

router = APIRouter(prefix="/v1/jobs", tags=["edits"])

_patch = msgspec.json.Decoder(SegmentsPatch)
_undo = msgspec.json.Decoder(UndoRequest)


def _body(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """openapi_extra for a JSON body that is one of contracts/api.py's structs."""
    schema = {"$ref": f"#/components/schemas/{struct.__name__}"}
    return {"requestBody": {"required": True, "content": {JSON: {"schema": schema}}}}


async def _decoded(request: Request, decoder: msgspec.json.Decoder[Any]) -> Any:
    try:
        return decoder.decode(await request.body())
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise HTTPException(422, f"the request is not valid: {exc}") from exc


def _refused(exc: EditRefused) -> Response:
    """A 409 carries the job's revision (RevisionConflict); other refusals are plain details."""
    if exc.status == 409 and exc.revision is not None:
        return reply(RevisionConflict(detail=exc.detail, revision=exc.revision), status=409)
    raise HTTPException(exc.status, exc.detail) from exc


def _label(speaker: str, job: JobState) -> str:
    """A label, "new", or a name the job gave a label (the web page shows names)."""
    by_name = {name: label for label, name in job.speaker_names.items()}
    return by_name.get(speaker, speaker)


def operation(edit: SegmentEdit) -> Edit:
    """The pure edit (exports/edits.py) a request asks for; 422 when a field it needs is missing."""

    def need(name: str, value: Any) -> Any:
        if value is None:
            raise HTTPException(422, f"op {edit.op!r} needs {name!r}")
        return value

    i = edit.segment
    if edit.op == "text":
        text = need("text", edit.text)
        return lambda t, log, stamp, job: edits.replace_text(t, i, text, stamp)
    if edit.op == "word":
        word, text = need("word", edit.word), need("text", edit.text)
        return lambda t, log, stamp, job: edits.correct_word(t, i, word, text, stamp)
    if edit.op == "speaker":
        speaker = need("speaker", edit.speaker)
        return lambda t, log, stamp, job: edits.change_speaker(
            t, i, _label(speaker, job), stamp, known=tuple(job.speaker_names)
        )
    if edit.op == "split":
        word = need("word", edit.word)
        return lambda t, log, stamp, job: edits.split_segment(t, i, word, stamp)
    return lambda t, log, stamp, job: edits.merge_segments(t, i, stamp)


def _undo_edit(t: Transcript, log: RevisionLog, stamp: Stamp, job: JobState) -> Any:
    return edits.undo(t, log, stamp)


async def _saved(
    services: Services, state: JobState, revision: int, caller: str | None, edit: Edit
) -> Response:
    """Apply one edit (or undo) made on `revision`: the new revision and transcript, or why not."""
    try:
        made, transcript = await stored_edits.apply(
            services.storage, services.jobs, state, revision, caller, edit
        )
    except EditRefused as exc:
        return _refused(exc)
    return reply(TranscriptEdited(revision=made, transcript=transcript))


@router.patch(
    "/{job_id}/segments",
    responses=answers(TranscriptEdited, 404, 409, 410, 422),
    openapi_extra=_body(SegmentsPatch),
)
async def edit_segments(job_id: str, request: Request, services: ServicesDep, caller: Caller) -> Response:
    """Edit the transcript (one op) made on `revision`; every export follows. 409: reload and edit again."""
    state = await load_job(services, job_id, caller)
    patch: SegmentsPatch = await _decoded(request, _patch)
    return await _saved(services, state, patch.revision, caller, operation(patch.edits[0]))


@router.post(
    "/{job_id}/revisions/undo",
    responses=answers(TranscriptEdited, 404, 409, 410, 422),
    openapi_extra=_body(UndoRequest),
)
async def undo(job_id: str, request: Request, services: ServicesDep, caller: Caller) -> Response:
    """Take back the latest edit not undone yet (the undo is a revision too, made on `revision`)."""
    state = await load_job(services, job_id, caller)
    asked: UndoRequest = await _decoded(request, _undo)
    return await _saved(services, state, asked.revision, caller, _undo_edit)


@router.get("/{job_id}/revisions", responses=answers(RevisionList, 404))
async def revisions(job_id: str, services: ServicesDep, caller: Caller) -> Response:
    """Every edit of the transcript, oldest first: who, when, what, and whether it was undone."""
    state = await load_job(services, job_id, caller)
    return reply(await stored_edits.revisions(services.storage, state))
