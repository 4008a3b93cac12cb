"""cut_chunks(): chunk files concatenate back to the normalized audio, sample for sample."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from services.transcode.chunking import Chunk, plan_chunks
from services.transcode.cutting import cut_chunks
from services.transcode.normalize import normalize


def samples(path: Path) -> np.ndarray:
    """Decode an audio file to int16 samples as stored (no resampling)."""
    argv = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "pipe:1"]
    return np.frombuffer(subprocess.run(argv, capture_output=True, check=True).stdout, np.int16)


@pytest.fixture(scope="module")
def normalized(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """en_two_voices normalized to 16 kHz FLAC, and its duration."""
    dest = tmp_path_factory.mktemp("cut") / "normalized.flac"
    return dest, normalize(audio_dir / "en_two_voices.mp3", dest).duration_s


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_chunks_concatenate_exactly(normalized: tuple[Path, float], tmp_path: Path, workers: int) -> None:
    flac, duration_s = normalized
    chunks = plan_chunks(duration_s, [], target_s=5.0, min_s=1.0)
    # Boundaries off the 10 ms grid too: an odd sample and a 1/3 s cut.
    chunks[1] = Chunk(1, chunks[1].start_s, 10.0 + 1 / 3)
    chunks[2] = Chunk(2, 10.0 + 1 / 3, chunks[2].end_s)
    paths = cut_chunks(flac, chunks, tmp_path, workers=workers)
    assert [p.name for p in paths] == [f"{i:05d}.flac" for i in range(len(chunks))]
    whole = samples(flac)
    parts = [samples(p) for p in paths]
    for chunk, part in zip(chunks, parts, strict=True):
        assert part.size == round(chunk.end_s * 16000) - round(chunk.start_s * 16000)
    assert np.array_equal(np.concatenate(parts), whole)


def test_single_chunk(normalized: tuple[Path, float], tmp_path: Path) -> None:
    flac, duration_s = normalized
    (path,) = cut_chunks(flac, [Chunk(0, 0.0, duration_s)], tmp_path)
    assert np.array_equal(samples(path), samples(flac))
