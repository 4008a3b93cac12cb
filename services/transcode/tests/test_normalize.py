"""normalize(): one pass to 16 kHz mono FLAC, exact duration, silences where people pause."""

from __future__ import annotations

import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from services.transcode.errors import MediaError
from services.transcode.normalize import find_silences, normalize
from services.transcode.probe import probe


def decoded_samples(flac: Path) -> np.ndarray:
    """Decode a FLAC to int16 samples with ffmpeg, without resampling."""
    argv = ["ffmpeg", "-v", "error", "-i", str(flac), "-f", "s16le", "pipe:1"]
    return np.frombuffer(subprocess.run(argv, capture_output=True, check=True).stdout, np.int16)


def test_two_voices(audio_dir: Path, two_voices_truth: dict, tmp_path: Path) -> None:
    calls: list[tuple[float, float]] = []
    dest = tmp_path / "normalized.flac"
    source = audio_dir / "en_two_voices.mp3"
    result = normalize(source, dest, probe(source).duration_s, lambda d, t: calls.append((d, t)))
    assert result.sample_rate == 16000
    assert result.duration_s == pytest.approx(two_voices_truth["duration_s"], abs=0.06)
    assert decoded_samples(dest).size == round(result.duration_s * 16000)
    assert calls and calls[-1][0] == result.duration_s
    segments = two_voices_truth["segments"]
    for before, after in pairwise(segments):
        gap = (before["end"], after["start"])
        assert any(s < gap[1] and e > gap[0] for s, e in result.silences), f"missed pause {gap}"
    for seg in segments:  # no long silence detected in the middle of a sentence
        inner = (seg["start"] + 0.2, seg["end"] - 0.2)
        assert not any(s > inner[0] and e < inner[1] and e - s > 0.6 for s, e in result.silences)


def test_wav_and_video(audio_dir: Path, tmp_path: Path) -> None:
    short = normalize(audio_dir / "en_short.wav", tmp_path / "a.flac")
    assert short.duration_s == pytest.approx(4.44, abs=0.01)
    video = normalize(audio_dir / "video_with_audio.mp4", tmp_path / "b.flac")
    assert video.duration_s == pytest.approx(3.0, abs=0.1)


def test_digital_silence_is_one_silence(audio_dir: Path, tmp_path: Path) -> None:
    result = normalize(audio_dir / "silence.wav", tmp_path / "s.flac")
    assert result.duration_s == 10.0
    assert result.silences == [(0.0, 10.0)]


def test_truncated_mp3(audio_dir: Path, tmp_path: Path) -> None:
    source = audio_dir / "truncated.mp3"
    with pytest.raises(MediaError, match=r"^upload looks truncated: header says 32\.6 s, only "):
        normalize(source, tmp_path / "t.flac", probe(source).duration_s)


def test_undecodable_input(audio_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"^audio could not be decoded: "):
        normalize(audio_dir / "not_audio.txt", tmp_path / "x.flac")


def test_find_silences_threshold_is_relative() -> None:
    speech, pause = np.full(100, 160, np.uint8), np.full(20, 90, np.uint8)  # -20 and -55 dBFS
    levels = np.concatenate([speech, pause, speech, pause[:5], speech])
    silences = find_silences(levels, levels.size * 480)
    assert silences == [(3.0, 3.6)]  # the 0.15 s dip is too short to count


def test_no_silence_in_nonstop_speech() -> None:
    levels = np.random.default_rng(0).integers(150, 170, 2000).astype(np.uint8)
    assert find_silences(levels, levels.size * 480) == []
