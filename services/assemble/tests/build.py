"""Builders for chunk transcripts and diarization turns in the shapes transcribe and diarize write."""

from __future__ import annotations

from typing import Any

from contracts.artifacts import Word


def raw_word(start: float, end: float, text: str, probability: float = 0.9) -> dict[str, Any]:
    """A word as faster-whisper gives it: text with its leading space."""
    return {"start": start, "end": end, "word": text, "probability": probability}


def chunk(
    index: int, start_s: float, end_s: float, words: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A chunk transcript holding one segment of the given words (none when the list is empty)."""
    segments = []
    if words:
        segments.append(
            {
                "start": words[0]["start"],
                "end": words[-1]["end"],
                "text": "".join(w["word"] for w in words).strip(),
                "avg_logprob": -0.2,
                "no_speech_prob": 0.01,
                "words": words,
            }
        )
    document = {
        "index": index,
        "start_s": start_s,
        "end_s": end_s,
        "language": "en",
        "language_probability": 0.99,
        "model": "base",
        "segments": segments,
    }
    return {**document, **extra}


def sentence(start: float, text: str, step: float = 0.4, length: float = 0.3) -> list[dict[str, Any]]:
    """Raw words of `text`, one every `step` seconds from `start`, each with Whisper's leading space."""
    return [
        raw_word(start + i * step, start + i * step + length, " " + w) for i, w in enumerate(text.split())
    ]


def turn(start: float, end: float, speaker: str) -> dict[str, Any]:
    """One diarization turn."""
    return {"start": start, "end": end, "speaker": speaker}


def word(start: float, end: float, text: str, speaker: str | None = None) -> Word:
    """An assembled word."""
    return Word(start, end, " " + text, 0.9, speaker)
