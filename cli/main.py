"""The `aodio` command: up, process, status."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from cli.client import AodioClient, ApiError
from cli.process import run_process
from cli.stack import LocalStack, StackError
from services.registry import SERVICE_MODULES

DEFAULT_API = "http://127.0.0.1:8000"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aodio", description="Long recordings in, transcript out.")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("AODIO_DATA_DIR", "data")),
        help="folder for the embedded default's NATS store, artifacts and logs",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the embedded servers, every service and the API")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--s3", action="store_true", help="keep artifacts in a local S3 (SeaweedFS)")
    up.add_argument(
        "--replicas",
        action="append",
        default=[],
        metavar="STAGE=N",
        help="processes for a stage, e.g. transcribe=2 (default: one transcribe per core)",
    )
    process = sub.add_parser("process", help="run one recording through the pipeline")
    process.add_argument("file", type=Path)
    process.add_argument("--out", type=Path, required=True, help="folder for the results")
    process.add_argument("--language", help="ISO 639-1 code, e.g. fr; default: detected")
    process.add_argument("--speakers", type=int, help="exact number of speakers, if known")
    process.add_argument("--api", help="use a running Aodio API instead of starting the embedded default")
    process.add_argument(
        "--replicas",
        action="append",
        default=[],
        metavar="STAGE=N",
        help="processes for a stage in the embedded default, e.g. transcribe=2",
    )
    status = sub.add_parser("status", help="show a job's state")
    status.add_argument("job_id")
    status.add_argument("--api", default=os.environ.get("AODIO_API_URL", DEFAULT_API))
    return parser


def _replicas(values: list[str]) -> dict[str, int]:
    replicas: dict[str, int] = {}
    for value in values:
        stage, _, count = value.partition("=")
        if stage not in SERVICE_MODULES or not count.isdigit() or int(count) < 1:
            raise StackError(
                f"--replicas {value!r}: expected STAGE=N with a stage among {sorted(SERVICE_MODULES)}"
            )
        replicas[stage] = int(count)
    return replicas


def _up(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(args.data, api_port=args.port, s3=args.s3, replicas=_replicas(args.replicas)) as stack:
        print(
            f"Aodio is up: {stack.api_url}  (API docs: {stack.api_url}/docs; Ctrl-C stops)",
            flush=True,
        )
        try:
            while not stop.wait(1.0):
                if dead := stack.dead_children():
                    print(f"stopping: {', '.join(dead)} exited; see {args.data}/logs", file=sys.stderr)
                    return 1
        except KeyboardInterrupt:
            pass
    return 0


def _process(args: argparse.Namespace) -> int:
    options = {k: v for k, v in (("language", args.language), ("speakers", args.speakers)) if v}
    if args.api:
        client = AodioClient(args.api)
        try:
            return run_process(client, args.file, args.out, options)
        finally:
            client.close()
    with LocalStack(args.data, api_port=0, replicas=_replicas(args.replicas)) as stack:
        client = AodioClient(stack.api_url)
        try:
            return run_process(client, args.file, args.out, options)
        finally:
            client.close()


def _status(args: argparse.Namespace) -> int:
    client = AodioClient(args.api)
    try:
        print(json.dumps(client.job(args.job_id), indent=2))
        return 0
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    commands = {"up": _up, "process": _process, "status": _status}
    try:
        return commands[args.command](args)
    except (StackError, ApiError) as exc:
        print(f"aodio: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
