"""Shared fixtures for the transcode core tests: the committed audio files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AUDIO = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "audio"


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    """Folder of generated fixtures; run scripts/make_fixtures.py if it is missing."""
    if not (AUDIO / "silence.wav").exists():
        pytest.skip("audio fixtures missing: run scripts/make_fixtures.py")
    return AUDIO


@pytest.fixture(scope="session")
def two_voices_truth(audio_dir: Path) -> dict:
    """Ground truth (sentences, speakers, times) of en_two_voices.mp3."""
    return json.loads((audio_dir / "en_two_voices.json").read_text())
