"""Push one recording through the embedded pipeline and print per-stage figures as JSON.

    python -m bench.run [--file F] [--s3]      (default: the generated 4 h 15 recording)

Reports, per stage: wall seconds, CPU seconds, real-time factor (wall / audio) and speed (audio / wall),
peak RSS of the stage's process tree; and for the whole run: end-to-end wall time and the peak RSS of all
processes together. Numbers only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.memory import PeakSampler
from cli.stack import LocalStack
from services.registry import BUILT_STAGES

DEFAULT_FILE = Path("bench/audio/long_4h15.mp3")
MIB = 1024 * 1024


def ensure_recording(path: Path) -> None:
    if path.exists() or path != DEFAULT_FILE:
        return
    print(f"generating {path} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "bench.generate_long", "--out", str(path)], check=True)


def wait_done(
    client: httpx.Client,
    job_id: str,
    marks: dict[str, float],
    started: float,
    stages: tuple[str, ...],
    poll_s: float = 0.5,
) -> dict[str, Any]:
    """Poll until every built stage is done; note when the first transcript text became readable."""
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if "first_text_s" not in marks and job.get("chunks_done"):
            partial = client.get(f"/v1/jobs/{job_id}/partial-transcript").json()
            if partial.get("text"):
                marks["first_text_s"] = round(time.monotonic() - started, 2)
        if job["status"] == "failed":
            raise SystemExit(f"job failed in {job.get('failed_stage')}: {job.get('error')}")
        if all(job["stages"].get(s, {}).get("status") == "done" for s in stages):
            return job
        time.sleep(poll_s)


def peak_of(stage: str, peaks: dict[str, int]) -> int:
    """A stage's peak RSS: its one process, or its replicas' peaks added up."""
    return sum(size for name, size in peaks.items() if name.split(".")[0] == stage)


def stage_figures(
    job: dict[str, Any], peaks: dict[str, int], upload_s: float, stages: tuple[str, ...]
) -> dict[str, Any]:
    audio_s = job.get("duration_s") or 0.0
    figures: dict[str, Any] = {}
    for name in stages:
        stage = job["stages"][name]
        wall = upload_s if name == "ingest" else stage.get("wall_s") or 0.0
        figures[name] = {
            "wall_s": round(wall, 2),
            "cpu_s": round(stage["cpu_s"], 2) if stage.get("cpu_s") is not None else None,
            "rtf": round(wall / audio_s, 5) if audio_s else None,
            "speed_x": round(audio_s / wall, 1) if wall else None,
            "peak_rss_mib": round(peak_of(name, peaks) / MIB, 1),
        }
    return figures


def run(path: Path, s3: bool, stages: tuple[str, ...], replicas: dict[str, int]) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="aodio-bench-") as data,
        LocalStack(Path(data), api_port=0, s3=s3, stages=stages, replicas=replicas) as stack,
    ):
        roots = {name: child.pid for name, child in stack.children.items()}
        with (
            PeakSampler(roots) as sampler,
            httpx.Client(base_url=stack.api_url, timeout=None) as client,
        ):
            started = time.monotonic()
            with path.open("rb") as handle:
                reply = client.post("/v1/jobs", files={"file": (path.name, handle)})
            reply.raise_for_status()
            upload_s = time.monotonic() - started
            marks: dict[str, float] = {}
            job = wait_done(client, reply.json()["job_id"], marks, started, stages)
            total_s = time.monotonic() - started
        return {
            "file": str(path),
            "size_mib": round(path.stat().st_size / MIB, 1),
            "audio_s": job.get("duration_s"),
            "chunks": job.get("chunks_total"),
            "storage": "s3 (local SeaweedFS)" if s3 else "directory",
            "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
            "stages": stage_figures(job, sampler.peaks, upload_s, stages),
            "end_to_end_s": round(total_s, 2),
            "first_transcript_text_s": marks.get("first_text_s"),
            "peak_rss_all_mib": round(sampler.peak_total / MIB, 1),
            "stages_run": list(stages),
            "replicas": stack.replicas,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--s3", action="store_true", help="artifacts in a local S3 (weed mini)")
    parser.add_argument("--save", type=Path, default=Path("bench/out"), help="folder for the JSON")
    parser.add_argument(
        "--stages",
        nargs="+",
        default=list(BUILT_STAGES),
        choices=BUILT_STAGES,
        help="run only these stages (default: every built stage)",
    )
    parser.add_argument("--replicas", nargs="*", default=[], metavar="STAGE=N")
    args = parser.parse_args()
    ensure_recording(args.file)
    replicas = {k: int(v) for k, _, v in (r.partition("=") for r in args.replicas)}
    result = run(args.file, args.s3, tuple(args.stages), replicas)
    text = json.dumps(result, indent=2)
    print(text)
    args.save.mkdir(parents=True, exist_ok=True)
    (args.save / time.strftime("run-%Y%m%d-%H%M%S.json")).write_text(text + "\n")


if __name__ == "__main__":
    main()
