"""A chunk's speech as Whisper windows: VAD spans joined into windows of at most 30 s of speech.

This is the cut faster-whisper's batched pipeline makes itself (the silence between spans is left
out of the window), done here so that each window can be decoded again on its own and every
timestamp mapped back onto the chunk's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
WINDOW_S = 30.0
MIN_SILENCE_MS = 160  # faster-whisper's batched default
VAD_THRESHOLD = 0.5  # Silero's speech probability; lower hears quieter, far-field speech
QUIET_VAD_THRESHOLD = 0.15  # the second listen to a chunk that seemed silent


@dataclass(frozen=True)
class Window:
    audio: np.ndarray
    offset_s: float  # where the window starts on the stitched (speech-only) clock
    spans: list[dict[str, int]]  # the VAD spans it holds, in samples of the chunk


@dataclass(frozen=True)
class SpeechPlan:
    windows: list[Window]
    spans: list[dict[str, int]]
    timestamps: Any  # faster_whisper.vad.SpeechTimestampsMap

    @property
    def speech_s(self) -> float:
        return sum(span["end"] - span["start"] for span in self.spans) / SAMPLE_RATE

    @property
    def stitched(self) -> np.ndarray:
        """The windows back to back: the audio the batched pipeline decodes."""
        return np.concatenate([w.audio for w in self.windows])

    def clips(self) -> list[dict[str, float]]:
        """Each window's (start, end) in seconds of the stitched audio."""
        return [{"start": w.offset_s, "end": w.offset_s + len(w.audio) / SAMPLE_RATE} for w in self.windows]

    def original_span(self, index: int) -> tuple[float, float]:
        """Where a window's speech starts and ends on the chunk's clock."""
        spans = self.windows[index].spans
        return spans[0]["start"] / SAMPLE_RATE, spans[-1]["end"] / SAMPLE_RATE

    def restore(self, segment: dict[str, Any]) -> dict[str, Any]:
        """A segment on the stitched clock moved onto the chunk's clock (each word within one span)."""
        words = []
        for word in segment["words"]:
            span = self.timestamps.get_chunk_index((word["start"] + word["end"]) / 2)
            words.append(
                {
                    **word,
                    "start": self.timestamps.get_original_time(word["start"], span),
                    "end": self.timestamps.get_original_time(word["end"], span),
                }
            )
        if words:
            start, end = words[0]["start"], words[-1]["end"]
        else:
            start = self.timestamps.get_original_time(segment["start"])
            end = self.timestamps.get_original_time(segment["end"], is_end=True)
        return {**segment, "start": start, "end": end, "words": words}


def silence_threshold(threshold: float) -> float:
    """Silero's end-of-speech threshold for a speech threshold, as faster-whisper derives it."""
    return max(0.01, threshold - 0.15)


def plan_windows(audio: np.ndarray, threshold: float = VAD_THRESHOLD) -> SpeechPlan:
    """The chunk's speech windows; none when VAD finds no speech."""
    from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=threshold,
        neg_threshold=silence_threshold(threshold),
        max_speech_duration_s=WINDOW_S,
        min_silence_duration_ms=MIN_SILENCE_MS,
    )
    spans = get_speech_timestamps(audio, options)
    if not spans:
        return SpeechPlan([], [], None)
    groups: list[list[dict[str, int]]] = [[]]
    held = 0  # samples of speech in the current window
    for span in spans:
        length = span["end"] - span["start"]
        if groups[-1] and held + length > WINDOW_S * SAMPLE_RATE:
            groups.append([])
            held = 0
        groups[-1].append(span)
        held += length
    windows, offset = [], 0
    for group in groups:
        piece = np.concatenate([audio[span["start"] : span["end"]] for span in group])
        windows.append(Window(audio=piece, offset_s=offset / SAMPLE_RATE, spans=group))
        offset += len(piece)
    return SpeechPlan(windows, spans, SpeechTimestampsMap(spans, SAMPLE_RATE))
