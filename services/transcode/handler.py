"""Transcode: validate an upload, normalise it to 16 kHz mono FLAC, plan and cut chunks at silences."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from contracts import keys
from contracts.artifacts import ChunkPlan, PlannedChunk, encode
from contracts.events import AudioNormalized, ChunkPlanned, Event, JobSubmitted, Lane, PipelineEvent
from contracts.pipeline import TRANSCODE, rerun_from
from contracts.state import JobState
from runtime.errors import ObjectNotFound, PermanentError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from services.transcode.chunking import Chunk, plan_chunks
from services.transcode.config import TranscodeSettings
from services.transcode.cutting import cut_chunks
from services.transcode.normalize import normalize
from services.transcode.probe import probe

DOWNSTREAM = rerun_from(TRANSCODE.name)[1:]  # the steps a transcoded job goes on to


class TranscodeHandler:
    stage = "transcode"

    def __init__(self, settings: TranscodeSettings) -> None:
        self.settings = settings

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        event = expect_input(TRANSCODE, event)
        if not keys.belongs_to_job(event.source_key, event.job_id):
            # A forged or corrupted event must not read another job's upload, or a path outside storage.
            raise PermanentError(
                f"source_key {event.source_key[:200]!r} is not an upload of job {event.job_id}: refusing it"
            )
        try:
            return await asyncio.to_thread(self._transcode, event, ctx)  # a MediaError is permanent as it is
        except ObjectNotFound as exc:  # its message names the storage root: say it in the user's terms
            raise PermanentError(
                f"the upload {event.source_key[:200]!r} is not in storage: submit the recording again"
            ) from exc

    def _transcode(self, event: JobSubmitted, ctx: StageContext) -> Outcome:
        job_id, storage = event.job_id, ctx.storage
        target_s = event.options.chunk_seconds or self.settings.chunk_seconds
        ctx.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ctx.scratch_dir, prefix=f"transcode-{job_id}-") as tmp:
            work = Path(tmp)
            normalized = work / "normalized.flac"
            with storage.local_file(event.source_key, work) as source:
                info = probe(source, max_duration_s=self.settings.max_duration_s)
                ctx.log.info("probed %s: %.1f s of %s", event.original_name, info.duration_s, info.codec)
                ctx.progress(0.0, info.duration_s, "s", "decoding")
                result = normalize(
                    source,
                    normalized,
                    expected_duration_s=info.duration_s,
                    progress=lambda done, total: ctx.progress(done, total, "s", "decoding"),
                )
            chunks = plan_chunks(
                result.duration_s,
                result.silences,
                target_s=target_s,
                quiet_points=result.quiet_points,
                first_s=self.settings.first_chunk_s or None,
            )
            ctx.progress(result.duration_s, result.duration_s, "s", f"cutting {len(chunks)} chunk(s)")
            chunk_files = cut_chunks(normalized, chunks, work / "chunks")
            storage.put_file(keys.normalized_audio_key(job_id), normalized)
            for chunk, path in zip(chunks, chunk_files, strict=True):
                storage.put_file(keys.chunk_audio_key(job_id, chunk.index), path)
            storage.put_bytes(
                keys.chunk_plan_key(job_id),
                _chunk_plan_json(chunks, result.silences),
                "application/json",
            )
        lane: Lane = "long" if result.duration_s > self.settings.long_job_s else "standard"
        return Outcome(
            events=self._events(event, result.duration_s, chunks, lane),
            update=lambda state: _record(state, result.duration_s, len(chunks), job_id, lane),
        )

    def _events(self, event: JobSubmitted, duration_s: float, chunks: list[Chunk], lane: Lane) -> list[Event]:
        job_id, generation, options = event.job_id, event.generation, event.options
        normalized_event = AudioNormalized(
            job_id=job_id,
            generation=generation,
            lane=lane,
            normalized_key=keys.normalized_audio_key(job_id),
            duration_s=duration_s,
            chunk_count=len(chunks),
            options=options,
        )
        planned = [
            ChunkPlanned(
                job_id=job_id,
                generation=generation,
                lane=lane,
                index=chunk.index,
                count=len(chunks),
                start_s=chunk.start_s,
                end_s=chunk.end_s,
                chunk_key=keys.chunk_audio_key(job_id, chunk.index),
                options=options,
            )
            for chunk in chunks
        ]
        return [normalized_event, *planned]


def _chunk_plan_json(chunks: list[Chunk], silences: list[tuple[float, float]]) -> bytes:
    # float(): the silences and cut points may be numpy scalars, which the encoder refuses
    plan = ChunkPlan(
        chunks=[PlannedChunk(index=c.index, start_s=float(c.start_s), end_s=float(c.end_s)) for c in chunks],
        silences=[(float(round(a, 3)), float(round(b, 3))) for a, b in silences],
    )
    return encode(plan)


def _record(state: JobState, duration_s: float, chunk_count: int, job_id: str, lane: Lane) -> None:
    state.duration_s = duration_s
    state.lane = lane
    state.chunks_total = chunk_count
    state.outputs["normalized_audio"] = keys.normalized_audio_key(job_id)
    state.outputs["chunk_plan"] = keys.chunk_plan_key(job_id)
    for name in DOWNSTREAM:
        state.stage(name)
