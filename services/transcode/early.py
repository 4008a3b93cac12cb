"""Chunk 0 of a long recording, published while the rest of it still decodes.

Normalising a 4 h recording takes over half a minute, yet its first chunk (first_chunk_s, 90 s) needs
only the opening two minutes. normalize hands them over mid-decode (PrefixHook); FirstChunk cuts
chunk 0 there, stores it and publishes its chunk.planned through the runtime (StageContext.publish),
so transcribe starts on it while the decode goes on.

A chunk.planned carries the job's chunk count, so the count is fixed at that moment, from ffprobe's
duration (chunking.fixed_count); once the whole file is decoded, chunking.plan_fixed spreads the
other chunks over what was really decoded, longer or shorter than ffprobe said.

Deterministic, since a message can be redelivered after chunk 0 went out: the prefix is a fixed number
of samples and the count depends on the probe only, so a second run cuts at the same sample, writes
the same file and publishes the same event, which JetStream drops as a duplicate (same Nats-Msg-Id).
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
from services.transcode.chunking import WINDOW, Chunk, first_cut, fixed_count, short_first
from services.transcode.cutting import chunk_path, to_sample
from services.transcode.normalize import PrefixHook, find_silences, quiet_points, write_flac

__all__ = ["EarlyPlan", "FirstChunk", "chunk_planned", "early_plan"]

PREFIX_MARGIN_S = 3.0  # audio past the latest first cut, so a pause there is seen whole
UPDATE_TIMEOUT_S = 60.0

JobUpdater = Callable[[Callable[[JobState], bool | None]], None]


@dataclass(frozen=True)
class EarlyPlan:
    """What is fixed before the decode: the chunk count and lane, both from the probed duration."""

    probed_s: float
    first_s: float
    target_s: float
    count: int
    lane: Lane


def early_plan(
    probed_s: float, target_s: float, first_s: float, long_job_s: float, enabled: bool
) -> EarlyPlan | None:
    """The plan when chunk 0 can go early: on, and long enough that plan_chunks makes it short."""
    if not enabled or not short_first(probed_s, target_s, first_s or None):
        return None
    lane: Lane = "long" if probed_s > long_job_s else "standard"
    return EarlyPlan(probed_s, first_s, target_s, fixed_count(probed_s, target_s, first_s), lane)


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


class FirstChunk:
    """Cuts, stores and publishes chunk 0 from the prefix normalize hands over; remembers the cut."""

    def __init__(
        self,
        event: JobSubmitted,
        ctx: StageContext,
        plan: EarlyPlan,
        out_dir: Path,
        update: JobUpdater | None = None,
    ) -> None:
        self.event, self.ctx, self.plan, self.out_dir, self._update = event, ctx, plan, out_dir, update
        self.cut_s: float | None = None  # set once chunk 0 is published

    @property
    def hook(self) -> PrefixHook:
        """The prefix chunk 0 is chosen in: up to its latest cut, plus a margin."""
        return PrefixHook(self.plan.first_s * (1 + WINDOW) + PREFIX_MARGIN_S, self.publish)

    def publish(self, pcm: np.ndarray, levels: np.ndarray) -> None:
        """Pick the cut in the prefix, write chunk 0 sample-exact, store it, then publish it."""
        assert self.ctx.publish is not None, "early_plan is only used where the runtime publishes"
        plan, job_id = self.plan, self.event.job_id
        # The silences of the prefix alone: its own adaptive threshold, enough for one cut.
        silences = find_silences(levels, pcm.size)
        # plan.probed_s bounds the window as plan_chunks' duration would; the prefix covers the window.
        cut = first_cut(plan.probed_s, silences, plan.first_s, plan.target_s, quiet_points(levels))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = write_flac(pcm[: to_sample(cut)], chunk_path(self.out_dir, 0))
        self.ctx.storage.put_file(keys.chunk_audio_key(job_id, 0), path)
        if self._update is not None:
            self._update(lambda state: _count_known(state, self.event.generation, plan.count))
        self.ctx.publish(chunk_planned(self.event, Chunk(0, 0.0, cut), plan.count, plan.lane))
        self.cut_s = cut
        self.ctx.log.info(
            "chunk 1/%d (0-%.2f s) published while decoding; %d chunks planned from the probed %.1f s",
            plan.count,
            cut,
            plan.count,
            plan.probed_s,
        )
