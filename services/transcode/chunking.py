"""Plan where to cut a long recording: near every target length, inside a silence if one is near.

Two planners share the cut machinery. `plan_chunks` sees the whole recording and lets the count follow
from it. `plan_fixed` keeps the cuts made earlier (transcode publishes its first chunks from the
opening of the recording while the rest still decodes, early.py) and a count fixed then from the probed
duration, since chunk 0's event already carried it: the other cuts spread evenly over whatever was
decoded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import msgspec

__all__ = [
    "Chunk",
    "even_cut",
    "even_reach",
    "first_cut",
    "fixed_count",
    "plan_chunks",
    "plan_fixed",
    "short_first",
]

CUT_GRID_S = 0.01  # cuts land on 10 ms (160 samples at 16 kHz): whole microseconds for ffmpeg
LONG_ENOUGH_S = 1.5  # a pause this long is as good a cut as any longer one; prefer nearer
WINDOW = 0.2  # a cut moves up to this share of its chunk's length from its aim to find a pause


class Chunk(msgspec.Struct, frozen=True):
    """One contiguous span [start_s, end_s) of the normalized audio."""

    index: int
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Length of the chunk in seconds."""
        return self.end_s - self.start_s


def _best_silence(silences: Sequence[tuple[float, float]], lo: float, hi: float, aim: float) -> float | None:
    """Centre of the longest silence overlap with [lo, hi] (capped), nearest aim on ties."""
    best: tuple[float, float, float] | None = None  # (-overlap, distance to aim, centre)
    for start, end in silences:
        a, b = max(start, lo), min(end, hi)
        if b <= a:
            continue
        centre = (a + b) / 2
        key = (-min(b - a, LONG_ENOUGH_S), abs(centre - aim), centre)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def _quietest_point(
    quiet_points: Sequence[tuple[float, float]], lo: float, hi: float, aim: float
) -> float | None:
    """Time of the quietest known point in [lo, hi]; ties go to the one nearest aim."""
    inside = [(level, abs(t - aim), t) for t, level in quiet_points if lo <= t <= hi]
    return min(inside)[2] if inside else None


def _snap(t: float, lo: float, hi: float) -> float:
    """Round a cut onto the 10 ms grid without leaving [lo, hi] when the grid allows."""
    snapped = round(round(t / CUT_GRID_S) * CUT_GRID_S, 2)
    if snapped < lo:
        snapped += CUT_GRID_S
    elif snapped > hi:
        snapped -= CUT_GRID_S
    return round(snapped, 2)


def _next_cut(
    start: float,
    duration_s: float,
    silences: Sequence[tuple[float, float]],
    quiet_points: Sequence[tuple[float, float]],
    limits: tuple[float, float, float, float],
) -> float:
    """Choose the cut after start: a silence's centre, else the quietest point, else the aim."""
    target_s, min_s, max_s, window = limits
    aim = start + target_s
    lo = max(start + target_s * (1 - window), start + min_s)
    hi = min(start + target_s * (1 + window), start + max_s, duration_s - min_s)
    if hi < lo:  # the window cannot hold a cut that leaves both sides long enough: halve
        return _snap((start + duration_s) / 2, start + CUT_GRID_S, duration_s - CUT_GRID_S)
    cut = _best_silence(silences, lo, hi, aim)
    if cut is None:
        cut = _quietest_point(quiet_points, lo, hi, aim)
    if cut is None:
        cut = min(max(aim, lo), hi)
    return _snap(cut, lo, hi)


def _first_limits(first_s: float, min_s: float, window: float) -> tuple[float, float, float, float]:
    """The cut window of a short first chunk: about first_s, never longer than first_s * (1 + window)."""
    return (first_s, min(min_s, first_s * 0.25), first_s * (1 + window), window)


def short_first(duration_s: float, target_s: float, first_s: float | None, window: float = WINDOW) -> bool:
    """Whether plan_chunks (default min_s/max_s) gives this recording a short first chunk."""
    return first_s is not None and 0 < first_s < target_s and duration_s > target_s * (1 + window)


def first_cut(
    duration_s: float,
    silences: Sequence[tuple[float, float]],
    first_s: float,
    target_s: float,
    quiet_points: Sequence[tuple[float, float]] = (),
    window: float = WINDOW,
) -> float:
    """Where a short first chunk ends (plan_chunks' first cut, default min_s): it needs audio to
    first_s * (1 + window) only, so it can be chosen from the opening of the recording."""
    limits = _first_limits(first_s, target_s * 0.25, window)
    return _next_cut(0.0, duration_s, sorted(silences), quiet_points, limits)


def fixed_count(duration_s: float, target_s: float, first_s: float, window: float = WINDOW) -> int:
    """How many chunks plan_fixed makes of a recording expected to last duration_s.

    One short first chunk, then the nearest count of target_s chunks for the rest (evenly spread:
    where plan_chunks would leave a short last chunk, these are a little longer), but never so few
    that they outgrow target_s * (1 + window).
    """
    rest = max(duration_s - first_s, 0.0)
    return 1 + max(1, round(rest / target_s), math.ceil(rest / (target_s * (1 + window))))


def even_reach(start: float, duration_s: float, left: int, window: float = WINDOW) -> float:
    """How far even_cut(start, duration_s, left, ...) reads: one even share of what is left, plus the
    window it may move the cut by."""
    return start + (duration_s - start) / left * (1 + window)


def even_cut(
    start: float,
    duration_s: float,
    left: int,
    silences: Sequence[tuple[float, float]],
    quiet_points: Sequence[tuple[float, float]] = (),
    window: float = WINDOW,
) -> float:
    """The next cut of plan_fixed: `left` chunks still to place after start share what is left evenly;
    the cut aims at one share and moves to the best pause within ± window of it (audio up to
    even_reach is all it reads)."""
    step = (duration_s - start) / left
    limits = (step, step * 0.25, even_reach(start, duration_s, left, window) - start, window)
    cut = _next_cut(start, duration_s, silences, quiet_points, limits)
    return max(cut, round(start + CUT_GRID_S, 2))  # always move forward


def plan_fixed(
    duration_s: float,
    silences: Sequence[tuple[float, float]],
    cuts: Sequence[float],
    count: int,
    quiet_points: Sequence[tuple[float, float]] = (),
    window: float = WINDOW,
) -> list[Chunk]:
    """Exactly `count` chunks: those ending at the given cuts (made earlier, while the recording still
    decoded), then the others over the rest, cut inside silences.

    Each cut aims at an even share of what is left (re-spread after every cut, so a cut moved to a
    pause does not push the error onto the last chunk) and moves to the best silence, else the
    quietest point, within ± window of it (even_cut). A recording longer or shorter than expected just
    gets longer or shorter chunks after the given ones.
    """
    if not 0 < len(cuts) < count:
        raise ValueError(f"plan_fixed needs 1 to {count - 1} given cuts of {count} chunks, got {len(cuts)}")
    if any(b <= a for a, b in pairwise([0.0, *cuts, duration_s])):
        raise ValueError(f"given cuts {list(cuts)} are not increasing inside (0, {duration_s})")
    ordered = sorted(silences)
    bounds = [0.0, *cuts]
    for left in range(count - len(cuts), 1, -1):  # chunks still to place after bounds[-1]
        bounds.append(even_cut(bounds[-1], duration_s, left, ordered, quiet_points, window))
    bounds.append(duration_s)
    chunks = [Chunk(i, a, b) for i, (a, b) in enumerate(pairwise(bounds))]
    if any(c.end_s <= c.start_s for c in chunks):
        raise ValueError(
            f"{duration_s - cuts[-1]:.2f} s after the cut at {cuts[-1]:.2f} s cannot hold "
            f"{count - len(cuts)} chunks"
        )
    return chunks


def plan_chunks(
    duration_s: float,
    silences: Sequence[tuple[float, float]],
    target_s: float = 600.0,
    min_s: float | None = None,
    max_s: float | None = None,
    quiet_points: Sequence[tuple[float, float]] = (),
    window: float = WINDOW,
    first_s: float | None = None,
) -> list[Chunk]:
    """Split [0, duration_s] into contiguous chunks of about target_s, cut inside silences.

    With first_s shorter than target_s, the first chunk aims at first_s instead: it is transcribed
    first, so the opening of a long recording is readable within seconds of the transcode.
    """
    min_s = target_s * 0.25 if min_s is None else min_s
    max_s = target_s * (1 + window) if max_s is None else max_s
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if not 0 < min_s <= target_s <= max_s:
        raise ValueError(f"need 0 < min_s <= target_s <= max_s, got {min_s}, {target_s}, {max_s}")
    ordered = sorted(silences)
    limits = (target_s, min_s, max_s, window)
    bounds = [0.0]
    if first_s is not None and first_s < target_s and duration_s > max_s:
        first_limits = _first_limits(first_s, min_s, window)
        bounds.append(_next_cut(0.0, duration_s, ordered, quiet_points, first_limits))
    while duration_s - bounds[-1] > max_s:
        cut = _next_cut(bounds[-1], duration_s, ordered, quiet_points, limits)
        bounds.append(max(cut, round(bounds[-1] + CUT_GRID_S, 2)))  # always move forward
    bounds.append(duration_s)
    return [Chunk(i, a, b) for i, (a, b) in enumerate(pairwise(bounds))]
