"""`aodio replay`: run a job again from a stage with new options (a new generation), or every job of a
time range through one stage, a few at a time so that live jobs keep flowing.

    aodio replay JOB --from diarize --speakers 3
    aodio replay --from summarize --since 7d --summary-model openai/gpt-4o-mini --max-in-flight 2
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from rich.console import Console

from cli.client import AodioClient, remote_command
from cli.errors import UsageError
from cli.glossary import add_vocabulary_options, vocabulary_from
from cli.jobs import print_job, stdout_console
from cli.watch import watch
from contracts.api import JobSummary
from contracts.pipeline import REPLAYABLE

STAGES = REPLAYABLE  # the stages a replay may start from (the pipeline graph)


def parse_option(pair: str) -> tuple[str, Any]:
    """`name=value`; the value is read as JSON when it parses (2, true, null), else as text."""
    name, sep, raw = pair.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"--option {pair!r}: expected NAME=VALUE, e.g. transcribe_model=base")
    try:
        return name.strip(), json.loads(raw)
    except ValueError:
        return name.strip(), raw


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FINAL = ("completed", "failed")


def parse_time(text: str, now: float | None = None) -> float:
    """A point in time: ISO 8601 (2026-11-18, 2026-11-18T09:00) or an age (90m, 12h, 7d, 2w)."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return (now or time.time()) - float(relative.group(1)) * _UNIT_S[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(
            f"{text!r} is not a time: use 2026-11-18, 2026-11-18T09:00, or an age like 7d"
        ) from exc
    return moment.timestamp() if moment.tzinfo else moment.astimezone().timestamp()


def jobs_between(client: AodioClient, since: float, until: float) -> Iterator[JobSummary]:
    """Finished jobs created in [since, until), newest first, page by page."""
    before = None
    while True:
        page = client.jobs(limit=200, before=before)
        for job in page.jobs:
            if job.created_at < since:
                return
            if job.created_at < until and job.status in FINAL:
                yield job
        before = page.next_before
        if not before:
            return


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = dict(parse_option(pair) for pair in args.option)
    for name in ("language", "speakers", "transcribe_model", "summary_model", "summary_method"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    if terms := vocabulary_from(args):
        options["vocabulary"] = terms  # this run's words; the glossary was merged at submission
    return options


def _reap(client: AodioClient, running: list[str]) -> tuple[list[str], int, int]:
    """The replays still running, and how many of the others finished and failed."""
    states = {job_id: client.job(job_id)["status"] for job_id in running}
    finished = [job_id for job_id, status in states.items() if status in FINAL]
    failed = sum(states[job_id] == "failed" for job_id in finished)
    return [job_id for job_id in running if job_id not in finished], len(finished), failed


def replay_range(client: AodioClient, args: argparse.Namespace) -> int:
    """Every finished job of the range through one stage, at most `max_in_flight` replays at a time."""
    since = parse_time(args.since)
    until = parse_time(args.until) if args.until else time.time()
    options = _options(args)
    running: list[str] = []
    done = failed = 0
    for job in jobs_between(client, since, until):
        while len(running) >= max(1, args.max_in_flight):
            time.sleep(args.poll_s)
            running, finished, lost = _reap(client, running)
            done, failed = done + finished, failed + lost
        reply = client.replay(job.job_id, args.from_stage, options)
        print(
            f"{reply.job_id}: replaying from {reply.from_stage} (generation {reply.generation})",
            file=sys.stderr,
        )
        running.append(job.job_id)
    while running:
        time.sleep(args.poll_s)
        running, finished, lost = _reap(client, running)
        done, failed = done + finished, failed + lost
    print(
        f"replayed {done} job(s) from {args.from_stage}: {done - failed} completed, {failed} failed",
        file=sys.stderr,
    )
    return 1 if failed else 0


def replay_job(client: AodioClient, args: argparse.Namespace) -> int:
    if args.job_id is None:
        if not args.since:
            raise UsageError("name a JOB, or a range of jobs with --since (and --until)")
        return replay_range(client, args)
    if args.since or args.until:
        raise UsageError("give either a JOB or --since/--until, not both")
    options = _options(args)
    reply = client.replay(args.job_id, args.from_stage, options)
    print(
        f"job {reply.job_id} replays from {reply.from_stage} as generation {reply.generation}",
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
    replay.add_argument("job_id", metavar="JOB", nargs="?", help="the job; or a range with --since")
    replay.add_argument(
        "--from",
        "--stage",
        dest="from_stage",
        required=True,
        choices=STAGES,
        help="the first stage to run again",
    )
    replay.add_argument(
        "--since", help="every finished job created since: 2026-11-18, 2026-11-18T09:00, 7d, 12h"
    )
    replay.add_argument("--until", help="... and before this time (default: now)")
    replay.add_argument(
        "--max-in-flight", type=int, default=2, help="replays at once for a range (default 2)"
    )
    replay.add_argument("--poll-s", type=float, default=2.0, help=argparse.SUPPRESS)
    replay.add_argument("--language", help="force a language, e.g. fr")
    replay.add_argument("--speakers", type=int, help="exact number of speakers")
    replay.add_argument("--transcribe-model", dest="transcribe_model", help="e.g. base, tiny.en, a path")
    replay.add_argument("--summary-model", dest="summary_model", help="any litellm model, or local/...")
    replay.add_argument("--summary-method", dest="summary_method", choices=("llm", "extractive", "none"))
    add_vocabulary_options(replay)
    replay.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other job option (repeatable)",
    )
    replay.add_argument("--watch", action="store_true", help="follow the new run until it ends")

    replay.set_defaults(run=remote_command(replay_job))
