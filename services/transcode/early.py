"""The first chunks of a long recording, published while the rest of it still decodes.

Normalising a 4 h recording takes over half a minute, yet its first chunk (first_chunk_s, 30 s) needs
only the opening seconds, and the next ones a chunk's length each. normalize hands each stretch over
mid-decode (PrefixHook); EarlyChunks cuts chunk 0 there, then up to early_chunks - 1 more, stores each
and publishes its chunk.planned through the runtime (StageContext.publish): the first transcriber starts
on chunk 0 within seconds, a second one on chunk 1, while the decode goes on.

A chunk.planned carries the job's chunk count, so the count is fixed when chunk 0 goes out, from
ffprobe's duration (chunking.fixed_count). The chunks after chunk 0 aim at even shares of the probed
duration (chunking.even_cut), and only while at least half of it is still to come; once the whole file
is decoded, chunking.plan_fixed spreads the other chunks over what was really decoded, longer or shorter
than ffprobe said.

Deterministic, since a message can be redelivered after chunks went out: each stretch is a fixed number
of samples and each cut depends on the PCM and the probe only, so a second run cuts at the same samples,
writes the same files and publishes the same events, which JetStream drops as duplicates (same
Nats-Msg-Id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts import keys
from contracts.events import ChunkPlanned, JobSubmitted, Lane
from contracts.state import JobState
from runtime.stage import StageContext, wait_on_loop
from services.transcode.chunking import (
    WINDOW,
    Chunk,
    even_cut,
    even_reach,
    first_cut,
    fixed_count,
    short_first,
)
from services.transcode.cutting import chunk_path, to_sample
from services.transcode.normalize import (
    SAMPLE_RATE,
    PrefixHook,
    Span,
    find_silences,
    quiet_points,
    write_flac,
)

__all__ = ["EarlyChunks", "EarlyPlan", "chunk_planned", "early_plan"]

PREFIX_MARGIN_S = 3.0  # audio past a chunk's latest cut, so a pause there is seen whole
LATEST_EARLY = 0.5  # no early cut past half the probed duration: the rest can absorb a wrong probe
UPDATE_TIMEOUT_S = 60.0

JobUpdater = Callable[[Callable[[JobState], bool | None]], None]


@dataclass(frozen=True)
class EarlyPlan:
    """What is fixed before the decode: the chunk count and lane, both from the probed duration, and
    how many chunks may go out mid-decode."""

    probed_s: float
    first_s: float
    target_s: float
    count: int
    lane: Lane
    early: int = 1


def early_plan(
    probed_s: float, target_s: float, first_s: float, long_job_s: float, enabled: bool, early_chunks: int = 1
) -> EarlyPlan | None:
    """The plan when chunks can go early: on, and long enough that plan_chunks makes chunk 0 short."""
    if not enabled or not short_first(probed_s, target_s, first_s or None):
        return None
    lane: Lane = "long" if probed_s > long_job_s else "standard"
    count = fixed_count(probed_s, target_s, first_s)
    return EarlyPlan(probed_s, first_s, target_s, count, lane, max(1, min(early_chunks, count - 1)))


def chunk_planned(event: JobSubmitted, chunk: Chunk, count: int, lane: Lane) -> ChunkPlanned:
    """The chunk.planned event of one chunk of this upload."""
    return ChunkPlanned(
        job_id=event.job_id,
        generation=event.generation,
        lane=lane,
        index=chunk.index,
        count=count,
        start_s=float(chunk.start_s),
        end_s=float(chunk.end_s),
        chunk_key=keys.chunk_audio_key(event.job_id, chunk.index),
        options=event.options,
    )


def job_updater(ctx: StageContext, loop: asyncio.AbstractEventLoop) -> JobUpdater | None:
    """ctx.update_job, blocking, for the handler's thread; None where the runtime gives none."""
    update_job = ctx.update_job
    if update_job is None:
        return None

    def update(mutate: Callable[[JobState], bool | None]) -> None:
        wait_on_loop(update_job(mutate), loop, UPDATE_TIMEOUT_S)

    return update


def _count_known(state: JobState, generation: int, count: int) -> bool | None:
    """Record the chunk count before chunk 0 is out (fan-in and the partial transcript read it)."""
    if state.generation != generation:
        return False
    state.chunks_total = count
    return None


class EarlyChunks:
    """Cuts, stores and publishes the first chunks from the stretches normalize hands over; remembers
    the cuts."""

    def __init__(
        self,
        event: JobSubmitted,
        ctx: StageContext,
        plan: EarlyPlan,
        out_dir: Path,
        update: JobUpdater | None = None,
    ) -> None:
        self.event, self.ctx, self.plan, self.out_dir, self._update = event, ctx, plan, out_dir, update
        self.cuts: list[float] = []  # where each published chunk ends

    @property
    def hook(self) -> PrefixHook:
        """The opening chunk 0 is chosen in: up to its latest cut, plus a margin."""
        return PrefixHook(self.plan.first_s * (1 + WINDOW) + PREFIX_MARGIN_S, self.publish)

    def publish(self, pcm: np.ndarray, levels: np.ndarray, start: int) -> Span | None:
        """Pick the next cut in this stretch, write the chunk sample-exact, store it, publish it; answer
        with the stretch the chunk after it needs, if that one goes early too."""
        assert self.ctx.publish is not None, "early_plan is only used where the runtime publishes"
        plan, job_id, index = self.plan, self.event.job_id, len(self.cuts)
        offset_s = start / SAMPLE_RATE
        # The silences of this stretch alone: its own adaptive threshold, enough for one cut.
        silences = [(a + offset_s, b + offset_s) for a, b in find_silences(levels, pcm.size)]
        quiet = [(t + offset_s, level) for t, level in quiet_points(levels)]
        # plan.probed_s bounds the window as the planners' duration would; the stretch covers it.
        begin = self.cuts[-1] if self.cuts else 0.0
        if index == 0:
            cut = first_cut(plan.probed_s, silences, plan.first_s, plan.target_s, quiet)
        else:
            cut = even_cut(begin, plan.probed_s, plan.count - index, silences, quiet)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        samples = pcm[to_sample(begin) - start : to_sample(cut) - start]
        path = write_flac(samples, chunk_path(self.out_dir, index))
        self.ctx.storage.put_file(keys.chunk_audio_key(job_id, index), path)
        if index == 0 and self._update is not None:
            self._update(lambda state: _count_known(state, self.event.generation, plan.count))
        self.ctx.publish(chunk_planned(self.event, Chunk(index, begin, cut), plan.count, plan.lane))
        self.cuts.append(cut)
        self.ctx.log.info(
            "chunk %d/%d (%.2f-%.2f s) published while decoding; %d chunks planned from the probed %.1f s",
            index + 1,
            plan.count,
            begin,
            cut,
            plan.count,
            plan.probed_s,
        )
        return self._next_span()

    def _next_span(self) -> Span | None:
        """The stretch the next chunk's cut is chosen in, or None: enough went early."""
        plan, index = self.plan, len(self.cuts)
        if index >= plan.early:
            return None
        begin = self.cuts[-1]
        end = even_reach(begin, plan.probed_s, plan.count - index) + PREFIX_MARGIN_S
        return (begin, end) if end <= plan.probed_s * LATEST_EARLY else None
