"""A transcript as timed sentences, each scored for how much a summary needs it.

A sentence scores for what it says (its content words, weighted by how often the recording returns to
them) and for what it is: a decision, an action (with an owner or a date), or a sentence that a short
marker after it ("Let's write that down as an action item.", "C'est donc décidé.") points at. Selection
then spreads the picks over the whole recording in equal time bins, so a decision made in the last
hour is never crowded out by the first three, and gives every speaker who spoke at all a voice.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from contracts.artifacts import Segment, Transcript, join_words
from services.summarize.language import Cues
from services.summarize.words import real_owner, terms

Kind = Literal["decision", "action", "point", "marker"]

_SENTENCE_END = re.compile(r"[.!?…]+[\"»”')\]]*$")
_SPLIT_TEXT = re.compile(r"(?<=[.!?…])\s+")
DUPLICATE_JACCARD = 0.75  # sentences sharing this much of their content words say the same thing


@dataclass
class Sentence:
    """One sentence on the recording's clock, with what the ranking found in it."""

    index: int
    start: float
    end: float
    speaker: str | None
    text: str
    terms: frozenset[str] = frozenset()
    kind: Kind = "point"
    owner: str | None = None
    due: str | None = None
    score: float = 0.0
    tags: set[str] = field(default_factory=set)

    @property
    def words(self) -> int:
        return len(self.text.split())


def sentences_of(transcript: Transcript) -> list[Sentence]:
    """Every sentence of the transcript in time order, timed by its first and last word."""
    out: list[Sentence] = []
    for segment in transcript.segments:
        for start, end, text in _segment_sentences(segment):
            out.append(Sentence(len(out), start, end, segment.speaker, text))
    return out


def _segment_sentences(segment: Segment) -> Iterable[tuple[float, float, str]]:
    if not segment.words:
        pieces = [p for p in _SPLIT_TEXT.split(segment.text.strip()) if p]
        step = (segment.end - segment.start) / max(len(pieces), 1)
        for i, piece in enumerate(pieces):
            yield segment.start + i * step, segment.start + (i + 1) * step, piece
        return
    current = []
    for word in segment.words:
        current.append(word)
        if _SENTENCE_END.search(word.text.strip()):
            yield current[0].start, current[-1].end, join_words(current)
            current = []
    if current:
        yield current[0].start, current[-1].end, join_words(current)


def terms_of(text: str, cues: Cues) -> list[str]:
    """Content words: bare (elision removed), lower-cased, no stop words (see words.terms)."""
    return terms(text, cues.stopwords)


def score(sentences: list[Sentence], cues: Cues) -> Counter[str]:
    """Classify and score every sentence in place; returns the recording's content-word counts."""
    counts: Counter[str] = Counter()
    for s in sentences:
        terms = terms_of(s.text, cues)
        s.terms = frozenset(terms)
        counts.update(s.terms)
    for i, s in enumerate(sentences):
        _classify(s, cues)
        before = sentences[i - 1] if i > 0 else None
        if s.kind == "marker" and before is not None:  # the marker names what the sentence before it was
            before.tags.add("marked")
            before.kind = "decision" if "decision-marker" in s.tags else "action"
        elif before is not None and _accepts(s, before, cues):
            _accepted(before, s, cues)
    for s in sentences:
        if s.kind == "marker" or not s.terms:
            s.score = 0.0
            continue
        centrality = sum(math.log1p(counts[t]) for t in s.terms) / math.sqrt(len(s.terms))
        bonus = {"decision": 2.0, "action": 1.5, "point": 1.0}[s.kind]
        bonus += 0.5 * bool({"marked", "accepted"} & s.tags)
        bonus += 0.25 * (s.owner is not None) + 0.25 * (s.due is not None)
        # "Thanks.", "Good.": nothing to keep out of context; a question is no point made
        if s.kind == "point" and (s.words < 5 or s.text.rstrip().endswith("?")):
            s.score = 0.0
            continue
        brevity = 1.0 if s.words <= 40 else 0.6  # run-ons read badly out of context
        s.score = centrality * bonus * brevity
    return counts


def commitment(text: str, cues: Cues) -> Literal["decision", "action", "task", "accept"] | None:
    """What a sentence commits to on its own: "decision", "action", or None.

    "task" is a task's verb with no modal (an action only with an owner named), "accept" a yes to
    the request before it (an action only when that request is one).

    A question, a hypothesis or a doubt ("we could", "if the budget allows", "not yet") commits to
    nothing, whatever cue word it holds.
    """
    text = text.strip()
    if text.endswith("?") or cues.tentative.search(text):
        return None
    if cues.decision.search(text):
        return "decision"
    if cues.action.search(text) or cues.self_owner.search(text) or cues.assigned.search(text):
        return "action"
    if cues.accept.search(text):  # "Sure, I can do that.": takes on the request said before it
        return "accept"
    if cues.task.search(text):
        return "task"  # an action only when someone is named for it
    return None


def _classify(s: Sentence, cues: Cues) -> None:
    text = s.text.strip()
    for marker, tag in ((cues.decision_marker, "decision-marker"), (cues.action_marker, "action-marker")):
        found = marker.search(text)
        if found and len(terms(text[found.end() :], cues.stopwords)) <= 1:  # "C'est donc décidé."
            s.kind = "marker"
            s.tags.add(tag)
            return
    assigned = cues.assigned.search(text)
    if assigned:  # "Action for Helen: send the contract ..."
        task = assigned.group("task").strip()
        s.text = task[:1].upper() + task[1:]
        text = s.text
    due = cues.date.search(text)
    s.due = due.group(0) if due else None
    owner = cues.owner.search(text)
    s.owner = real_owner(owner.group(1)) if owner else None
    if assigned:
        s.owner = real_owner(assigned.group("name"))
    if s.owner is None and cues.self_owner.search(text):
        s.owner = s.speaker  # "I'll send it": whoever says it (a label, renamed with the speakers)
    kind = commitment(s.text if assigned else text, cues) if not assigned else "action"
    if kind == "decision":
        s.kind = "decision"
    elif (kind == "action" and (s.owner or s.due)) or (kind == "task" and s.owner):
        s.kind = "action"


def _accepts(s: Sentence, before: Sentence, cues: Cues) -> bool:
    """ "Yes, I will do it." right after another speaker's request ("Jonas, can you book the room?")."""
    return (
        len(s.terms) <= 3
        and s.speaker != before.speaker
        and bool(cues.accept.search(s.text.strip()))
        and bool(cues.request.search(before.text.strip()))
    )


def _accepted(request: Sentence, answer: Sentence, cues: Cues) -> None:
    """The request becomes the action: its task as the text, the one who accepted as its owner."""
    match = cues.request.search(request.text.strip())
    assert match is not None
    task = match.group("task").strip().rstrip("?").strip()
    request.text = task[:1].upper() + task[1:] + "."
    request.kind = "action"
    request.owner = real_owner(match.group("name")) or answer.speaker
    due = cues.date.search(task) or cues.date.search(answer.text)  # "I can do it next week."
    request.due = due.group(0) if due else None
    request.tags.add("accepted")
    answer.kind = "marker"


def select(
    sentences: list[Sentence],
    budget_words: int,
    bins: int,
    kinds: tuple[Kind, ...] = ("decision", "action", "point"),
    chosen: list[Sentence] | None = None,
    every_speaker: bool = True,
) -> list[Sentence]:
    """The best sentences within budget_words, spread over `bins` equal time bins; in time order.

    Each bin gets an equal share of the budget (a bin with too little to say passes its share on);
    a sentence that repeats one already picked is skipped; every speaker gets at least one sentence.
    """
    candidates = [s for s in sentences if s.kind in kinds and s.score > 0]
    if not candidates:
        return []
    picked: list[Sentence] = list(chosen or [])
    start, end = min(s.start for s in sentences), max(s.end for s in sentences)
    width = max((end - start) / bins, 1e-6)
    by_bin: list[list[Sentence]] = [[] for _ in range(bins)]
    for s in candidates:
        by_bin[min(int((s.start - start) / width), bins - 1)].append(s)
    spare, used = 0.0, 0
    for pool in by_bin:
        allowance = budget_words / bins + spare
        spent = 0
        for s in sorted(pool, key=lambda s: -s.score):
            if spent + s.words > allowance:
                continue
            if _repeats(s, picked):
                continue
            picked.append(s)
            spent += s.words
        spare, used = allowance - spent, used + spent
    for speaker in {s.speaker for s in candidates} - {s.speaker for s in picked} if every_speaker else ():
        best = max((s for s in candidates if s.speaker == speaker), key=lambda s: s.score)
        if not _repeats(best, picked):
            picked.append(best)
    own = [s for s in picked if chosen is None or s not in chosen]
    return sorted(own, key=lambda s: s.start)


def _repeats(s: Sentence, picked: list[Sentence]) -> bool:
    for other in picked:
        union = len(s.terms | other.terms)
        if union and len(s.terms & other.terms) / union >= DUPLICATE_JACCARD:
            return True
    return False
