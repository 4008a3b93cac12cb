"""Diarization error rate against reference turns (RTTM), for benchmarks: pyannote.metrics underneath."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

Turn = tuple[float, float, str]  # (start_s, end_s, speaker)


def read_rttm(path: Path) -> list[Turn]:
    """(start, end, speaker) of each SPEAKER line."""
    turns = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append((start, start + duration, fields[7]))
    return turns


def der(truth: Iterable[Turn], found: Iterable[Turn], until_s: float, collar_s: float = 0.0) -> float:
    """Diarization error rate of `found` against `truth` over [0, until_s], overlap scored.

    `collar_s` is pyannote's: that much around each reference boundary is not scored (0: all of it).
    """
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = Annotation(), Annotation()
    for i, (start, end, speaker) in enumerate(truth):
        if start < until_s and end > start:
            reference[Segment(start, min(end, until_s)), i] = speaker
    for i, (start, end, speaker) in enumerate(found):
        if start < until_s and end > start:
            hypothesis[Segment(start, min(end, until_s)), i] = speaker
    metric = DiarizationErrorRate(collar=collar_s)
    return float(metric(reference, hypothesis, uem=Segment(0, until_s)))
