"""`aodio people`: voice profiles, to know who speaks across recordings.

    aodio people list                          every person, samples and seconds of speech
    aodio people add NAME                      a new person with no voice yet
    aodio people rename ID NAME
    aodio people merge ID FROM_ID              FROM_ID's samples move to ID; FROM_ID is deleted
    aodio people delete ID                     the profile and every voice vector of it
    aodio people enroll ID FILE                a recording of the person: a job enrols its main voice
    aodio people is JOB LABEL (ID | --name N)  SPEAKER_2 of JOB is that person (a new one for --name)
    aodio people not JOB LABEL ID              SPEAKER_2 of JOB is not that person

Data goes to stdout, notes to stderr. Talks to the API (--api, --api-key) like the job commands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from cli.client import AodioClient, remote_command
from cli.errors import UsageError
from cli.jobs import local_time, print_json, stdout_console
from contracts.api import Person, SpeakerPerson


def add_parser(sub: Any, remote: argparse.ArgumentParser) -> None:
    """Register `aodio people ACTION` on the CLI's subparsers; `remote` carries --api and --api-key."""
    people = sub.add_parser("people", help="voice profiles: who speaks, across recordings")
    actions = people.add_subparsers(dest="people_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[remote], help="every person, by name")
    listing.add_argument("--json", action="store_true", help="JSON for machines")
    listing.set_defaults(run=remote_command(lambda c, a: list_people(c, a.json)))
    add = actions.add_parser("add", parents=[remote], help="a new person, with no voice yet")
    add.add_argument("name")
    add.set_defaults(run=remote_command(lambda c, a: _print_person(c.add_person(a.name))))
    rename = actions.add_parser("rename", parents=[remote], help="rename a person")
    rename.add_argument("person_id", metavar="ID")
    rename.add_argument("name")
    rename.set_defaults(run=remote_command(lambda c, a: _print_person(c.rename_person(a.person_id, a.name))))
    merge = actions.add_parser("merge", parents=[remote], help="two profiles of one person into ID")
    merge.add_argument("person_id", metavar="ID")
    merge.add_argument("from_id", metavar="FROM_ID", help="its samples move to ID, then it is deleted")
    merge.set_defaults(run=remote_command(lambda c, a: _print_person(c.merge_people(a.person_id, a.from_id))))
    delete = actions.add_parser("delete", parents=[remote], help="forget a person and every vector of them")
    delete.add_argument("person_id", metavar="ID")
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask")
    delete.set_defaults(run=remote_command(lambda c, a: delete_person(c, a.person_id, a.yes)))
    enroll = actions.add_parser("enroll", parents=[remote], help="enrol a recording of the person's voice")
    enroll.add_argument("person_id", metavar="ID")
    enroll.add_argument("file", type=Path)
    enroll.set_defaults(run=remote_command(lambda c, a: enrol(c, a.person_id, a.file)))
    is_ = actions.add_parser("is", parents=[remote], help="a job's speaker is this person")
    is_.add_argument("job_id", metavar="JOB")
    is_.add_argument("label", metavar="LABEL", help="the speaker label, e.g. SPEAKER_2")
    is_.add_argument("person_id", metavar="ID", nargs="?", help="an existing person")
    is_.add_argument("--name", help="or a name: that person, else a new one")
    is_.set_defaults(run=remote_command(lambda c, a: speaker_is(c, a.job_id, a.label, a.person_id, a.name)))
    not_ = actions.add_parser("not", parents=[remote], help="a job's speaker is not this person")
    not_.add_argument("job_id", metavar="JOB")
    not_.add_argument("label", metavar="LABEL")
    not_.add_argument("person_id", metavar="ID")
    not_.set_defaults(
        run=remote_command(lambda c, a: _print_speaker(c.speaker_is_not(a.job_id, a.label, a.person_id)))
    )


def _speech(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def list_people(client: AodioClient, as_json: bool) -> int:
    """`aodio people list`: every person of the key, by name."""
    people = client.people().people
    if as_json:
        print_json(people)
        return 0
    if not people:
        print("no people yet: `aodio people is JOB LABEL --name NAME` names a job's speaker", file=sys.stderr)
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("id", "name", "samples", "speech", "updated"):
        table.add_column(column, justify="right" if column in ("samples", "speech") else "left")
    for person in people:
        table.add_row(
            person.person_id,
            escape(person.name),
            str(person.samples),
            _speech(person.speech_s),
            local_time(person.updated_at),
        )
    stdout_console().print(table)
    return 0


def _print_person(person: Person) -> int:
    samples = f"{person.samples} sample(s), {_speech(person.speech_s)} of speech"
    print(f"{person.person_id}  {person.name}  ({samples})")
    return 0


def _print_speaker(answer: SpeakerPerson) -> int:
    identity, person = answer.identity, answer.person
    if identity is not None:
        similar = f"voice similarity {identity.confidence:.2f}"
        print(f"{answer.speaker} of job {answer.job_id} is {identity.name} ({similar})")
    else:
        who = person.name if person is not None else "the person it was (no longer a profile)"
        print(f"{answer.speaker} of job {answer.job_id} is not {who}")
    if person is not None:
        _print_person(person)
    return 0


def speaker_is(client: AodioClient, job_id: str, label: str, person_id: str | None, name: str | None) -> int:
    """`aodio people is`: the job's speaker is that person; their voice joins the profile."""
    if (person_id is None) == (name is None):
        raise UsageError("people is: give a person's ID or --name NAME (one of them)")
    return _print_speaker(client.speaker_is(job_id, label, person_id=person_id, name=name))


def delete_person(client: AodioClient, person_id: str, confirmed: bool) -> int:
    """`aodio people delete`: the profile and its vectors; asks first unless --yes."""
    person = client.person(person_id)  # unknown person: 404 before any question
    if not confirmed:
        if not sys.stdin.isatty():
            raise UsageError(f"people delete {person_id}: pass --yes to delete without a question")
        answer = input(f"forget {person.name} and the {person.samples} voice sample(s) kept of them? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept", file=sys.stderr)
            return 1
    client.delete_person(person_id)
    print(f"deleted {person.name} ({person_id})", file=sys.stderr)
    return 0


def enrol(client: AodioClient, person_id: str, path: Path) -> int:
    """`aodio people enroll`: upload the recording; its job enrols the voice when it is done."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    person = client.person(person_id)
    columns = (TextColumn("{task.description:>12}"), BarColumn(), DownloadColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("upload", total=path.stat().st_size)
        accepted = client.enrol_sample(person_id, path, lambda n: bar.advance(task, n))
    print(accepted.job_id)
    print(
        f"enrolling a sample of {person.name}: follow it with `aodio show {accepted.job_id} --watch`",
        file=sys.stderr,
    )
    return 0
