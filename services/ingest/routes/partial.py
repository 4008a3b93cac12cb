"""The transcript so far: chunks merged as they are transcribed, readable while the job runs."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter
from fastapi.responses import Response

from contracts import keys
from contracts.api import PartialTranscript, PartialWord
from contracts.artifacts import ChunkTranscript, decode_chunk_transcript, join_words
from exports.merge import merge_chunks
from runtime.storage.base import ObjectNotFound, Storage
from services.ingest import exports
from services.ingest.access import load_job
from services.ingest.answers import answers, reply
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep
from services.ingest.edits import transcript_assembled

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _read_chunks(storage: Storage, job_id: str, indices: list[int]) -> list[ChunkTranscript]:
    chunks = []
    for index in indices:
        key = keys.chunk_transcript_key(job_id, index)
        try:
            chunks.append(decode_chunk_transcript(storage.get_bytes(key)))
        except ObjectNotFound:
            continue  # recorded but not visible yet on an eventually consistent store
    return chunks


@router.get("/{job_id}/partial-transcript", responses=answers(PartialTranscript, 404))
async def partial_transcript(job_id: str, services: ServicesDep, caller: Caller) -> Response:
    """Words of the chunks transcribed so far (no speakers yet), with times in the recording.

    Once the transcript is assembled, its words: edits people made to it show here too.
    """
    state = await load_job(services, job_id, caller)
    chunks = await asyncio.to_thread(_read_chunks, services.storage, job_id, sorted(state.chunks_done))
    words = merge_chunks(chunks)
    if transcript_assembled(state):
        with contextlib.suppress(ObjectNotFound):
            t = await asyncio.to_thread(exports.labelled_transcript, services.storage, job_id)
            words = [w for segment in t.segments for w in segment.words]
    partial = PartialTranscript(
        job_id=job_id,
        chunks_done=len(chunks),
        chunks_total=state.chunks_total,
        language=state.language,
        text=join_words(words).strip(),
        words=[PartialWord(start=w.start, end=w.end, text=w.text) for w in words],
    )
    return reply(partial)
