"""Speech the diarizer heard that has no words in the transcript: a cross-check between two models.

VAD and Whisper can miss quiet or far-field speech that the segmentation model still hears as
someone speaking. Such passages are not invented into words; they are counted, so the job state
can say where the transcript is silent although somebody spoke.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contracts.artifacts import Word
from services.assemble.inputs import TurnLike, speaker_turns

WORD_REACH_S = 0.5  # a turn's speech this close to a word counts as transcribed
MIN_PASSAGE_S = 1.0  # shorter stretches (a breath, a cough, a turn's ragged edge) are not reported


def untranscribed(words: list[Word], turns: Iterable[TurnLike]) -> list[tuple[float, float]]:
    """Stretches of at least MIN_PASSAGE_S covered by some turn and by no word, in time order."""
    speech = _union((t.start, t.end) for t in speaker_turns(turns))
    covered = _union((w.start - WORD_REACH_S, w.end + WORD_REACH_S) for w in words)
    gaps: list[tuple[float, float]] = []
    j = 0
    for start, end in speech:
        cursor = start
        while j < len(covered) and covered[j][1] <= cursor:
            j += 1
        k = j
        while k < len(covered) and covered[k][0] < end:
            if covered[k][0] > cursor:
                gaps.append((cursor, covered[k][0]))
            cursor = max(cursor, covered[k][1])
            k += 1
        if cursor < end:
            gaps.append((cursor, end))
    return [(round(a, 3), round(b, 3)) for a, b in gaps if b - a >= MIN_PASSAGE_S]


def _union(spans: Any) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]
