"""The job commands: jobs, show (status), export, rename, delete. Data goes to stdout, notes to stderr."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.client import AodioClient
from cli.errors import UsageError
from cli.exports import EXPORTS, fetch_export, save_export
from cli.watch import clock, follow, stage_fraction, watch
from contracts.api import JobSummary
from services.ingest.apikeys import KeyConfigError
from services.ingest.apikeys import new_key as make_key

PAGE_MAX = 200  # the API's largest page
_STATUS_STYLE = {"completed": "green", "failed": "red", "running": "cyan", "done": "green"}


def stdout_console() -> Console:
    """Rich on stdout; wide when piped, so job ids and names are never cut."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def local_time(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else ""


def _status(status: str | None) -> str:
    style = _STATUS_STYLE.get(status or "")
    return f"[{style}]{status}[/{style}]" if style else escape(status or "")


def _size(size_bytes: int | None) -> str:
    if not size_bytes:
        return ""
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def print_json(value: Any) -> None:
    """JSON objects and the API's answer types (contracts/api.py) alike, indented."""
    sys.stdout.write(json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False) + "\n")


def list_jobs(client: AodioClient, limit: int, every: bool, as_json: bool) -> int:
    """`aodio jobs`: newest first."""
    jobs: list[JobSummary] = []
    before: str | None = None
    while True:
        page = client.jobs(PAGE_MAX if every else limit, before)
        jobs += page.jobs
        before = page.next_before
        if not every or not before:
            break
    if as_json:
        print_json(jobs)
        return 0
    if not jobs:
        print("no jobs yet: submit one with `aodio process FILE --out DIR`", file=sys.stderr)
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("id", "status", "progress", "stage", "name", "created"):
        table.add_column(
            column, no_wrap=column in ("id", "created"), justify="right" if column == "progress" else "left"
        )
    for job in jobs:
        stage = job.stage or ""
        if job.status == "failed" and job.failed_stage:
            stage = f"[red]{escape(job.failed_stage)}[/red]"
        table.add_row(
            job.job_id,
            _status(job.status),
            f"{job.progress * 100:.0f}%",
            stage,
            escape(job.original_name),
            local_time(job.created_at),
        )
    stdout_console().print(table)
    if not every and before:
        print(f"(more: `aodio jobs --all`, or --limit {limit * 2})", file=sys.stderr)
    return 0


def print_job(job: dict[str, Any], console: Console) -> None:
    """The job's header, its stages with timings, its error and its outputs."""
    facts = [_size(job.get("size_bytes")), clock(job.get("duration_s")), job.get("language") or ""]
    console.print(f"[bold]{job['job_id']}[/bold]  {_status(job.get('status'))}")
    console.print(
        f"name      {escape(job.get('original_name') or '')}  {escape(', '.join(f for f in facts if f))}"
    )
    console.print(
        f"created   {local_time(job.get('created_at'))}   updated {local_time(job.get('updated_at'))}"
    )
    if names := job.get("speaker_names"):
        renamed = ", ".join(f"{label} = {name}" for label, name in sorted(names.items()))
        console.print(f"speakers  {escape(renamed)}")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("stage", "status", "progress", "message", "eta", "wall", "cpu", "attempts"):
        table.add_column(column, justify="right" if column in ("progress", "attempts") else "left")
    for name, stage in job.get("stages", {}).items():
        done, total, unit = stage.get("done") or 0, stage.get("total") or 0, stage.get("unit") or ""
        amount = (
            f" ({done:g}/{total:g} {unit})".rstrip() if total and stage.get("status") == "running" else ""
        )
        message = stage.get("error") or stage.get("message") or ""
        table.add_row(
            name,
            _status(stage.get("status")),
            f"{stage_fraction(stage) * 100:.0f}%{amount}",
            f"[red]{escape(message)}[/red]" if stage.get("error") else escape(message),
            clock(stage.get("eta_s")) if stage.get("status") == "running" else "",
            clock(stage.get("wall_s")),
            clock(stage.get("cpu_s")),
            str(stage.get("attempts") or ""),
        )
    console.print(table)
    if job.get("error"):
        where = f" in {job['failed_stage']}" if job.get("failed_stage") else ""
        console.print(f"[red]error{escape(where)}:[/red] {escape(job['error'])}")
    print_guards(job, console)
    print_removals(job, console)
    if outputs := job.get("outputs"):
        console.print(f"outputs   {', '.join(sorted(outputs))}")


def print_guards(job: dict[str, Any], console: Console) -> None:
    """What the decode guards did to the job's speech, and every warning, one line each."""
    total = (job.get("transcription") or {}).get("total") or {}
    if total.get("windows"):
        console.print(
            f"speech    {clock(total.get('speech_s'))} in {total['windows']} windows,"
            f" {total.get('words', 0)} words;"
            f" re-decoded {total.get('redecoded', 0)}, collapsed {total.get('collapsed', 0)},"
            f" dropped {total.get('dropped', 0)} ({total.get('dropped_s', 0):.1f} s)"
        )
    for warning in job.get("warnings") or ():
        console.print(f"[yellow]warning[/yellow]   {escape(warning['message'])}")


def print_removals(job: dict[str, Any], console: Console) -> None:
    """What retention deleted from the job, one line a kind: objects, size, when, the rule."""
    for removal in job.get("removed") or ():
        objects = removal.get("objects", 0)
        console.print(
            f"removed   {escape(removal['kind'])}: {objects} object{'s' * (objects != 1)},"
            f" {_size(removal.get('size_bytes'))}, {local_time(removal.get('at'))}"
            f" ({escape(removal.get('rule') or 'retention')})"
        )


def show_job(client: AodioClient, job_id: str, as_json: bool, live: bool) -> int:
    """`aodio show`: the job now; with live, follow it until it ends (exit 1 if it failed)."""
    if as_json:
        if not live:
            print_json(client.job(job_id))
            return 0
        job = client.job(job_id)
        for job in follow(client, job_id):  # one JSON line per state
            sys.stdout.write(json.dumps(job, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 1 if job.get("status") == "failed" else 0
    if live:
        job = watch(client, job_id, Console(stderr=True))
    else:
        job = client.job(job_id)
    print_job(job, stdout_console())
    return 1 if live and job.get("status") == "failed" else 0


def export_job(client: AodioClient, job_id: str, name: str, out: str | None) -> int:
    """`aodio export`: one format to stdout ('-' or no --out) or to a file."""
    if out is None or out == "-":
        if EXPORTS[name].binary and sys.stdout.isatty():
            raise UsageError(f"{name} is a binary file: give --out FILE (or a folder), or redirect stdout")
        data = fetch_export(client, job_id, name)
        if EXPORTS[name].binary:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return 0
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return 0
    destination = Path(out)
    if destination.is_dir():
        destination = destination / EXPORTS[name].filename
    save_export(client, job_id, name, destination)
    print(f"wrote {destination}", file=sys.stderr)
    return 0


def parse_rename(pair: str) -> tuple[str, str]:
    """LABEL=NAME (NAME empty: back to the label)."""
    label, sep, name = pair.partition("=")
    if not sep or not label.strip():
        raise UsageError(f"rename {pair!r}: expected SPEAKER=NAME, e.g. SPEAKER_1=Alice")
    return label.strip(), name.strip()


def rename_speakers(client: AodioClient, job_id: str, pairs: list[str]) -> int:
    """`aodio rename`: merged with the names the job already has, so only the changes are given."""
    changes = [parse_rename(pair) for pair in pairs]
    names: dict[str, str] = dict(client.job(job_id).get("speaker_names") or {})
    by_name = {name: label for label, name in names.items()}
    for label, name in changes:
        label = label if label in names else by_name.get(label, label)  # "Alice=Alicia" works too
        if not name or name == label:
            names.pop(label, None)
        else:
            names[label] = name
    names = client.set_speakers(job_id, names)
    for label, name in sorted(names.items()):
        print(f"{label} = {name}")
    if not names:
        print("no speaker is renamed", file=sys.stderr)
    return 0


def delete_job(client: AodioClient, job_id: str, confirmed: bool) -> int:
    """`aodio delete`: the job and all its artifacts; asks first unless --yes."""
    job = client.job(job_id)  # unknown job: 404 before any question
    if not confirmed:
        if not sys.stdin.isatty():
            raise UsageError(f"delete {job_id}: pass --yes to delete without a question")
        answer = input(
            f"delete job {job_id} ({job.get('original_name') or 'no name'}) and all its files? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("kept", file=sys.stderr)
            return 1
    client.delete(job_id)
    print(f"deleted job {job_id}", file=sys.stderr)
    return 0


def new_key(name: str, as_json: bool) -> int:
    """`aodio key new`: a key, shown once, and the server's entry for it."""
    try:
        key, entry = make_key(name)
    except KeyConfigError as exc:
        raise UsageError(str(exc)) from exc
    if as_json:
        print_json({"name": name, "key": key, "entry": entry})
        return 0
    print(f"API key for {name} (shown once; keep it secret):\n\n  {key}\n")
    print(f"Clients:     export AODIO_API_KEY={key}")
    print(f"The server:  add {entry} to AODIO_INGEST_API_KEYS (comma-separated), then restart ingest")
    return 0
