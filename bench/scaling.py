"""Throughput on a batch of jobs as the CPU budget and the replicas grow.

    python -m bench.scaling [--jobs 6] [--save bench/out]

Every worker runs one model thread and pulls from its stage's shared durable consumer, so adding a
core (or a machine on the same NATS) means adding replicas, and throughput should follow the cores
until one stage has nothing left to split. Two measurements, each on a fresh embedded stack whose
processes are pinned (CPU affinity, inherited by every child) to the cores of the budget:

- whole pipeline, 1 core (one replica of each stage) against 2 cores (two diarize and two transcribe
  replicas): the batch's audio hours per wall hour, and the ratio;
- transcribe alone with 1, 2 and 4 replicas on the 2 cores: 4 on 2 cores shows what oversubscribing
  costs.

The batch is the committed generated conversations (two and three voices, 105 s and 90 s) submitted
all at once, after one warm-up job that loads the models. The summary is extractive here: the LLM's
share is measured in bench/run.py, and one llama.cpp server per stack would only add a constant.
Numbers only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.run import upload
from cli.stack import LocalStack
from runtime.registry import PIPELINE

CONVERSATIONS = Path(__file__).parent.parent / "tests" / "fixtures" / "conversations"
TRANSCRIPT = ("ingest", "transcode", "transcribe", "assemble")
EXTRACTIVE = {"AODIO_SUMMARIZE_METHOD": "extractive", "AODIO_SUMMARIZE_MODEL": "openai/not-used"}


def finished(client: httpx.Client, job_id: str, stages: tuple[str, ...]) -> dict[str, Any] | None:
    job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
    if job["status"] == "failed":
        raise SystemExit(f"job {job_id} failed in {job.get('failed_stage')}: {job.get('error')}")
    if all(job["stages"].get(s, {}).get("status") == "done" for s in stages):
        return job
    return None


def wait_all(client: httpx.Client, job_ids: list[str], stages: tuple[str, ...]) -> list[dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(job_ids):
        for job_id in job_ids:
            if job_id not in done and (job := finished(client, job_id, stages)):
                done[job_id] = job
        time.sleep(0.3)
    return [done[j] for j in job_ids]


def batch(cores: set[int], stages: tuple[str, ...], replicas: dict[str, int], jobs: int) -> dict[str, Any]:
    """One pinned stack, one warm-up job, then `jobs` jobs at once: the batch's wall time and speed."""
    clips = sorted(CONVERSATIONS.glob("*.mp3"))
    everything = set(range(os.cpu_count() or 1))
    os.sched_setaffinity(0, cores)  # the stack's processes inherit it, and so do their children
    options = {"api_port": 0, "stages": stages, "replicas": replicas, "extra_env": EXTRACTIVE}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="aodio-scaling-") as data,
            LocalStack(Path(data), **options) as stack,  # type: ignore[arg-type]
            httpx.Client(base_url=stack.api_url, timeout=120) as client,
        ):
            wait_all(client, [upload(client, clips[0])], stages)  # models loaded in every replica
            started = time.monotonic()
            ids = [upload(client, clips[i % len(clips)]) for i in range(jobs)]
            done = wait_all(client, ids, stages)
            wall = time.monotonic() - started
    finally:
        os.sched_setaffinity(0, everything)
    audio_s = sum(job["duration_s"] for job in done)
    return {
        "cores": len(cores),
        "replicas": {s: replicas.get(s, 1) for s in stages if s in ("diarize", "transcribe")},
        "jobs": jobs,
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall, 1),
        "audio_per_wall": round(audio_s / wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--save", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("scaling needs at least 2 cores")
    one = batch({0}, PIPELINE, {"diarize": 1, "transcribe": 1}, args.jobs)
    print(f"pipeline, 1 core: {one}", file=sys.stderr)
    two = batch({0, 1}, PIPELINE, {"diarize": 2, "transcribe": 2}, args.jobs)
    print(f"pipeline, 2 cores: {two}", file=sys.stderr)
    transcribe = []
    for count in (1, 2, 4):
        transcribe.append(batch({0, 1}, TRANSCRIPT, {"transcribe": count}, args.jobs))
        print(f"transcribe x{count}, 2 cores: {transcribe[-1]}", file=sys.stderr)
    result = {
        "pipeline": {
            "one_core": one,
            "two_cores": two,
            "throughput_ratio": round(two["audio_per_wall"] / one["audio_per_wall"], 2),
        },
        "transcribe_replicas_on_two_cores": transcribe,
    }
    text = json.dumps(result, indent=2)
    print(text)
    args.save.mkdir(parents=True, exist_ok=True)
    (args.save / time.strftime("scaling-%Y%m%d-%H%M%S.json")).write_text(text + "\n")


if __name__ == "__main__":
    main()
