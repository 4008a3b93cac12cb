"""`aodio glossary` and `--vocabulary`: names, products and jargon spelled as you write them.

    aodio glossary show [--json]        the API key's glossary, one term a line
    aodio glossary set TERM...          replace it (no term: empty it)
    aodio glossary add TERM...          add terms (a term already there, in any case, is kept once)
    aodio glossary remove TERM...       remove terms (any case)

    aodio process FILE --vocabulary "ComfyUI,Anthropic" [--vocabulary-file terms.txt]

A job's own vocabulary comes first; the key's glossary is added to it when the job is submitted.
A TERM may hold spaces ("Nguyen Thi Hoa"): quote it. Everywhere, commas separate terms too
("ComfyUI,Anthropic" is two), and so do new lines; a file's lines starting with # are comments.
Data goes to stdout, notes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.client import AodioClient, remote_command
from cli.errors import UsageError
from cli.jobs import print_json

__all__ = ["add_parser", "add_vocabulary_options", "split_terms", "vocabulary_from"]

MAX_TERMS = 200  # JobOptions.vocabulary's limit; the API says so too, with the reason
MAX_TERM_CHARS = 64


def split_terms(text: str) -> list[str]:
    """Terms from text separated by commas or new lines; blanks and # comment lines left out."""
    terms = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        terms += [" ".join(part.split()) for part in line.split(",")]
    return [term for term in terms if term]


def unique(terms: list[str]) -> list[str]:
    """The terms without later repeats in any case; the first spelling is kept (as the API does)."""
    seen: set[str] = set()
    kept = []
    for term in terms:
        if term.casefold() not in seen:
            seen.add(term.casefold())
            kept.append(term)
    return kept


def add_vocabulary_options(parser: argparse.ArgumentParser) -> None:
    """--vocabulary and --vocabulary-file on a command that submits or replays a job."""
    parser.add_argument(
        "--vocabulary",
        action="append",
        default=[],
        metavar="TERMS",
        help='names and terms to spell as given, comma-separated: "ComfyUI,Nguyen Thi Hoa" (repeatable)',
    )
    parser.add_argument(
        "--vocabulary-file",
        type=Path,
        metavar="FILE",
        help="more terms, one a line (or comma-separated); # starts a comment line",
    )


def vocabulary_from(args: argparse.Namespace) -> list[str]:
    """The job's vocabulary from --vocabulary and --vocabulary-file, checked as the API will."""
    terms = [term for value in args.vocabulary for term in split_terms(value)]
    if args.vocabulary_file is not None:
        try:
            terms += split_terms(args.vocabulary_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--vocabulary-file {args.vocabulary_file}: {exc}") from exc
    return checked(unique(terms))


def checked(terms: list[str]) -> list[str]:
    """The terms, or a UsageError naming the first one the API would refuse."""
    for term in terms:
        if len(term) > MAX_TERM_CHARS:
            raise UsageError(f"vocabulary term {term[:20]!r}... is longer than {MAX_TERM_CHARS} characters")
    if len(terms) > MAX_TERMS:
        raise UsageError(f"{len(terms)} vocabulary terms: a job takes at most {MAX_TERMS}")
    return terms


def show(client: AodioClient, as_json: bool) -> int:
    glossary = client.glossary()
    if as_json:
        print_json(glossary)
        return 0
    for term in glossary.terms:
        print(term)
    if not glossary.terms:
        print("the glossary is empty: `aodio glossary add TERM...`", file=sys.stderr)
    return 0


def set_terms(client: AodioClient, terms: list[str]) -> int:
    glossary = client.set_glossary(checked(unique(terms)))
    print(f"the glossary holds {len(glossary.terms)} term(s)", file=sys.stderr)
    return 0


def add(client: AodioClient, terms: list[str]) -> int:
    current = client.glossary().terms
    return set_terms(client, [*current, *terms])


def remove(client: AodioClient, terms: list[str]) -> int:
    current = client.glossary().terms
    gone = {t.casefold() for t in terms}
    missing = sorted(gone - {t.casefold() for t in current})
    if missing:
        print(f"not in the glossary: {', '.join(missing)}", file=sys.stderr)
    return set_terms(client, [t for t in current if t.casefold() not in gone])


def _on_terms(
    action: Callable[[AodioClient, list[str]], int],
) -> Callable[[AodioClient, argparse.Namespace], int]:
    """A command taking TERM arguments, each of which may hold several, comma-separated."""

    def run(client: AodioClient, args: argparse.Namespace) -> int:
        return action(client, [term for value in args.terms for term in split_terms(value)])

    return run


def add_parser(sub: Any, remote: argparse.ArgumentParser) -> None:
    """Register `aodio glossary ACTION` on the CLI's subparsers; `remote` carries --api and --api-key."""
    glossary = sub.add_parser("glossary", help="the API key's names and terms, for every job it submits")
    actions = glossary.add_subparsers(dest="glossary_command", required=True, metavar="ACTION")
    listing = actions.add_parser("show", parents=[remote], help="the glossary, one term a line")
    listing.add_argument("--json", action="store_true", help="JSON for machines")
    listing.set_defaults(run=remote_command(lambda c, a: show(c, a.json)))
    for name, action, help_text in (
        ("set", set_terms, "replace the glossary (no TERM: empty it)"),
        ("add", add, "add terms"),
        ("remove", remove, "remove terms (any case)"),
    ):
        parser = actions.add_parser(name, parents=[remote], help=help_text)
        parser.add_argument("terms", nargs="*" if name == "set" else "+", metavar="TERM")
        parser.set_defaults(run=remote_command(_on_terms(action)))
