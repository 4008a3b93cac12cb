"""plan_chunks(): contiguous, exact cover, cuts inside silences near the target, deterministic."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from services.transcode.chunking import Chunk, plan_chunks


def random_silences(rng: random.Random, duration_s: float) -> list[tuple[float, float]]:
    """Pauses of 0.3-3 s between bursts of 1-40 s of 'speech', sometimes none for minutes."""
    silences, t = [], rng.uniform(0, 5)
    while t < duration_s:
        t += rng.uniform(1, 40) if rng.random() > 0.02 else rng.uniform(300, 900)
        length = rng.uniform(0.3, 3.0)
        if t + length < duration_s:
            silences.append((round(t, 3), round(t + length, 3)))
        t += length
    return silences


def assert_exact_cover(chunks: list[Chunk], duration_s: float) -> None:
    """Chunks are numbered, non-empty, contiguous and cover [0, duration_s] exactly."""
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start_s == 0.0 and chunks[-1].end_s == duration_s
    for before, after in pairwise(chunks):
        assert before.end_s == after.start_s
    assert all(c.end_s > c.start_s for c in chunks)


@pytest.mark.parametrize("seed", range(60))
def test_random_recordings(seed: int) -> None:
    rng = random.Random(seed)
    duration_s = rng.choice([rng.uniform(1, 1200), rng.uniform(1200, 16_000)])
    target_s = rng.choice([60.0, 300.0, 600.0])
    silences = random_silences(rng, duration_s)
    chunks = plan_chunks(duration_s, silences, target_s=target_s)
    assert_exact_cover(chunks, duration_s)
    max_s, min_s = target_s * 1.2, target_s * 0.25
    assert all(c.duration_s <= max_s + 1e-6 for c in chunks)
    if duration_s >= min_s:
        assert all(c.duration_s >= min_s - 0.02 for c in chunks)
    assert plan_chunks(duration_s, list(reversed(silences)), target_s=target_s) == chunks
    for chunk in chunks[:-1]:  # each cut falls in a silence whenever the window holds one
        lo, hi = chunk.start_s + 0.8 * target_s, chunk.start_s + 1.2 * target_s
        near = [s for s in silences if s[0] < hi and s[1] > lo]
        if near and hi < duration_s - min_s:
            assert any(s - 0.01 <= chunk.end_s <= e + 0.01 for s, e in near)


def test_cut_at_the_longest_pause_in_the_window() -> None:
    silences = [(500.0, 500.5), (560.0, 563.0), (640.0, 640.4), (900.0, 905.0)]
    chunks = plan_chunks(1500.0, silences, target_s=600.0)
    assert chunks[0] == Chunk(0, 0.0, 561.5)


def test_no_silence_uses_quietest_point_then_target() -> None:
    quiet = [(530.0, -40.0), (610.0, -62.0), (700.0, -50.0)]
    assert plan_chunks(1500.0, [], 600.0, quiet_points=quiet)[0].end_s == 610.0
    assert [c.end_s for c in plan_chunks(1500.0, [])] == [600.0, 1200.0, 1500.0]


def test_short_remainder_merges_into_previous() -> None:
    chunks = plan_chunks(1250.0, [], target_s=600.0)
    assert [c.duration_s for c in chunks] == [600.0, 650.0]
    assert plan_chunks(700.0, [], target_s=600.0) == [Chunk(0, 0.0, 700.0)]


def test_short_recording_is_one_chunk() -> None:
    assert plan_chunks(4.44, [(0.0, 0.3)]) == [Chunk(0, 0.0, 4.44)]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        plan_chunks(0.0, [])
    with pytest.raises(ValueError):
        plan_chunks(100.0, [], target_s=60.0, min_s=90.0)


def test_a_short_first_chunk_then_chunks_of_the_target() -> None:
    silences = [(85.0, 86.0), (700.0, 701.0)]
    chunks = plan_chunks(3000.0, silences, target_s=600.0, first_s=90.0)
    assert chunks[0] == Chunk(0, 0.0, 85.5)  # the pause nearest 90 s, inside 72-108 s
    assert chunks[1].end_s == 700.5  # then about 600 s, at the next pause
    assert all(c.duration_s >= 480.0 for c in chunks[1:])


@pytest.mark.parametrize("seed", range(30))
def test_random_recordings_with_a_short_first_chunk(seed: int) -> None:
    rng = random.Random(seed)
    duration_s = rng.uniform(1, 16_000)
    silences = random_silences(rng, duration_s)
    chunks = plan_chunks(duration_s, silences, target_s=600.0, first_s=90.0)
    assert_exact_cover(chunks, duration_s)
    assert all(c.duration_s <= 720.0 + 1e-6 for c in chunks)
    if duration_s > 720.0:
        assert 72.0 - 0.02 <= chunks[0].duration_s <= 108.0 + 1e-6
        assert all(c.duration_s >= 150.0 - 0.02 for c in chunks[1:])
    else:  # one chunk: nothing to read sooner
        assert chunks == [Chunk(0, 0.0, duration_s)]


def test_first_chunk_no_longer_than_the_target_is_ignored() -> None:
    assert plan_chunks(1500.0, [], target_s=60.0, first_s=90.0) == plan_chunks(1500.0, [], target_s=60.0)
