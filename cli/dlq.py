"""`aodio dlq`: the dead letters (messages a stage gave up on): list, show, retry, drop.

Data goes to stdout, notes to stderr. Talks to the API (--api, --api-key) like the job commands.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.markup import escape
from rich.table import Table

from cli.client import AodioClient, remote_command
from cli.errors import UsageError
from cli.jobs import local_time, print_json, stdout_console
from contracts.api import StoredDeadLetter


def add_parser(sub: Any, remote: argparse.ArgumentParser) -> None:
    """Register `aodio dlq ACTION` on the CLI's subparsers; `remote` carries --api and --api-key."""
    dlq = sub.add_parser("dlq", help="dead letters: messages a stage gave up on")
    actions = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[remote], help="the letters still waiting, oldest first")
    listing.add_argument("--stage", help="only this stage's letters, e.g. transcode")
    listing.add_argument("--job", metavar="JOB", help="only this job's letters")
    listing.add_argument("--json", action="store_true", help="JSON for machines")
    listing.set_defaults(run=remote_command(lambda c, a: list_letters(c, a.stage, a.job, a.json)))
    show = actions.add_parser("show", parents=[remote], help="one letter with its payload (JSON)")
    show.add_argument("letter_id", metavar="ID")
    show.set_defaults(run=remote_command(lambda c, a: show_letter(c, a.letter_id)))
    retry = actions.add_parser("retry", parents=[remote], help="send the message to its stage again")
    retry.add_argument("letter_id", metavar="ID")
    retry.set_defaults(run=remote_command(lambda c, a: retry_letter(c, a.letter_id)))
    drop = actions.add_parser("drop", parents=[remote], help="discard a letter without retrying it")
    drop.add_argument("letter_id", metavar="ID")
    drop.add_argument("--yes", "-y", action="store_true", help="do not ask")
    drop.set_defaults(run=remote_command(lambda c, a: drop_letter(c, a.letter_id, a.yes)))


def list_letters(client: AodioClient, stage: str | None, job_id: str | None, as_json: bool) -> int:
    """`aodio dlq list`: every letter still waiting, oldest first."""
    letters: list[StoredDeadLetter] = []
    after: int | None = 0
    while after is not None:
        page = client.dead_letters(after, stage, job_id)
        letters += page.dead_letters
        after = page.next_after
    if as_json:
        print_json(letters)
        return 0
    if not letters:
        print("no dead letters", file=sys.stderr)
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("id", "stage", "job", "attempts", "failed", "reason"):
        table.add_column(
            column, no_wrap=column != "reason", justify="right" if column == "attempts" else "left"
        )
    for letter in letters:
        table.add_row(
            str(letter.id),
            escape(letter.stage),
            escape(letter.job_id or "-"),
            str(letter.attempts or ""),
            local_time(letter.failed_at),
            f"[red]{escape(letter.reason)}[/red]",
        )
    stdout_console().print(table)
    return 0


def show_letter(client: AodioClient, letter_id: str) -> int:
    """`aodio dlq show`: the whole letter as JSON (the payload is what the stage was given)."""
    print_json(client.dead_letter(letter_id))
    return 0


def retry_letter(client: AodioClient, letter_id: str) -> int:
    """`aodio dlq retry`: the message goes to its stage again; the letter is removed."""
    retried = client.retry_dead_letter(letter_id)
    job = f" (job {retried.job_id}, now {retried.job_status})" if retried.job_id else ""
    print(f"retried dead letter {letter_id} as message {retried.sequence}{job}", file=sys.stderr)
    return 0


def drop_letter(client: AodioClient, letter_id: str, confirmed: bool) -> int:
    """`aodio dlq drop`: discard the letter; asks first unless --yes."""
    letter = client.dead_letter(letter_id)  # unknown letter: 404 before any question
    if not confirmed:
        if not sys.stdin.isatty():
            raise UsageError(f"dlq drop {letter_id}: pass --yes to drop without a question")
        answer = input(f"drop dead letter {letter_id} of {letter.stage} ({letter.reason})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept", file=sys.stderr)
            return 1
    client.drop_dead_letter(letter_id)
    print(f"dropped dead letter {letter_id}", file=sys.stderr)
    return 0
