"""A long recording (40,000 words, 5,000 turns) assembles; bench/ measures how fast."""

from __future__ import annotations

import random
from typing import Any

from exports.transcript import to_srt, to_vtt
from services.assemble.speakers import assemble
from services.assemble.tests.build import chunk, raw_word, turn


def long_recording(words: int = 40_000, turns: int = 5_000, seed: int = 7) -> tuple[list[dict], dict]:
    """About 4.5 hours: 40 chunks of words, and turns from 6 speakers, some overlapping."""
    rng = random.Random(seed)
    timeline, t = [], 0.0
    for i in range(words):
        t += rng.uniform(0.02, 0.3) if rng.random() > 0.02 else rng.uniform(1.0, 4.0)
        length = rng.uniform(0.1, 0.5)
        timeline.append(raw_word(round(t, 3), round(t + length, 3), f" w{i}" + ("." if i % 17 == 16 else "")))
        t += length
    duration_s = t + 1.0
    per_chunk = words // 40
    chunks: list[dict[str, Any]] = []
    for index in range(40):
        part = timeline[index * per_chunk : (index + 1) * per_chunk]
        end_s = duration_s if index == 39 else part[-1]["end"] + 0.01
        start_s = chunks[-1]["end_s"] if chunks else 0.0
        chunks.append(chunk(index, start_s, end_s, part))
    step = duration_s / turns
    spans: list[dict[str, Any]] = [
        turn(
            round(i * step, 3),
            round((i + 1) * step + rng.uniform(-0.5, 0.8), 3),
            f"SPEAKER_{rng.randrange(6):02d}",
        )
        for i in range(turns)
    ]
    return chunks, {"speakers": sorted({s["speaker"] for s in spans}), "turns": spans}


def test_a_long_recording_assembles() -> None:
    chunks, diarization = long_recording()
    transcript = assemble(chunks, diarization)
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) == 40_000
    assert all(w.speaker is not None for w in words)
    assert transcript.speakers == [f"SPEAKER_{i}" for i in range(1, 7)]
    assert all(s.end - s.start <= 30.0 for s in transcript.segments)
    assert to_srt(transcript).count(" --> ") >= len(transcript.segments)
    assert to_vtt(transcript).count(" --> ") >= len(transcript.segments)
