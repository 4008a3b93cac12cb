"""plan_fixed(), even_cut(), fixed_count(): the count fixed from the probe, given cuts kept, pauses."""

from __future__ import annotations

import random

import pytest

from services.transcode.chunking import (
    Chunk,
    even_cut,
    first_cut,
    fixed_count,
    plan_chunks,
    plan_fixed,
    short_first,
)
from services.transcode.tests.test_chunking import assert_exact_cover, random_silences


def test_count_on_the_bench_recording() -> None:
    # 4 h 15 at 600 s after a 90 s first chunk: 25 chunks of about 608 s, plus the first
    assert fixed_count(15_300.0, 600.0, 90.0) == 26
    chunks = plan_fixed(15_300.0, [], [90.0], 26)
    assert all(600.0 <= c.duration_s <= 615.0 for c in chunks[1:])
    # where plan_chunks, greedy, makes 25 of 600 s and a 210 s tail
    assert len(plan_chunks(15_300.0, [], target_s=600.0, first_s=90.0)) == 27


def test_count_keeps_chunks_within_the_longest_chunk() -> None:
    # 1.3 targets after the first chunk: rounding says 1 chunk (780 s), over the 720 s limit: 2
    assert fixed_count(90.0 + 780.0, 600.0, 90.0) == 3
    assert fixed_count(90.0 + 700.0, 600.0, 90.0) == 2
    assert fixed_count(721.0, 600.0, 90.0) == 2


@pytest.mark.parametrize(
    ("duration_s", "target_s", "first_s", "expected"),
    [
        (721.0, 600.0, 90.0, True),
        (720.0, 600.0, 90.0, False),  # one chunk: nothing to read sooner
        (5000.0, 600.0, 0.0, False),  # first_chunk_s 0: like the others
        (5000.0, 60.0, 90.0, False),  # a first chunk no shorter than the others is ignored
        (5000.0, 600.0, None, False),
    ],
)
def test_short_first_is_plan_chunks_own_condition(
    duration_s: float, target_s: float, first_s: float | None, expected: bool
) -> None:
    assert short_first(duration_s, target_s, first_s) is expected
    with_first = plan_chunks(duration_s, [], target_s=target_s, first_s=first_s or None)
    assert (with_first != plan_chunks(duration_s, [], target_s=target_s)) is expected


def test_first_cut_is_plan_chunks_first_cut() -> None:
    rng = random.Random(7)
    for _ in range(50):
        duration_s = rng.uniform(800, 16_000)
        silences = random_silences(rng, duration_s)
        expected = plan_chunks(duration_s, silences, target_s=600.0, first_s=90.0)[0].end_s
        # only the opening matters: the silences up to 108 s give the same cut
        opening = [(a, b) for a, b in silences if a < 111.0]
        assert first_cut(duration_s, opening, 90.0, 600.0) == expected


def test_exactly_count_chunks_cut_in_the_pauses() -> None:
    silences = [(84.0, 85.0), (500.0, 501.0), (1010.0, 1011.0), (1190.0, 1190.6)]
    chunks = plan_fixed(1500.0, silences, [84.5], 4)
    assert_exact_cover(chunks, 1500.0)
    assert chunks[0] == Chunk(0, 0.0, 84.5)
    # shares of what is left, 471.8 s each, each moved to the pause within +-20 %
    assert [c.end_s for c in chunks[1:]] == [500.5, 1010.5, 1500.0]


def test_without_pauses_cuts_spread_evenly() -> None:
    chunks = plan_fixed(1000.0, [], [100.0], 4)
    assert [c.end_s for c in chunks] == [100.0, 400.0, 700.0, 1000.0]


def test_quietest_point_when_there_is_no_pause() -> None:
    quiet = [(t, -30.0) for t in range(0, 1000, 3)] + [(420.0, -60.0)]
    chunks = plan_fixed(1000.0, [], [100.0], 4, quiet_points=quiet)
    assert chunks[1].end_s == 420.0


@pytest.mark.parametrize("actual_s", [900.0, 1500.0, 2200.0, 3600.0])
def test_decoded_length_other_than_probed(actual_s: float) -> None:
    """A recording longer or shorter than ffprobe said keeps its count: its chunks change length."""
    count = fixed_count(1500.0, 600.0, 90.0)
    rng = random.Random(int(actual_s))
    silences = random_silences(rng, actual_s)
    chunks = plan_fixed(actual_s, silences, [88.0], count)
    assert len(chunks) == count
    assert_exact_cover(chunks, actual_s)
    assert chunks[0].end_s == 88.0
    even = (actual_s - 88.0) / (count - 1)
    assert all(0.6 * even <= c.duration_s <= 1.4 * even for c in chunks[1:])


@pytest.mark.parametrize("seed", range(40))
def test_random_recordings(seed: int) -> None:
    rng = random.Random(seed)
    probed_s = rng.uniform(721, 16_000)
    actual_s = probed_s * rng.uniform(0.5, 1.5)
    silences = random_silences(rng, actual_s)
    count = fixed_count(probed_s, 600.0, 90.0)
    cut = first_cut(probed_s, silences, 90.0, 600.0)
    chunks = plan_fixed(actual_s, silences, [cut], count)
    assert len(chunks) == count and chunks[0].end_s == cut
    assert_exact_cover(chunks, actual_s)
    assert plan_fixed(actual_s, list(reversed(silences)), [cut], count) == chunks  # deterministic
    # a cut with a pause within +-20 % of its aim (an even share of what is left) lands in a pause
    for chunk in chunks[1:-1]:
        step = (actual_s - chunk.start_s) / (count - chunk.index)
        lo, hi = chunk.start_s + 0.8 * step, chunk.start_s + 1.2 * step
        if any(a < hi and b > lo for a, b in silences):
            assert any(a - 0.02 <= chunk.end_s <= b + 0.02 for a, b in silences), chunk


def test_several_given_cuts_are_kept_and_the_rest_spread() -> None:
    """Cuts made mid-decode (early.py, even_cut on the probed length) stay; the others share the rest."""
    probed_s, count = 3600.0, fixed_count(3600.0, 600.0, 30.0)
    silences = [(28.0, 29.0), (640.0, 641.0), (1250.0, 1251.0), (2400.0, 2401.0)]
    cuts = [first_cut(probed_s, silences, 30.0, 600.0)]
    for index in (1, 2):
        cuts.append(even_cut(cuts[-1], probed_s, count - index, silences))
    assert cuts == [28.5, 640.5, 1250.5]  # each share of what was left moved to the pause inside +-20 %
    for actual_s in (probed_s, 2600.0, 5000.0):  # the decode said otherwise: only the later chunks change
        chunks = plan_fixed(actual_s, silences, cuts, count)
        assert len(chunks) == count and [c.end_s for c in chunks[:3]] == cuts
        assert_exact_cover(chunks, actual_s)
    # on the probed length, the same plan as if the first cut alone had been given
    assert plan_fixed(probed_s, silences, cuts, count) == plan_fixed(probed_s, silences, cuts[:1], count)


def test_refuses_what_cannot_hold_the_count() -> None:
    with pytest.raises(ValueError, match="1 to 0 given cuts"):
        plan_fixed(1000.0, [], [100.0], 1)
    with pytest.raises(ValueError, match="1 to 2 given cuts"):
        plan_fixed(1000.0, [], [100.0, 200.0, 300.0], 3)
    with pytest.raises(ValueError, match="not increasing"):
        plan_fixed(100.0, [], [100.0], 3)
    with pytest.raises(ValueError, match="not increasing"):
        plan_fixed(1000.0, [], [300.0, 200.0], 4)
    with pytest.raises(ValueError, match="cannot hold"):
        plan_fixed(100.03, [], [100.0], 6)
