"""probe() on good uploads, and the reason a person reads for each bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.transcode.errors import MediaError
from services.transcode.probe import format_hours, probe


def reason_for(path: Path, **kwargs: float) -> str:
    """Probe an upload that must be refused and return the reason."""
    with pytest.raises(MediaError) as refused:
        probe(path, **kwargs)
    return refused.value.reason


def test_mp3_facts(audio_dir: Path, two_voices_truth: dict) -> None:
    info = probe(audio_dir / "en_two_voices.mp3")
    assert info.has_audio and info.codec == "mp3" and info.format_name == "mp3"
    assert (info.sample_rate, info.channels) == (44100, 2)
    assert info.bit_rate == 128000
    assert info.duration_s == pytest.approx(two_voices_truth["duration_s"], abs=0.1)


def test_wav_and_video_with_audio(audio_dir: Path) -> None:
    assert probe(audio_dir / "en_short.wav").codec == "pcm_s16le"
    video = probe(audio_dir / "video_with_audio.mp4")
    assert video.codec == "aac" and video.duration_s == pytest.approx(3.0, abs=0.1)


def test_empty_upload(audio_dir: Path) -> None:
    assert reason_for(audio_dir / "empty.mp3") == "upload is empty: 0 bytes"


@pytest.mark.parametrize("name", ["not_audio.txt", "corrupt_header.mp3"])
def test_unreadable_upload(audio_dir: Path, name: str) -> None:
    reason = reason_for(audio_dir / name)
    assert reason.startswith("upload is not a readable audio or video file: ")
    assert " @ 0x" not in reason and str(audio_dir) not in reason


def test_video_without_audio(audio_dir: Path) -> None:
    reason = reason_for(audio_dir / "video_no_audio.mp4")
    assert reason == "upload is not audio: ffprobe found no audio stream"


def test_too_long(audio_dir: Path) -> None:
    reason = reason_for(audio_dir / "en_two_voices.mp3", max_duration_s=20.0)
    assert reason.startswith("recording is 0 h 00 min long; the limit is 0 h 00 min")
    assert "AODIO_TRANSCODE_MAX_DURATION_S" in reason


def test_format_hours() -> None:
    assert format_hours(36_120) == "10 h 02 min"
    assert format_hours(8 * 3600) == "8 h 00 min"
    assert format_hours(15_300) == "4 h 15 min"
