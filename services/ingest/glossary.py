"""An API key's glossary, and the vocabulary a job runs with: its own terms, then the glossary's.

The glossary is one small object per key (glossaries/<owner>.json, a Glossary). It is merged into the
job's options once, at submission, so the job state and every event carry the words actually used:
a replay, or a later change of the glossary, never changes what an earlier run was told.

Terms are compared case-insensitively (casefold, spaces collapsed) and the first spelling given is
kept: "ComfyUI" and "comfyui" are one term, written "ComfyUI" when the job gave it first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

import msgspec

from contracts import keys
from contracts.artifacts import Glossary, decode_glossary, encode
from contracts.options import JobOptions, Vocabulary
from contracts.state import JobWarning
from runtime.storage.base import ObjectNotFound, Storage

__all__ = [
    "MAX_TERMS",
    "GlossaryError",
    "GlossaryUpdate",
    "Merged",
    "load_glossary",
    "merge_terms",
    "parse_update",
    "save_glossary",
    "unique_terms",
    "with_glossary",
]

# JobOptions.vocabulary's max_length (contracts/options.py; tests/test_vocabulary.py holds them
# together): a glossary never holds more, so every term of it can reach a job.
MAX_TERMS = 200


class GlossaryError(ValueError):
    """The terms given for a glossary are not valid; the message says which and why."""


class GlossaryUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """PUT /v1/glossary's body: the whole list of terms (each 1..64 characters, at most 200)."""

    terms: Annotated[Vocabulary, msgspec.Meta(description="the key's names, products and jargon")]


_update = msgspec.json.Decoder(GlossaryUpdate)


def unique_terms(terms: list[str]) -> list[str]:
    """The terms stripped, without blanks and without later case-insensitive repeats, in order."""
    seen: set[str] = set()
    kept = []
    for term in terms:
        cleaned = " ".join(term.split())
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            kept.append(cleaned)
    return kept


def parse_update(body: bytes) -> list[str]:
    """The glossary's new terms from a PUT body, deduplicated; GlossaryError says what is wrong."""
    try:
        update = _update.decode(body or b"{}")
    except msgspec.DecodeError as exc:  # ValidationError included: the path names the bad term
        raise GlossaryError(f"bad glossary: {exc}") from exc
    return unique_terms(update.terms)


@dataclass(frozen=True)
class Merged:
    terms: list[str]  # the job's terms first, then the glossary's, deduplicated, at most MAX_TERMS
    left_out: list[str]  # glossary terms over the limit


def merge_terms(job_terms: list[str], glossary_terms: list[str], limit: int = MAX_TERMS) -> Merged:
    """The job's terms, then the glossary's it does not have, capped at `limit` (the glossary's go)."""
    every = unique_terms([*job_terms, *glossary_terms])
    return Merged(terms=every[:limit], left_out=every[limit:])


def load_glossary(storage: Storage, owner: str | None) -> Glossary:
    """The key's glossary; an empty one when none was ever set."""
    try:
        return decode_glossary(storage.get_bytes(keys.glossary_key(owner)))
    except ObjectNotFound:
        return Glossary()


def save_glossary(storage: Storage, owner: str | None, terms: list[str]) -> Glossary:
    """Replace the key's glossary with `terms` (already checked by parse_update)."""
    glossary = Glossary(terms=terms, updated_at=round(time.time(), 3))
    storage.put_bytes(keys.glossary_key(owner), encode(glossary), "application/json")
    return glossary


def with_glossary(options: JobOptions, glossary: Glossary) -> tuple[JobOptions, list[JobWarning]]:
    """The options with the glossary merged into `vocabulary`, and a warning when terms were left out."""
    merged = merge_terms(options.vocabulary, glossary.terms)
    warnings = []
    if merged.left_out:
        shown = ", ".join(merged.left_out[:5]) + (", ..." if len(merged.left_out) > 5 else "")
        warnings.append(
            JobWarning(
                stage="ingest",
                code="vocabulary_truncated",
                message=(
                    f"{len(merged.left_out)} glossary term(s) left out of this job's vocabulary: it holds "
                    f"at most {MAX_TERMS} terms and the job's own come first ({shown})"
                ),
            )
        )
    if merged.terms == options.vocabulary:
        return options, warnings
    return msgspec.structs.replace(options, vocabulary=merged.terms), warnings
