"""Time the transcode core (probe, normalize, plan_chunks, cut_chunks) on one file; print JSON.

.venv/bin/python bench/transcode_core.py bench/audio/long_4h15.mp3
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.transcode.chunking import plan_chunks
from services.transcode.cutting import cut_chunks
from services.transcode.normalize import normalize
from services.transcode.probe import probe


def children_cpu_s() -> float:
    """CPU seconds (user + system) of finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Run each step once and print wall and CPU seconds, peak RSS and real-time factor."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("--target", type=float, default=600.0, help="chunk target seconds")
    parser.add_argument("--workers", type=int, default=2, help="parallel cutting processes")
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    steps: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        work = Path(tmp)
        t0, c0 = time.perf_counter(), children_cpu_s()

        def step(name: str, start: tuple[float, float]) -> tuple[float, float]:
            now = (time.perf_counter(), children_cpu_s())
            wall, cpu = now[0] - start[0], now[1] - start[1]
            steps[name] = {"wall_s": round(wall, 2), "ffmpeg_cpu_s": round(cpu, 2)}
            return now

        mark = (t0, c0)
        info = probe(args.source, max_duration_s=24 * 3600)
        mark = step("probe", mark)
        normalized = work / "normalized.flac"
        result = normalize(args.source, normalized, expected_duration_s=info.duration_s)
        mark = step("normalize", mark)
        chunks = plan_chunks(
            result.duration_s, result.silences, args.target, quiet_points=result.quiet_points
        )
        mark = step("plan_chunks", mark)
        cut_chunks(normalized, chunks, work / "chunks", workers=args.workers)
        mark = step("cut_chunks", mark)
        wall = mark[0] - t0
        report = {
            "source": str(args.source),
            "source_mb": round(args.source.stat().st_size / 1e6, 1),
            "duration_s": round(result.duration_s, 3),
            "chunks": len(chunks),
            "chunk_lengths_s": [round(c.duration_s, 2) for c in chunks],
            "silences": len(result.silences),
            "normalized_flac_mb": round(normalized.stat().st_size / 1e6, 1),
            "steps": steps,
            "wall_s": round(wall, 2),
            "ffmpeg_cpu_s": round(mark[1] - c0, 2),
            "python_cpu_s": round(time.process_time(), 2),
            "peak_rss_python_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_rss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "realtime_factor": round(result.duration_s / wall, 1),
        }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
