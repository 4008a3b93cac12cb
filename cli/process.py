"""`aodio process`: upload one recording, show live progress per stage, write the results to a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from cli.client import AodioClient, ApiError
from services.registry import BUILT_STAGES, NOT_BUILT_STAGES, PIPELINE

# Job outputs written to --out, under the file name users expect.
OUTPUT_FILES = {
    "transcript_json": "transcript.json",
    "transcript_srt": "transcript.srt",
    "transcript_vtt": "transcript.vtt",
    "transcript_txt": "transcript.txt",
    "transcript_md": "transcript.md",
    "summary_json": "summary.json",
    "summary_md": "summary.md",
    "normalized_audio": "normalized.flac",
    "chunk_plan": "chunks.json",
}


def _finished(job: dict[str, Any]) -> bool:
    if job["status"] in ("completed", "failed"):
        return True
    stages = job.get("stages", {})
    return all(stages.get(s, {}).get("status") in ("done", "skipped") for s in BUILT_STAGES)


def _describe(stage: dict[str, Any]) -> str:
    status = stage.get("status", "pending")
    if status in ("done", "skipped", "pending"):
        return status
    message = stage.get("message") or ""
    eta = stage.get("eta_s")
    eta_text = f" eta {eta:.0f}s" if eta and status == "running" else ""
    return f"{status} {message}{eta_text}".strip()


def _upload(client: AodioClient, path: Path, options: dict[str, Any], console: Console) -> str:
    columns = (
        TextColumn("{task.description:>12}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("upload", total=path.stat().st_size)
        reply = client.submit(path, options, lambda n: bar.advance(task, n))
    return str(reply["job_id"])


def _watch(client: AodioClient, job_id: str, console: Console, poll_s: float) -> dict[str, Any]:
    columns = (TextColumn("{task.description:>12}"), BarColumn(), TextColumn("{task.fields[note]}"))
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {
            stage: bar.add_task(stage, total=1.0, note="pending")
            for stage in PIPELINE
            if stage in BUILT_STAGES
        }
        while True:
            job = client.job(job_id)
            for name, task in tasks.items():
                stage = job.get("stages", {}).get(name, {})
                total, done = stage.get("total") or 0, stage.get("done") or 0
                fraction = 1.0 if stage.get("status") == "done" else (done / total if total else 0.0)
                bar.update(task, completed=min(fraction, 1.0), note=_describe(stage))
            if _finished(job):
                return job
            time.sleep(poll_s)


def run_process(
    client: AodioClient, path: Path, out_dir: Path, options: dict[str, Any], poll_s: float = 0.5
) -> int:
    """Process one recording end to end; returns the exit code (0 done, 1 failed)."""
    console = Console(stderr=True)
    if not path.is_file():
        console.print(f"[red]no such file: {path}[/red]")
        return 2
    started = time.monotonic()
    try:
        job_id = _upload(client, path, options, console)
        console.print(f"job [bold]{job_id}[/bold] queued")
        job = _watch(client, job_id, console, poll_s)
    except ApiError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    if job["status"] == "failed":
        console.print(f"[red]job {job_id} failed in {job.get('failed_stage')}:[/red] {job.get('error')}")
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, filename in OUTPUT_FILES.items():
        if name in job.get("outputs", {}):
            client.download(job_id, name, out_dir / filename)
            written.append(filename)
    console.print(f"done in {time.monotonic() - started:.1f} s: wrote {', '.join(written)} to {out_dir}")
    if NOT_BUILT_STAGES:
        console.print(f"[yellow]not built yet:[/yellow] {', '.join(NOT_BUILT_STAGES)}")
    return 0
