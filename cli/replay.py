"""`aodio replay JOB --from STAGE`: run a job again from a stage with new options (a new generation)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console

from cli.client import AodioClient
from cli.errors import UsageError
from cli.jobs import print_job, stdout_console
from cli.watch import watch

STAGES = ("transcode", "diarize", "transcribe", "assemble", "summarize")


class ReplayClient(AodioClient):
    def replay(self, job_id: str, from_stage: str, options: dict[str, Any]) -> dict[str, Any]:
        body = {"from": from_stage, "options": options}
        return self._call("POST", f"/v1/jobs/{job_id}/replay", json=body).json()  # type: ignore[no-any-return]


def parse_option(pair: str) -> tuple[str, Any]:
    """`name=value`; the value is read as JSON when it parses (2, true, null), else as text."""
    name, sep, raw = pair.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"--option {pair!r}: expected NAME=VALUE, e.g. transcribe_model=base")
    try:
        return name.strip(), json.loads(raw)
    except ValueError:
        return name.strip(), raw


def replay_job(client: ReplayClient, args: argparse.Namespace) -> int:
    options: dict[str, Any] = dict(parse_option(pair) for pair in args.option)
    for name in ("language", "speakers", "transcribe_model", "summary_model", "summary_method"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    reply = client.replay(args.job_id, args.from_stage, options)
    print(
        f"job {reply['job_id']} replays from {reply['from']} as generation {reply['generation']}",
        file=sys.stderr,
    )
    if not args.watch:
        return 0
    job = watch(client, args.job_id, Console(stderr=True))
    print_job(job, stdout_console())
    return 1 if job.get("status") == "failed" else 0


def add_parser(sub: Any, remote: argparse.ArgumentParser) -> None:
    """Register `aodio replay` on the CLI's subparsers; `remote` carries --api and --api-key."""
    replay = sub.add_parser(
        "replay",
        parents=[remote],
        help="run a job again from a stage with new options, reusing the work before it",
    )
    replay.add_argument("job_id", metavar="JOB")
    replay.add_argument(
        "--from", dest="from_stage", required=True, choices=STAGES, help="the first stage to run again"
    )
    replay.add_argument("--language", help="force a language, e.g. fr")
    replay.add_argument("--speakers", type=int, help="exact number of speakers")
    replay.add_argument("--transcribe-model", dest="transcribe_model", help="e.g. base, tiny.en, a path")
    replay.add_argument("--summary-model", dest="summary_model", help="any litellm model, or local/...")
    replay.add_argument("--summary-method", dest="summary_method", choices=("llm", "extractive", "none"))
    replay.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other job option (repeatable)",
    )
    replay.add_argument("--watch", action="store_true", help="follow the new run until it ends")

    def run(args: argparse.Namespace) -> int:
        client = ReplayClient(args.api, args.api_key)
        with client:
            return replay_job(client, args)

    replay.set_defaults(run=run)
