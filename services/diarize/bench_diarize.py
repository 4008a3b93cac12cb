"""Measure the diarize stage on one 16 kHz mono file: wall, CPU s per audio s, peak RSS, DER; prints JSON.

    .venv/bin/python -m services.diarize.bench_diarize AUDIO.flac --rttm TRUTH.rttm [--window-s 300|inf]

DER is pyannote.metrics' with a 0.25 s collar around reference turn boundaries, overlap scored.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from pathlib import Path

import torch

from services.diarize.clustering import SpeakerBounds
from services.diarize.config import DiarizeSettings
from services.diarize.models import DiarizerCache, ModelNames
from services.diarize.output import rttm_text
from services.diarize.pipeline import Diarization, GlobalTuning, diarize_file

COLLAR_S = 0.25


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, speaker) of each SPEAKER line."""
    turns = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append((start, start + duration, fields[7]))
    return turns


def der(truth: list[tuple[float, float, str]], found: Diarization, until_s: float) -> float:
    """Diarization error rate of `found` against `truth` over [0, until_s], collar COLLAR_S."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = Annotation(), Annotation()
    for start, end, speaker in truth:
        if start < until_s:
            reference[Segment(start, min(end, until_s))] = speaker
    for turn in found.turns:
        hypothesis[Segment(turn.start, turn.end)] = turn.speaker
    metric = DiarizationErrorRate(collar=COLLAR_S)
    return float(metric(reference, hypothesis, uem=Segment(0, until_s)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", type=Path)
    parser.add_argument("--rttm", type=Path)
    parser.add_argument("--window-s", type=float, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--speakers", type=int, default=None)
    parser.add_argument("--out-rttm", type=Path, help="also write the turns found here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = DiarizeSettings()
    cache = DiarizerCache(settings.window_tuning())
    diarizer = cache.get(ModelNames(settings.segmentation_path(), settings.embedding_path()))
    tuning = settings.global_tuning()
    if args.window_s is not None:
        tuning = GlobalTuning(args.window_s, tuning.threshold, tuning.min_speaker_s)
    wall, cpu = time.perf_counter(), time.process_time()
    found = diarize_file(args.audio, diarizer, SpeakerBounds(exact=args.speakers), tuning)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    report = {
        "audio": str(args.audio),
        "audio_s": round(found.duration_s, 1),
        "window_s": None if math.isinf(tuning.window_s) else tuning.window_s,
        "windows": found.windows,
        "speakers": len(found.speakers),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "cpu_per_audio_s": round(cpu / max(found.duration_s, 1e-9), 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if args.out_rttm:
        args.out_rttm.write_text(rttm_text(found, args.audio.stem))
    if args.rttm:
        report["der"] = round(der(read_rttm(args.rttm), found, found.duration_s), 4)
        report["collar_s"] = COLLAR_S
    print(json.dumps(report))


if __name__ == "__main__":
    main()
