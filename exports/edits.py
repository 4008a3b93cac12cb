"""Edits people make to a transcript, as pure functions: a Transcript in, the edited one and its Revision out.

Every edit is a splice (contracts.artifacts.Revision): segments [start, start + len(before)) became
`after` segments. The Revision keeps the segments it replaced, so `undo` puts them back. Undo is a
stack: it takes back the latest edit not taken back yet, so every edit after that one is undone or
is an undo itself, and the transcript around its splice is as that edit left it.

Word timings: a word an edit does not touch keeps its timing exactly. When text is replaced, the old
and new words are aligned (difflib on words compared without case or punctuation): an equal word keeps
its timing, a replaced run gives its whole span to the new words (split by their length in characters),
an inserted word gets a zero-length span where it was inserted, a deleted word disappears. A segment's
start and end follow its words; a word a person wrote has probability 1.0.

No I/O here: services/ingest/edits.py reads, stores and numbers the revisions.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from msgspec.structs import replace

from contracts.artifacts import Revision, RevisionLog, Segment, Transcript, Word, join_words

__all__ = [
    "NEW_SPEAKER",
    "REVISION",
    "Action",
    "EditError",
    "NothingToUndo",
    "Stamp",
    "align_words",
    "change_speaker",
    "correct_word",
    "forget_after",
    "latest_undoable",
    "merge_segments",
    "next_label",
    "record",
    "replace_text",
    "revision_of",
    "speakers_of",
    "split_segment",
    "undo",
]

Action = Literal["text", "word", "speaker", "split", "merge", "undo"]  # Revision.action

NEW_SPEAKER = "new"  # change_speaker's speaker for "a speaker not in the transcript yet"
# The revision an edited transcript is at, kept in what made it (Transcript.model) beside the models:
# absent (0) as assemble wrote it, so the JSON of a transcript no one edited stays byte for byte.
REVISION = "revision"
_LABEL = re.compile(r"^SPEAKER_(\d+)$")
MAX_TEXT_CHARS = 5000


class EditError(ValueError):
    """An edit that cannot apply as asked (an index out of range, empty text...): the message says why."""


class NothingToUndo(EditError):
    """Every edit is undone already, or none was made."""


@dataclass(frozen=True)
class Stamp:
    """What every revision records: its number (the job's next transcript_revision), who, and when."""

    number: int
    author: str | None
    at: float


# --- the edits ------------------------------------------------------------------------------------


def correct_word(
    t: Transcript, segment: int, word: int, text: str, stamp: Stamp
) -> tuple[Transcript, Revision]:
    """Word `word` of segment `segment` now reads `text` (several words share its span)."""
    old = _segment(t, segment)
    if not 0 <= word < len(old.words):
        raise EditError(f"segment {segment} has {len(old.words)} words: there is no word {word}")
    tokens = _tokens(text)
    target = old.words[word]
    if " ".join(tokens) == target.text.strip():
        raise EditError(f"word {word} of segment {segment} already reads {text.strip()!r}")
    spaced = [(" " if i or target.text.startswith(" ") else "") + token for i, token in enumerate(tokens)]
    new_words = _spread(spaced, target.start, target.end, old.speaker)
    words = [*old.words[:word], *new_words, *old.words[word + 1 :]]
    detail = f"segment {segment + 1}, word {word + 1}: {target.text.strip()!r} -> {' '.join(tokens)!r}"
    return _splice(t, segment, [old], [_rebuilt(old, words)], "word", detail, stamp)


def replace_text(t: Transcript, segment: int, text: str, stamp: Stamp) -> tuple[Transcript, Revision]:
    """Segment `segment` now reads `text`; its words are realigned (module docstring)."""
    old = _segment(t, segment)
    tokens = _tokens(text)
    if " ".join(tokens) == old.text.strip():
        raise EditError(f"segment {segment} already reads this text")
    words = align_words(old.words, tokens, old.speaker)
    return _splice(t, segment, [old], [_rebuilt(old, words)], "text", f"segment {segment + 1}: text", stamp)


def change_speaker(
    t: Transcript, segment: int, speaker: str, stamp: Stamp, known: tuple[str, ...] = ()
) -> tuple[Transcript, Revision]:
    """Segment `segment` (and its words) spoken by `speaker`: a label of the transcript, one of `known`
    (labels the job has names for), or NEW_SPEAKER for the next free SPEAKER_n."""
    old = _segment(t, segment)
    labels = [*t.speakers, *(label for label in known if label not in t.speakers)]
    if speaker == NEW_SPEAKER:
        speaker = next_label(labels)
    elif speaker not in labels:
        raise EditError(
            f"no speaker {speaker!r} in this transcript (it has: {', '.join(labels) or 'none'}); "
            f"use {NEW_SPEAKER!r} for a new one"
        )
    if speaker == old.speaker:
        raise EditError(f"segment {segment} is {speaker}'s already")
    new = replace(old, speaker=speaker, words=[replace(w, speaker=speaker) for w in old.words])
    detail = f"segment {segment + 1}: speaker {old.speaker or 'none'} -> {speaker}"
    return _splice(t, segment, [old], [new], "speaker", detail, stamp)


def split_segment(t: Transcript, segment: int, word: int, stamp: Stamp) -> tuple[Transcript, Revision]:
    """Segment `segment` as two: its words before word `word`, and the rest."""
    old = _segment(t, segment)
    if not 1 <= word < len(old.words):
        raise EditError(
            f"segment {segment} has {len(old.words)} words: a split goes before word 1 to "
            f"{len(old.words) - 1}, not {word}"
        )
    parts = [_rebuilt(old, old.words[:word]), _rebuilt(old, old.words[word:])]
    detail = f"segment {segment + 1} split before word {word + 1}"
    return _splice(t, segment, [old], parts, "split", detail, stamp)


def merge_segments(t: Transcript, segment: int, stamp: Stamp) -> tuple[Transcript, Revision]:
    """Segments `segment` and `segment + 1` as one, spoken by the first one's speaker."""
    first = _segment(t, segment)
    if segment + 1 >= len(t.segments):
        raise EditError(f"segment {segment} is the last one: there is no next segment to merge it with")
    second = t.segments[segment + 1]
    words = [*first.words, *(replace(w, speaker=first.speaker) for w in second.words)]
    merged = replace(_rebuilt(first, words), overlap=first.overlap or second.overlap)
    detail = f"segments {segment + 1}+{segment + 2} merged"
    return _splice(t, segment, [first, second], [merged], "merge", detail, stamp)


def undo(t: Transcript, log: RevisionLog, stamp: Stamp) -> tuple[Transcript, Revision]:
    """The latest edit not undone yet, taken back: its `before` segments replace the ones it made."""
    target = latest_undoable(log)
    if target is None:
        raise NothingToUndo("there is no edit to undo")
    end = target.start + target.after
    if end > len(t.segments):
        raise EditError(
            f"revision {target.number} made segments {target.start}..{end - 1}, but the transcript has "
            f"{len(t.segments)}: it cannot be undone"
        )
    made = t.segments[target.start : end]
    detail = f"undo of revision {target.number} ({target.detail or target.action})"
    edited, revision = _splice(t, target.start, made, list(target.before), "undo", detail, stamp)
    return edited, replace(revision, undoes=target.number)


# --- the log --------------------------------------------------------------------------------------


def revision_of(t: Transcript) -> int:
    """The number of the edit that made this transcript (0: as assemble wrote it)."""
    value = t.model.get(REVISION, 0)
    return value if isinstance(value, int) else 0


def latest_undoable(log: RevisionLog) -> Revision | None:
    """The latest revision that is an edit (not an undo) and not undone yet."""
    return next((r for r in reversed(log.revisions) if r.action != "undo" and not r.undone), None)


def record(log: RevisionLog, revision: Revision) -> RevisionLog:
    """The log with `revision` appended; an undo marks the revision it took back as undone."""
    revisions = [
        replace(r, undone=True) if revision.undoes is not None and r.number == revision.undoes else r
        for r in log.revisions
    ]
    return replace(log, revisions=[*revisions, revision])


def forget_after(log: RevisionLog, number: int) -> RevisionLog:
    """The log without the revisions after `number` (they never reached the transcript), undos reverted."""
    dropped = [r for r in log.revisions if r.number > number]
    undone_by_dropped = {r.undoes for r in dropped if r.undoes is not None}
    kept = [
        replace(r, undone=False) if r.number in undone_by_dropped else r
        for r in log.revisions
        if r.number <= number
    ]
    return replace(log, revisions=kept)


# --- words and segments ---------------------------------------------------------------------------


def align_words(old: list[Word], tokens: list[str], speaker: str | None) -> list[Word]:
    """New words for `tokens`, with the timings of the old words they match (module docstring)."""
    lead = " " if not old or old[0].text.startswith(" ") else ""
    spaced = [(" " if i else lead) + token for i, token in enumerate(tokens)]
    matcher = difflib.SequenceMatcher(
        a=[_normal(w.text) for w in old], b=[_normal(token) for token in tokens], autojunk=False
    )
    words: list[Word] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for word, text in zip(old[i1:i2], spaced[j1:j2], strict=True):
                same = word.text == text
                words.append(word if same else replace(word, text=text, probability=1.0))
        elif op == "replace":
            start, end = old[i1].start, max(w.end for w in old[i1:i2])
            words += _spread(spaced[j1:j2], start, end, speaker)
        elif op == "insert":
            at = old[i1 - 1].end if i1 > 0 else (old[i1].start if old else 0.0)
            words += _spread(spaced[j1:j2], at, at, speaker)
        # "delete": the words go
    return words


def next_label(labels: list[str]) -> str:
    """The next free SPEAKER_n after every numbered label (zero-padded like them, if they are)."""
    numbers = [match for label in labels if (match := _LABEL.match(label))]
    if not numbers:
        return "SPEAKER_1"
    width = max(len(m.group(1)) for m in numbers) if any(m.group(1).startswith("0") for m in numbers) else 1
    return f"SPEAKER_{max(int(m.group(1)) for m in numbers) + 1:0{width}d}"


def speakers_of(segments: list[Segment]) -> list[str]:
    """The speakers of the segments in order of first appearance (as assemble lists them)."""
    return list(dict.fromkeys(s.speaker for s in segments if s.speaker is not None))


def _segment(t: Transcript, index: int) -> Segment:
    if not 0 <= index < len(t.segments):
        raise EditError(f"the transcript has {len(t.segments)} segments: there is no segment {index}")
    return t.segments[index]


def _tokens(text: str) -> list[str]:
    tokens = text.split()
    if not tokens:
        raise EditError("the text is empty: to remove a passage, merge it into its neighbour instead")
    if len(text) > MAX_TEXT_CHARS or not all(token.isprintable() for token in tokens):
        raise EditError(f"the text must be printable, at most {MAX_TEXT_CHARS} characters")
    return tokens


def _normal(text: str) -> str:
    """A word compared without case or punctuation ("Hello," is "hello"); punctuation alone as itself."""
    folded = "".join(c for c in text.casefold() if c.isalnum())
    return folded or text.strip()


def _spread(texts: list[str], start: float, end: float, speaker: str | None) -> list[Word]:
    """Words a person wrote, sharing [start, end] by their length in characters."""
    weights = [max(1, len(text.strip())) for text in texts]
    total, span = sum(weights), max(0.0, end - start)
    words, done = [], 0
    for text, weight in zip(texts, weights, strict=True):
        begin = start + span * done / total
        done += weight
        finish = end if done == total else start + span * done / total
        words.append(Word(round(begin, 3), round(finish, 3), text, 1.0, speaker))
    return words


def _rebuilt(old: Segment, words: list[Word]) -> Segment:
    """A segment with these words: its times and text follow them; its speaker and flags stay."""
    return replace(
        old,
        start=min(w.start for w in words),
        end=max(w.end for w in words),
        text=join_words(words),
        words=words,
    )


def _splice(
    t: Transcript,
    start: int,
    before: list[Segment],
    after: list[Segment],
    action: Action,
    detail: str,
    stamp: Stamp,
) -> tuple[Transcript, Revision]:
    segments = [*t.segments[:start], *after, *t.segments[start + len(before) :]]
    model = {**t.model, REVISION: stamp.number}
    edited = replace(t, segments=segments, speakers=speakers_of(segments), model=model)
    revision = Revision(
        number=stamp.number,
        author=stamp.author,
        at=stamp.at,
        action=action,
        detail=detail,
        start=start,
        before=list(before),
        after=len(after),
    )
    return edited, revision
