"""Measure the diarize stage on one 16 kHz mono file: wall, CPU s per audio s, peak RSS, DER; prints JSON.

    .venv/bin/python -m bench.diarize AUDIO.flac --rttm TRUTH.rttm [--window-s 300|inf]

DER is pyannote.metrics' with a 0.25 s collar around reference turn boundaries, overlap scored.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from dataclasses import replace
from pathlib import Path

import soundfile
import torch

from services.diarize.clustering import SpeakerBounds
from services.diarize.config import DiarizeSettings
from services.diarize.models import DiarizerCache, ModelNames
from services.diarize.output import rttm_text
from services.diarize.pipeline import diarize_file
from services.diarize.scoring import der, read_rttm

COLLAR_S = 0.25


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
    cache = DiarizerCache(settings.window_tuning(soundfile.info(str(args.audio)).duration), settings.device)
    diarizer = cache.get(ModelNames(settings.segmentation_path(), settings.embedding_path()))
    tuning = settings.global_tuning()
    if args.window_s is not None:
        tuning = replace(tuning, window_s=args.window_s)
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
        found_turns = [(t.start, t.end, t.speaker) for t in found.turns]
        report["der"] = round(der(read_rttm(args.rttm), found_turns, found.duration_s, COLLAR_S), 4)
        report["collar_s"] = COLLAR_S
    print(json.dumps(report))


if __name__ == "__main__":
    main()
