"""Transcode: validate an upload, normalise it to 16 kHz mono FLAC, plan and cut chunks at silences.

A long recording's first chunks go out while the rest still decodes (early.py); its other chunks, and
every chunk of a short recording, are published when the handler returns.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from contracts import keys
from contracts.artifacts import ChunkPlan, PlannedChunk, encode
from contracts.events import AudioNormalized, Event, JobSubmitted, Lane, PipelineEvent
from contracts.pipeline import TRANSCODE, rerun_from
from contracts.state import JobState
from runtime.errors import ObjectNotFound, PermanentError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from services.transcode.chunking import Chunk, plan_chunks, plan_fixed
from services.transcode.config import TranscodeSettings
from services.transcode.cutting import cut_chunks
from services.transcode.early import EarlyChunks, chunk_planned, early_plan, job_updater
from services.transcode.errors import MediaError
from services.transcode.normalize import NormalizeResult, normalize
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
        loop = asyncio.get_running_loop()  # where chunk 0's job-state update runs (early.py)
        try:
            return await asyncio.to_thread(self._transcode, event, ctx, loop)  # a MediaError is permanent
        except ObjectNotFound as exc:  # its message names the storage root: say it in the user's terms
            raise PermanentError(
                f"the upload {event.source_key[:200]!r} is not in storage: submit the recording again"
            ) from exc

    def _transcode(self, event: JobSubmitted, ctx: StageContext, loop: asyncio.AbstractEventLoop) -> Outcome:
        job_id, storage = event.job_id, ctx.storage
        target_s = event.options.chunk_seconds or self.settings.chunk_seconds
        ctx.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ctx.scratch_dir, prefix=f"transcode-{job_id}-") as tmp:
            work = Path(tmp)
            normalized = work / "normalized.flac"
            with storage.local_file(event.source_key, work) as source:
                info = probe(source, max_duration_s=self.settings.max_duration_s)
                ctx.log.info("probed %s: %.1f s of %s", event.original_name, info.duration_s, info.codec)
                early = self._early_chunks(event, ctx, loop, info.duration_s, target_s, work / "chunks")
                ctx.progress(0.0, info.duration_s, "s", "decoding")
                result = normalize(
                    source,
                    normalized,
                    expected_duration_s=info.duration_s,
                    progress=lambda done, total: ctx.progress(done, total, "s", "decoding"),
                    prefix=early.hook if early is not None else None,
                )
            chunks, lane, published = self._plan(result, target_s, early, ctx)
            ctx.progress(result.duration_s, result.duration_s, "s", f"cutting {len(chunks)} chunk(s)")
            chunk_files = cut_chunks(normalized, chunks[published:], work / "chunks")
            storage.put_file(keys.normalized_audio_key(job_id), normalized)
            for chunk, path in zip(chunks[published:], chunk_files, strict=True):
                storage.put_file(keys.chunk_audio_key(job_id, chunk.index), path)
            storage.put_bytes(
                keys.chunk_plan_key(job_id),
                _chunk_plan_json(chunks, result.silences),
                "application/json",
            )
        return Outcome(
            events=_events(event, result.duration_s, chunks, lane, published),
            update=lambda state: _record(state, result.duration_s, len(chunks), job_id, lane),
        )

    def _early_chunks(
        self,
        event: JobSubmitted,
        ctx: StageContext,
        loop: asyncio.AbstractEventLoop,
        probed_s: float,
        target_s: float,
        out_dir: Path,
    ) -> EarlyChunks | None:
        """The chunks to publish mid-decode, or None: a short recording, turned off, or no early publish."""
        settings = self.settings
        enabled = settings.early_first_chunk and ctx.publish is not None
        plan = early_plan(
            probed_s, target_s, settings.first_chunk_s, settings.long_job_s, enabled, settings.early_chunks
        )
        return None if plan is None else EarlyChunks(event, ctx, plan, out_dir, job_updater(ctx, loop))

    def _plan(
        self, result: NormalizeResult, target_s: float, early: EarlyChunks | None, ctx: StageContext
    ) -> tuple[list[Chunk], Lane, int]:
        """The chunks, the lane, and how many chunks are already published."""
        if early is not None and early.cuts:
            plan, cuts = early.plan, early.cuts
            if abs(result.duration_s - plan.probed_s) > 1.0:
                ctx.log.info(
                    "decoded %.1f s where ffprobe said %.1f s: the %d chunks announced get %.0f s each",
                    result.duration_s,
                    plan.probed_s,
                    plan.count,
                    (result.duration_s - cuts[-1]) / (plan.count - len(cuts)),
                )
            try:
                chunks = plan_fixed(result.duration_s, result.silences, cuts, plan.count, result.quiet_points)
            except ValueError as exc:  # only a decode far shorter than the probe: the same on a retry
                raise MediaError(
                    f"decoded audio ({result.duration_s:.1f} s) is far shorter than its header says "
                    f"({plan.probed_s:.1f} s): {exc}"
                ) from exc
            return chunks, plan.lane, len(cuts)
        if early is not None:  # decoded audio ended before chunk 0's prefix: nothing went out early
            ctx.log.info("decoded only %.1f s: planning chunks after the decode", result.duration_s)
        chunks = plan_chunks(
            result.duration_s,
            result.silences,
            target_s=target_s,
            quiet_points=result.quiet_points,
            first_s=self.settings.first_chunk_s or None,
        )
        lane: Lane = "long" if result.duration_s > self.settings.long_job_s else "standard"
        return chunks, lane, 0


def _events(
    event: JobSubmitted, duration_s: float, chunks: list[Chunk], lane: Lane, published: int
) -> list[Event]:
    """audio.normalized, then chunk.planned of every chunk not published early."""
    normalized_event = AudioNormalized(
        job_id=event.job_id,
        generation=event.generation,
        lane=lane,
        normalized_key=keys.normalized_audio_key(event.job_id),
        duration_s=duration_s,
        chunk_count=len(chunks),
        options=event.options,
    )
    planned = [chunk_planned(event, chunk, len(chunks), lane) for chunk in chunks[published:]]
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
