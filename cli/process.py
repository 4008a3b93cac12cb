"""`aodio process`: upload one recording, show live progress per stage, write the results to a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console

from cli.client import AodioClient, NotFound, NotReady
from cli.exports import EXPORTS, RAW_OUTPUTS, save_export
from cli.upload import PRESIGNED_MIN_BYTES, upload
from cli.watch import watch
from runtime.registry import NOT_BUILT_STAGES


def write_results(client: AodioClient, job: dict[str, Any], out_dir: Path) -> tuple[list[str], list[str]]:
    """Write every export and raw output the job has into out_dir: (written, missing) file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    job_id = job["job_id"]
    written, missing = [], []
    for name, export in EXPORTS.items():
        try:
            save_export(client, job_id, name, out_dir / export.filename)
            written.append(export.filename)
        except (NotReady, NotFound):  # e.g. summary_method "none", or a stage that is not built
            missing.append(export.filename)
    for output, filename in RAW_OUTPUTS.items():
        if output in job.get("outputs", {}):
            client.save(f"/v1/jobs/{job_id}/outputs/{output}", out_dir / filename)
            written.append(filename)
    return written, missing


def run_process(
    client: AodioClient,
    path: Path,
    out_dir: Path,
    options: dict[str, Any],
    remote: bool = False,
    poll_s: float = 1.0,
) -> int:
    """Process one recording end to end; returns the exit code (0 done, 1 failed).

    remote: the API is not the embedded default, so big files may go straight to its S3 bucket.
    """
    console = Console(stderr=True)
    started = time.monotonic()
    job_id = upload(client, path, options, console, PRESIGNED_MIN_BYTES if remote else None)
    console.print(f"job [bold]{job_id}[/bold] queued")
    try:
        job = watch(client, job_id, console, poll_s)
    except KeyboardInterrupt:
        if remote:
            console.print(f"stopped following; the job goes on: `aodio show {job_id} --watch`")
        raise
    if job["status"] == "failed":
        console.print(f"[red]job {job_id} failed in {job.get('failed_stage')}:[/red] {job.get('error')}")
        return 1
    written, missing = write_results(client, job, out_dir)
    console.print(f"done in {time.monotonic() - started:.1f} s: wrote {', '.join(written)} to {out_dir}")
    if missing:
        console.print(f"[yellow]not produced:[/yellow] {', '.join(missing)}")
    if NOT_BUILT_STAGES:
        console.print(f"[yellow]not built yet:[/yellow] {', '.join(NOT_BUILT_STAGES)}")
    return 0
