"""Push one recording through the embedded pipeline, then through the by-hand baseline; print both.

    python -m bench.run [--file F] [--s3] [--profile DIR] [--no-baseline] [--scaling]
                                              (default: the generated 4 h 15 recording)

Reports, per stage: wall seconds, CPU seconds, real-time factor (wall / audio) and speed (audio / wall),
peak RSS of the stage's process tree; for the whole run: end-to-end wall time (upload accepted to
summary stored), when the first transcript text was readable, and the peak memory of all processes
together (RSS added up, and PSS). Then the same recording through bench/baseline.py (one process,
faster-whisper, the diarizer and the LLM one after the other) and the ratio of the two times; with
--scaling, bench/scaling.py. The JSON goes to bench/out/report-*.json and a Markdown table beside it.
Numbers only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.memory import PeakSampler, cpu_by_tree
from bench.profile import Profiler, summarise
from bench.timeline import stretches, table
from cli.stack import LocalStack
from runtime.registry import BUILT_STAGES

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
    poll_s: float = 1.0,
    first_text_only: bool = False,
) -> dict[str, Any]:
    """Poll until every built stage is done (or, first_text_only, until the first transcript text)."""
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
        if first_text_only and "first_text_s" in marks:
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


def cpu_work(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """CPU seconds spent during the job: per service tree, the servers (the rest), and all together."""
    spent = {name: round(after.get(name, 0.0) - before.get(name, 0.0), 1) for name in after}
    total = spent.pop("*")
    spent["servers (nats, s3, shared llm)"] = round(total - sum(spent.values()), 1)
    return {"total": total, "by_process": spent}


def upload(client: httpx.Client, path: Path) -> str:
    """Submit the recording through the API (streamed multipart); the job id."""
    with path.open("rb") as handle:
        reply = client.post("/v1/jobs", files={"file": (path.name, handle)})
    reply.raise_for_status()
    job_id: str = reply.json()["job_id"]
    return job_id


def first_text(path: Path, replicas: dict[str, int]) -> dict[str, Any]:
    """Only the first measure: the whole stack runs, and the job is left once its first text is readable."""
    with (
        tempfile.TemporaryDirectory(prefix="aodio-bench-") as data,
        LocalStack(Path(data), api_port=0, replicas=replicas) as stack,
        httpx.Client(base_url=stack.api_url, timeout=None) as client,
    ):
        started = time.monotonic()
        marks: dict[str, float] = {}
        job_id = upload(client, path)
        wait_done(client, job_id, marks, started, BUILT_STAGES, 0.5, True)
        # The first chunk leaves before the rest of the file is decoded: the plan (and transcode's
        # own figures) exist once transcode is done.
        job = wait_done(client, job_id, {"first_text_s": 0.0}, started, ("transcode",), 0.5)
        plan = client.get(f"/v1/jobs/{job_id}/outputs/chunk_plan").json()
    return {
        "file": str(path),
        "audio_s": job.get("duration_s"),
        "first_transcript_text_s": marks["first_text_s"],
        "transcode_wall_s": job["stages"]["transcode"].get("wall_s"),
        "first_chunk_s": round(plan["chunks"][0]["end_s"] - plan["chunks"][0]["start_s"], 2),
        "chunks": job.get("chunks_total"),
    }


def run(
    path: Path,
    s3: bool,
    stages: tuple[str, ...],
    replicas: dict[str, int],
    profile: Path | None = None,
    save: Path | None = None,
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="aodio-bench-") as data,
        LocalStack(Path(data), api_port=0, s3=s3, stages=stages, replicas=replicas) as stack,
    ):
        roots = {name: child.pid for name, child in stack.children.items()}
        workers = {name: pid for name, pid in roots.items() if name.split(".")[0] in stages}
        with (
            PeakSampler(roots) as sampler,
            Profiler(workers, profile) if profile else contextlib.nullcontext(),
            httpx.Client(base_url=stack.api_url, timeout=None) as client,
        ):
            cpu_before = cpu_by_tree(roots, os.getpid())
            started, wall_started = time.monotonic(), time.time()
            job_id = upload(client, path)
            upload_s = time.monotonic() - started
            marks: dict[str, float] = {}
            job = wait_done(client, job_id, marks, started, stages)
            total_s, wall_ended = time.monotonic() - started, time.time()
            cpu = cpu_work(cpu_before, cpu_by_tree(roots, os.getpid()))
            if save is not None:  # the transcript, for summary experiments on real ASR output
                save.mkdir(parents=True, exist_ok=True)
                answer = client.get(f"/v1/jobs/{job_id}/transcript", params={"format": "json"})
                if answer.status_code == 200:
                    (save / "last-transcript.json").write_bytes(answer.content)
        llm_calls = summary_calls(stack.log_file("summarize")) if "summarize" in stages else []
        return {
            "file": str(path),
            "size_mib": round(path.stat().st_size / MIB, 1),
            "audio_s": job.get("duration_s"),
            "chunks": job.get("chunks_total"),
            "storage": "s3 (local SeaweedFS)" if s3 else "directory",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "stages": stage_figures(job, sampler.peaks, upload_s, stages),
            "end_to_end_s": round(total_s, 2),
            # every process of the pipeline (services, their llama.cpp server and ffmpeg, NATS, S3)
            "cpu_s_total": cpu["total"],
            "cpu_s_by_process": cpu["by_process"],
            "cpu_s_per_audio_s": round(cpu["total"] / job["duration_s"], 4)
            if job.get("duration_s")
            else None,
            "cores": os.cpu_count(),
            "cpu_bound_s": round(cpu["total"] / (os.cpu_count() or 1), 1),  # the work divided by the cores
            "first_transcript_text_s": marks.get("first_text_s"),
            "peak_rss_all_mib": round(sampler.peak_total / MIB, 1),
            "peak_pss_all_mib": round(sampler.peak_total_pss / MIB, 1),
            "stages_run": list(stages),
            "replicas": stack.replicas,
            "profile": summarise(profile) if profile else None,
            "llm_calls": llm_calls,
            # where the cores waited: the run cut at every stage's start and end
            "stretches": stretches(
                job["stages"], sampler.cpu_timeline, wall_started, wall_ended, os.cpu_count() or 1
            ),
        }


_CALL = re.compile(r"model (\S+): (\d+) prompt \+ (\d+) completion tokens in ([\d.]+) s")


def summary_calls(log_file: Path) -> list[dict[str, Any]]:
    """Each LLM call the summarize stage logged: model, prompt and completion tokens, seconds."""
    if not log_file.exists():
        return []
    return [
        {"model": m[1], "prompt_tokens": int(m[2]), "completion_tokens": int(m[3]), "seconds": float(m[4])}
        for m in _CALL.finditer(log_file.read_text(errors="replace"))
    ]


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
    parser.add_argument("--profile", type=Path, help="py-spy every worker; collapsed stacks into this folder")
    parser.add_argument("--no-baseline", action="store_true", help="skip the by-hand baseline runs")
    parser.add_argument(
        "--peers",
        nargs="+",
        choices=("sequential", "batched"),
        default=["sequential", "batched"],
        help="which by-hand scripts to run (default both; each takes about as long as faster-whisper "
        "needs for the whole file on every core)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=4,
        help="the batched by-hand peer's BatchedInferencePipeline batch (4 was the fastest here, 2 threads)",
    )
    parser.add_argument("--scaling", action="store_true", help="also measure scaling (bench/scaling.py)")
    parser.add_argument(
        "--first-text-only", action="store_true", help="only time the first readable transcript text"
    )
    args = parser.parse_args()
    ensure_recording(args.file)
    replicas = {k: int(v) for k, _, v in (r.partition("=") for r in args.replicas)}
    if args.first_text_only:
        print(json.dumps(first_text(args.file, replicas), indent=2))
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.save.mkdir(parents=True, exist_ok=True)
    aodio = run(args.file, args.s3, tuple(args.stages), replicas, args.profile, args.save)
    report: dict[str, Any] = {"aodio": aodio}
    print(json.dumps(report["aodio"], indent=2), file=sys.stderr)
    if not args.no_baseline:
        e2e = report["aodio"]["end_to_end_s"]
        common = ("--file", str(args.file), "--save", str(args.save))
        if "sequential" in args.peers:
            report["baseline"] = run_module("bench.baseline", *common)
            report["speedup"] = round(report["baseline"]["total_s"] / e2e, 2)
        if "batched" in args.peers:
            batched = ("--transcriber", "batched", "--batch-size", str(args.batch_size))
            report["baseline_batched"] = run_module("bench.baseline", *common, *batched)
            report["speedup_batched"] = round(report["baseline_batched"]["total_s"] / e2e, 2)
    if args.scaling:
        report["scaling"] = run_module("bench.scaling", "--save", str(args.save))
    text = json.dumps(report, indent=2)
    print(text)
    (args.save / f"report-{stamp}.json").write_text(text + "\n")
    table = markdown(report)
    (args.save / f"report-{stamp}.md").write_text(table)
    print(table, file=sys.stderr)


def run_module(module: str, *argv: str) -> dict[str, Any]:
    """Another bench as its own process (its own memory, no warm caches of this one); its JSON."""
    done = subprocess.run([sys.executable, "-m", module, *argv], check=True, stdout=subprocess.PIPE)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def _by_hand(baseline: dict[str, Any]) -> str:
    cpu = baseline.get("cpu_s_total")
    work = f", {cpu:.0f} CPU-s" if cpu is not None else ""
    return f"{_minutes(baseline['total_s'])}, peak {baseline['peak_pss_mib'] / 1024:.2f} GiB PSS{work}"


def markdown(report: dict[str, Any]) -> str:
    """The README's performance table, from one report."""
    aodio = report["aodio"]
    audio_s = aodio["audio_s"] or 0.0
    e2e = aodio["end_to_end_s"]
    rows = [
        ("End to end, upload accepted to summary stored", _minutes(e2e), "within 5 % of work / cores"),
        ("Speed", f"{audio_s / e2e:.1f}x real time" if e2e else "n/a", ""),
        (
            "Peak memory, all processes",
            f"{aodio['peak_rss_all_mib'] / 1024:.2f} GiB RSS, {aodio['peak_pss_all_mib'] / 1024:.2f} GiB PSS",
            "4 GiB PSS",
        ),
        ("First transcript text readable", _minutes(aodio["first_transcript_text_s"]), "20 s"),
    ]
    if aodio.get("cpu_s_total") is not None:
        rows.append(
            (
                "CPU work, all processes (LLM server included)",
                f"{aodio['cpu_s_total']:.0f} CPU-s, {aodio['cpu_s_per_audio_s']:.3f} CPU-s per audio s "
                f"(work / {aodio['cores']} cores: {aodio['cpu_bound_s']:.0f} s)",
                "0.09 CPU-s per audio s",
            )
        )
        if aodio.get("cpu_bound_s") and e2e:
            over = e2e / aodio["cpu_bound_s"] - 1
            rows.append(("End to end over work / cores", f"{over * 100:+.1f} %", "at most +5 %"))
    baseline = report.get("baseline")
    if baseline:
        rows.append(("By hand, sequential faster-whisper (bench/baseline.py)", _by_hand(baseline), ""))
        rows.append(("Aodio faster by", f"{report['speedup']:.2f}x", ""))
    batched = report.get("baseline_batched")
    if batched:
        rows.append(("By hand, BatchedInferencePipeline (the strongest peer)", _by_hand(batched), ""))
        rows.append(("Aodio faster than the batched peer by", f"{report['speedup_batched']:.2f}x", "2x"))
    for call in aodio.get("llm_calls") or []:
        rows.append(
            (
                f"Summary call ({call['model']})",
                f"{call['prompt_tokens']} prompt + {call['completion_tokens']} completion tokens, "
                f"{call['seconds']:.0f} s",
                "",
            )
        )
    lines = ["| measure | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", "| stage | wall | CPU | peak RSS |", "|---|---|---|---|"]
    for name, figures in aodio["stages"].items():
        cpu = f"{figures['cpu_s']:.0f} s" if figures["cpu_s"] is not None else "n/a"
        lines.append(f"| {name} | {figures['wall_s']:.0f} s | {cpu} | {figures['peak_rss_mib']:.0f} MiB |")
    if aodio.get("stretches"):
        lines += ["", "Where the cores waited (bench/timeline.py):", "", *table(aodio["stretches"])]
    peers = [(name, r) for name, r in (("sequential", baseline), ("batched", batched)) if r]
    if peers:
        lines += ["", "| by-hand step | " + " | ".join(f"{name}: wall, CPU" for name, _ in peers) + " |"]
        lines.append("|---" * (len(peers) + 1) + "|")
        steps = ("decode", "transcribe", "diarize", "attribute", "summarize")
        for step in steps:
            cells = [f"{r[f'{step}_s']:.0f} s, {r.get('cpu_s', {}).get(step, 0):.0f} s" for _, r in peers]
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
        lines.append("| total | " + " | ".join(f"{r['total_s']:.0f} s" for _, r in peers) + " |")
    scaling = report.get("scaling")
    if scaling:
        lines += ["", "| batch (bench/scaling.py) | cores | replicas | audio / wall |", "|---|---|---|---|"]
        runs = [("pipeline", r) for r in (scaling["pipeline"]["one_core"], scaling["pipeline"]["two_cores"])]
        runs += [("transcribe only", r) for r in scaling["transcribe_replicas_on_two_cores"]]
        for what, r in runs:
            replicas = ", ".join(f"{k} {v}" for k, v in r["replicas"].items())
            lines.append(f"| {what}, {r['jobs']} jobs | {r['cores']} | {replicas} | {r['audio_per_wall']}x |")
        ratio = scaling["pipeline"]["throughput_ratio"]
        lines.append(f"\nTwo cores against one, whole pipeline: {ratio}x (target 1.9x).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
