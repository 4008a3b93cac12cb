"""The `aodio` command: up, process, jobs, show, export, rename, delete, replay, dlq, people, key.

Exit codes: 0 done, 1 the command failed (one line on stderr says why), 2 a usage error, 130 Ctrl-C.
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from cli import dlq, glossary, jobs, people, replay
from cli.client import AodioClient, remote_command
from cli.datalock import DataFolderBusy, read_holder
from cli.errors import CliError, UsageError
from cli.exports import EXPORTS
from cli.stack import LocalStack, StackError
from runtime.registry import SERVICE_MODULES

DEFAULT_API = "http://127.0.0.1:8000"

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line in the CLI's own format."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"aodio: {message} (see `{self.prog} --help`)\n")


def _remote_options() -> _Parser:
    remote = _Parser(add_help=False)
    remote.add_argument(
        "--api",
        default=os.environ.get("AODIO_API_URL") or DEFAULT_API,
        metavar="URL",
        help="the Aodio API (default: $AODIO_API_URL, else %(default)s: a running `aodio up`)",
    )
    remote.add_argument(
        "--api-key",
        default=os.environ.get("AODIO_API_KEY"),
        metavar="KEY",
        help="API key (default: $AODIO_API_KEY)",
    )
    return remote


def _replicas_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--replicas", action="append", default=[], metavar="STAGE=N", help=help_text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aodio", description="Long recordings in, speaker-attributed transcript out.")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("AODIO_DATA_DIR", "data")),
        help="folder for the embedded default's NATS store, artifacts and logs",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    remote = _remote_options()

    up = sub.add_parser("up", help="start the embedded servers, every service and the API")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--s3", action="store_true", help="keep artifacts in a local S3 (SeaweedFS)")
    _replicas_option(up, "processes for a stage, e.g. transcribe=2 (default: one transcribe per core)")
    up.set_defaults(run=_up)

    process = sub.add_parser("process", help="run one recording through the pipeline, results into a folder")
    process.add_argument("file", type=Path)
    process.add_argument("--out", type=Path, required=True, help="folder for the results")
    process.add_argument("--language", help="ISO 639-1 code, e.g. fr; default: detected")
    process.add_argument("--speakers", type=int, help="exact number of speakers, if known")
    glossary.add_vocabulary_options(process)
    process.add_argument(
        "--api",
        default=os.environ.get("AODIO_API_URL"),
        metavar="URL",
        help="a running Aodio API (default: $AODIO_API_URL, else start the embedded default)",
    )
    process.add_argument("--api-key", default=os.environ.get("AODIO_API_KEY"), metavar="KEY")
    _replicas_option(process, "processes for a stage in the embedded default, e.g. transcribe=2")
    process.set_defaults(run=_process)

    listing = sub.add_parser("jobs", parents=[remote], help="the jobs, newest first")
    listing.add_argument("--limit", type=int, default=20, help="how many (default %(default)s)")
    listing.add_argument("--all", action="store_true", help="every job")
    listing.add_argument("--json", action="store_true", help="JSON for machines")
    listing.set_defaults(run=remote_command(lambda c, a: jobs.list_jobs(c, a.limit, a.all, a.json)))

    show = sub.add_parser("show", aliases=["status"], parents=[remote], help="a job's stages, error, outputs")
    show.add_argument("job_id", metavar="JOB")
    show.add_argument(
        "--json", action="store_true", help="the job state as JSON (with --watch: one per line)"
    )
    show.add_argument("--watch", action="store_true", help="follow it live until it ends")
    show.set_defaults(run=remote_command(lambda c, a: jobs.show_job(c, a.job_id, a.json, a.watch)))

    export = sub.add_parser("export", parents=[remote], help="the transcript, summary or DOCX")
    export.add_argument("job_id", metavar="JOB")
    export.add_argument("--format", required=True, choices=list(EXPORTS), dest="export_format")
    export.add_argument("--out", metavar="FILE", help="a file or folder ('-' or none: stdout)")
    export.set_defaults(run=remote_command(lambda c, a: jobs.export_job(c, a.job_id, a.export_format, a.out)))

    rename = sub.add_parser("rename", parents=[remote], help="name the speakers in every export")
    rename.add_argument("job_id", metavar="JOB")
    rename.add_argument(
        "pairs", nargs="+", metavar="SPEAKER=NAME", help="e.g. SPEAKER_1=Alice; NAME empty resets"
    )
    rename.set_defaults(run=remote_command(lambda c, a: jobs.rename_speakers(c, a.job_id, a.pairs)))

    delete = sub.add_parser("delete", parents=[remote], help="delete a job and all its files")
    delete.add_argument("job_id", metavar="JOB")
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask")
    delete.set_defaults(run=remote_command(lambda c, a: jobs.delete_job(c, a.job_id, a.yes)))

    dlq.add_parser(sub, remote)
    replay.add_parser(sub, remote)
    people.add_parser(sub, remote)
    glossary.add_parser(sub, remote)

    key = sub.add_parser("key", help="API keys")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_new = key_sub.add_parser("new", help="make a key: printed once, with the server's entry for it")
    key_new.add_argument("name", help="who or what uses it, e.g. alice or ci")
    key_new.add_argument("--json", action="store_true")
    key_new.set_defaults(run=lambda a: jobs.new_key(a.name, a.json))
    return parser


def _replicas(values: list[str]) -> dict[str, int]:
    replicas: dict[str, int] = {}
    for value in values:
        stage, _, count = value.partition("=")
        if stage not in SERVICE_MODULES or not count.isdigit() or int(count) < 1:
            raise UsageError(
                f"--replicas {value!r}: expected STAGE=N with a stage among {sorted(SERVICE_MODULES)}"
            )
        replicas[stage] = int(count)
    return replicas


def _report(line: str) -> None:
    print(f"aodio: {line}", file=sys.stderr, flush=True)


def _busy(exc: DataFolderBusy) -> StackError:
    where = f" at {exc.holder.api_url} (pid {exc.holder.pid})" if exc.holder else ""
    return StackError(
        f"a stack is already running on {exc.folder}{where}: use it (`aodio process FILE` sends "
        "jobs to it), or stop it first, or give this one another --data folder"
    )


def _up(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = LocalStack(
        args.data,
        api_port=args.port,
        s3=args.s3,
        replicas=_replicas(args.replicas),
        supervise=True,
        report=_report,
        on_failure=lambda _: stop.set(),
    )
    try:
        with stack:
            print(f"Aodio is up: {stack.api_url}  (web page; API docs at /docs; Ctrl-C stops)", flush=True)
            if not os.environ.get("AODIO_INGEST_API_KEYS"):
                print(
                    "No API key is configured, so the API listens on 127.0.0.1 only and anyone on this "
                    "machine can use it (keys: `aodio key new NAME`, then AODIO_INGEST_API_KEYS).",
                    flush=True,
                )
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
            assert stack.supervisor is not None
            if stack.supervisor.failure:  # said before the stack stops, which takes a few seconds
                print(f"aodio: {stack.supervisor.failure}", file=sys.stderr, flush=True)
                return 1
            return 0
    except DataFolderBusy as exc:
        raise _busy(exc) from None


def _running_stack(data: Path, wait_s: float = 120.0) -> str | None:
    """The API URL of a stack already serving the data folder (waiting while it starts), else None."""
    deadline = time.monotonic() + wait_s
    while (holder := read_holder(data.resolve())) is not None and not holder.ready:
        if time.monotonic() > deadline:
            raise StackError(f"the stack on {data} (pid {holder.pid}) has not become ready in {wait_s:.0f} s")
        time.sleep(0.2)
    return holder.api_url if holder is not None else None


def _process(args: argparse.Namespace) -> int:
    from cli.process import run_process

    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    options: dict[str, object] = {
        k: v for k, v in (("language", args.language), ("speakers", args.speakers)) if v
    }
    if terms := glossary.vocabulary_from(args):
        options["vocabulary"] = terms
    if args.api:
        with AodioClient(args.api, args.api_key) as client:
            return run_process(client, args.file, args.out, options, remote=True)
    if running := _running_stack(args.data):
        _report(f"sending the job to the stack already running on {args.data} at {running}")
        with AodioClient(running, args.api_key) as client:
            return run_process(client, args.file, args.out, options, remote=True)
    stack = LocalStack(
        args.data,
        api_port=0,
        replicas=_replicas(args.replicas),
        supervise=True,
        report=_report,
        on_failure=lambda _: _thread.interrupt_main(),
    )
    try:
        with stack, AodioClient(stack.api_url, args.api_key) as client:
            return run_process(client, args.file, args.out, options)
    except DataFolderBusy as exc:  # a stack started on the folder since we looked
        raise _busy(exc) from None
    except KeyboardInterrupt:
        if stack.supervisor is not None and stack.supervisor.failure:
            raise StackError(stack.supervisor.failure) from None
        raise


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.run(args))
    except UsageError as exc:
        print(f"aodio: {exc}", file=sys.stderr)
        return 2
    except (CliError, StackError) as exc:
        print(f"aodio: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
