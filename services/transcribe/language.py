"""Spoken-language detection from speech, not from the first 30 s (which may be a jingle or silence)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from services.transcribe.speech import silence_threshold

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16000
WINDOW_S = 30.0  # Whisper's input length: one encoder pass per window
MIN_SPEECH_S = 1.0  # less speech than this gives no usable vote


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    probability: float | None  # summed probability over the windows / their count; None: not detected
    windows: int
    speech_s: float


def speech_only(audio: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The audio's speech, VAD-detected and concatenated (silence, music and tones removed)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        min_speech_duration_ms=250, threshold=threshold, neg_threshold=silence_threshold(threshold)
    )
    spans = get_speech_timestamps(audio, options)
    if not spans:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([audio[span["start"] : span["end"]] for span in spans])


def speech_windows(speech: np.ndarray, max_windows: int) -> list[np.ndarray]:
    """Up to `max_windows` 30 s windows spread evenly over the speech, each one encoder pass."""
    window = int(WINDOW_S * SAMPLE_RATE)
    if len(speech) <= window:
        return [speech]
    count = min(max_windows, math.ceil(len(speech) / window))
    last_start = len(speech) - window
    starts = [round(k * last_start / max(count - 1, 1)) for k in range(count)]
    return [speech[start : start + window] for start in starts]


def detect_language(
    model: WhisperModel,
    audio: np.ndarray,
    max_windows: int = 5,
    among: tuple[str, ...] = (),
    vad_threshold: float = 0.5,
) -> LanguageGuess | None:
    """Vote over speech windows by summed probability; None when the audio holds no speech.

    `among` limits the choice to the languages a deployment expects (empty: any); the probability
    stays the model's own, so a clip that sounds like none of them still reads as unsure.
    """
    speech = speech_only(audio, vad_threshold)
    speech_s = len(speech) / SAMPLE_RATE
    if speech_s < MIN_SPEECH_S:
        return None
    if not model.model.is_multilingual:  # an English-only model has no language tokens to ask
        return LanguageGuess(language="en", probability=None, windows=0, speech_s=speech_s)
    totals: dict[str, float] = defaultdict(float)
    windows = speech_windows(speech, max_windows)
    for window in windows:
        _, _, all_probs = model.detect_language(audio=window)
        for language, probability in all_probs:
            totals[language] += probability
    candidates = [code for code in totals if code in among] if among else list(totals)
    language = max(candidates or totals, key=lambda code: totals[code])
    return LanguageGuess(
        language=language,
        probability=totals[language] / len(windows),
        windows=len(windows),
        speech_s=speech_s,
    )
