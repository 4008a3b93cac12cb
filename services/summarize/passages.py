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

from services.assemble.transcript import Segment, Transcript, join_words
from services.summarize.language import Cues, real_owner

Kind = Literal["decision", "action", "point", "marker"]

_SENTENCE_END = re.compile(r"[.!?…]+[\"»”')\]]*$")
_SPLIT_TEXT = re.compile(r"(?<=[.!?…])\s+")
_TOKEN = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
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
    """Content words: lower-cased, no stopwords, at least three letters (or four without a stopword list)."""
    minimum = 3 if cues.stopwords else 4
    tokens = (t.casefold().strip("'-") for t in _TOKEN.findall(text))
    return [t for t in tokens if len(t) >= minimum and t not in cues.stopwords and not t.startswith("'")]


def score(sentences: list[Sentence], cues: Cues) -> Counter[str]:
    """Classify and score every sentence in place; returns the recording's content-word counts."""
    counts: Counter[str] = Counter()
    for s in sentences:
        terms = terms_of(s.text, cues)
        s.terms = frozenset(terms)
        counts.update(s.terms)
    for i, s in enumerate(sentences):
        _classify(s, cues)
        if s.kind == "marker" and i > 0:  # the marker names what the sentence before it was
            before = sentences[i - 1]
            before.tags.add("marked")
            before.kind = "decision" if "decision-marker" in s.tags else "action"
    for s in sentences:
        if s.kind == "marker" or not s.terms:
            s.score = 0.0
            continue
        centrality = sum(math.log1p(counts[t]) for t in s.terms) / math.sqrt(len(s.terms))
        bonus = {"decision": 2.0, "action": 1.5, "point": 1.0}[s.kind]
        bonus += 0.5 * ("marked" in s.tags) + 0.25 * (s.owner is not None) + 0.25 * (s.due is not None)
        if s.kind == "point" and s.words < 5:  # "Thanks.", "Good.": nothing to keep out of context
            s.score = 0.0
            continue
        brevity = 1.0 if s.words <= 40 else 0.6  # run-ons read badly out of context
        s.score = centrality * bonus * brevity
    return counts


def _classify(s: Sentence, cues: Cues) -> None:
    text = s.text.strip()
    if len(s.terms) <= 4 and cues.decision_marker.search(text):
        s.kind = "marker"
        s.tags.add("decision-marker")
        return
    if len(s.terms) <= 4 and cues.action_marker.search(text):
        s.kind = "marker"
        s.tags.add("action-marker")
        return
    due = cues.date.search(text)
    s.due = due.group(0) if due else None
    owner = cues.owner.search(text)
    s.owner = real_owner(owner.group(1)) if owner else None
    if cues.decision.search(text):
        s.kind = "decision"
    elif cues.action.search(text) and (s.owner or s.due):
        s.kind = "action"


def select(
    sentences: list[Sentence],
    budget_words: int,
    bins: int,
    kinds: tuple[Kind, ...] = ("decision", "action", "point"),
    chosen: list[Sentence] | None = None,
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
    for speaker in {s.speaker for s in candidates} - {s.speaker for s in picked}:
        best = max((s for s in candidates if s.speaker == speaker), key=lambda s: s.score)
        picked.append(best)
    own = [s for s in picked if chosen is None or s not in chosen]
    return sorted(own, key=lambda s: s.start)


def _repeats(s: Sentence, picked: list[Sentence]) -> bool:
    for other in picked:
        union = len(s.terms | other.terms)
        if union and len(s.terms & other.terms) / union >= DUPLICATE_JACCARD:
            return True
    return False
