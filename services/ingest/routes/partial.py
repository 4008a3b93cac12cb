"""The transcript so far: chunks merged as they are transcribed, readable while the job runs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
from fastapi import APIRouter
from fastapi.responses import Response

from contracts import keys
from runtime.storage.base import ObjectNotFound, Storage
from services.assemble.transcript import join_words, merge_chunks
from services.ingest.access import load_job
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep
from services.ingest.submit import JSON

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _read_chunks(storage: Storage, job_id: str, indices: list[int]) -> list[dict[str, Any]]:
    chunks = []
    for index in indices:
        try:
            chunks.append(json.loads(storage.get_bytes(keys.chunk_transcript_key(job_id, index))))
        except ObjectNotFound:
            continue  # recorded but not visible yet on an eventually consistent store
    return chunks


@router.get("/{job_id}/partial-transcript")
async def partial_transcript(job_id: str, services: ServicesDep, caller: Caller) -> Response:
    """Words of the chunks transcribed so far (no speakers yet), with times in the recording."""
    state = await load_job(services, job_id, caller)
    chunks = await asyncio.to_thread(_read_chunks, services.storage, job_id, sorted(state.chunks_done))
    words = merge_chunks(chunks)
    body = {
        "job_id": job_id,
        "chunks_done": len(chunks),
        "chunks_total": state.chunks_total,
        "language": state.language,
        "text": join_words(words).strip(),
        "words": [{"start": w.start, "end": w.end, "text": w.text} for w in words],
    }
    return Response(msgspec.json.encode(body), media_type=JSON)
