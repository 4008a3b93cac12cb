"""Rules every summary keeps, whatever made it: what the tests and bench/summary_eval check.

    keyword     a chapter title, or an entry of a keyword list ("Part 2: budget, hiring", "mostly about
                ..."), made only of stop words or elided function words ("c'est", "qu'on")
    duplicate   a key point that says what another key point says
    labelled    a key point, decision or action with a label glued on ("Décision : ...", "A: ...")
    ungrounded  a decision or action item where the transcript states none: no sentence near its time
                that decides or commits
    owner       an owner that names nobody: a pronoun, a fragment ("And still he"), or a name the
                transcript never says (a speaker label is always a valid owner)
    language    the summary is not in the transcript's language
    invented    an overview or key point that speaks of decisions or tasks the summary has none of

`check` returns every violation; an empty list is a sane summary. The summarize stage keeps these
rules by construction (see guard.py); this module only reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from contracts.artifacts import Summary, Transcript
from services.summarize.language import Cues, cues_for
from services.summarize.passages import Sentence, commitment, sentences_of
from services.summarize.words import content_words, fold, is_content, real_owner, stopwords, tokens

# "[D1]", "A:", "Décision :", "Action item -", "À faire :"
LABEL = re.compile(
    r"^\s*(?:\[?[DAC]\d*\]?|d[ée]cisions?|actions?(?: items?)?|points?(?: cl[ée]s?)?|key points?|items?|"
    r"to ?do|[àa] faire|t[âa]che)\s*\d*\s*[:\uff1a\-\u2013\u2014]\s*",
    re.IGNORECASE,
)
KEYWORD_LIST = re.compile(
    r"^(?:part|partie|summary|résumé|chapter|chapitre)\b[^:]*?\s*:\s*(?P<list>.+)$|"
    r"^(?:mostly about|surtout sur)(?:\s+(?P<about>.*))?$",
    re.IGNORECASE,
)
NEAR_S = 20.0  # how far from an item's time its sentence may be
DUPLICATE_RATIO = 0.85
DUPLICATE_JACCARD = 0.7
# unambiguous function words: which language a text is in
_MARKERS = {
    "en": frozenset("the and of to is are was with for that this have will we you it not".split()),
    "fr": frozenset("le la les et des du est sont avec pour que qui nous vous une pas dans sur".split()),
}


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def check(summary: Summary, transcript: Transcript) -> list[Violation]:
    """Every rule the summary breaks against its transcript (none for a sane one)."""
    if summary.method == "none":
        return []
    language = transcript.language
    sentences = sentences_of(transcript)
    return [
        *_keywords(summary, language),
        *_duplicates(summary.key_points),
        *_labelled(summary),
        *_ungrounded(summary, sentences, language),
        *_owners(summary, transcript),
        *_language(summary, language),
        *_claims(summary),
    ]


DECISION_WORDS = re.compile(r"\b(?:decisions?|decided|décisions?|décidée?s?)\b", re.IGNORECASE)
ACTION_WORDS = re.compile(r"\b(?:action items?|tasks?|actions? à mener|tâches?)\b", re.IGNORECASE)


def _claims(summary: Summary) -> list[Violation]:
    """Prose that speaks of decisions or actions the summary has none of (invented structure)."""
    found = []
    for where, text in [("overview", summary.overview), *(("key point", p) for p in summary.key_points)]:
        if DECISION_WORDS.search(text) and not summary.decisions:
            found.append(Violation("invented", f"{where} speaks of a decision, none was taken: {text!r}"))
        elif ACTION_WORDS.search(text) and not summary.action_items:
            found.append(Violation("invented", f"{where} speaks of a task, none was given: {text!r}"))
    return found


def keyword_entries(text: str) -> list[str] | None:
    """The entries of a keyword list ("Part 2: budget, hiring" -> ["budget", "hiring"]), None if not one."""
    match = KEYWORD_LIST.match(text.strip())
    if not match:
        return None
    listed = match.group("list") or match.group("about") or ""
    return [entry.strip() for entry in listed.split(",") if entry.strip()]


def _keywords(summary: Summary, language: str | None) -> list[Violation]:
    found = []
    stop = stopwords(language)
    texts = [("title", summary.title)]
    texts += [("chapter", c.title) for c in summary.chapters]
    texts += [("speaker", s.contribution) for s in summary.speakers]
    for where, text in texts:
        entries = keyword_entries(text)
        if where == "chapter" and not content_words(text, language):
            found.append(Violation("keyword", f"chapter title of stop words only: {text!r}"))
        if entries == []:
            found.append(Violation("keyword", f"{where}: an empty keyword list ({text!r})"))
        for entry in entries or []:
            if not any(is_content(t, stop) for t in tokens(entry)):
                found.append(Violation("keyword", f"{where} keyword {entry!r} is a function word ({text!r})"))
    return found


def similar(a: str, b: str, language: str | None = None) -> bool:
    """Two texts that say the same thing: nearly the same characters, or nearly the same content words."""
    a, b = LABEL.sub("", a).strip(), LABEL.sub("", b).strip()
    if SequenceMatcher(None, fold(a), fold(b)).ratio() >= DUPLICATE_RATIO:
        return True
    words_a, words_b = set(content_words(a, language)), set(content_words(b, language))
    union = words_a | words_b
    return bool(union) and len(words_a & words_b) / len(union) >= DUPLICATE_JACCARD


def _duplicates(points: list[str]) -> list[Violation]:
    return [
        Violation("duplicate", f"key point {j + 1} repeats key point {i + 1}: {points[j]!r}")
        for i in range(len(points))
        for j in range(i + 1, len(points))
        if similar(points[i], points[j])
    ]


def _labelled(summary: Summary) -> list[Violation]:
    texts = [("key point", p) for p in summary.key_points]
    texts += [("decision", d.text) for d in summary.decisions]
    texts += [("action", a.text) for a in summary.action_items]
    return [
        Violation("labelled", f"{where} with a label glued on: {t!r}") for where, t in texts if LABEL.match(t)
    ]


def _ungrounded(summary: Summary, sentences: list[Sentence], language: str | None) -> list[Violation]:
    cues = cues_for(language)
    found = []
    items = [("decision", d.text, d.at_s) for d in summary.decisions]
    items += [("action", a.text, a.at_s) for a in summary.action_items]
    for kind, text, at_s in items:
        if not stated(at_s, sentences, cues):
            where = f" at {at_s:.0f} s" if at_s is not None else ""
            found.append(Violation("ungrounded", f"{kind}{where} that no sentence states: {text!r}"))
    return found


def stated(at_s: float | None, sentences: list[Sentence], cues: Cues) -> bool:
    """A sentence within NEAR_S of `at_s` (anywhere when None) commits: what a decision or action needs."""
    near = (s for s in sentences if at_s is None or s.start - NEAR_S <= at_s <= s.end + NEAR_S)
    return any(commitment(s.text, cues) for s in near)


def said_text(transcript: Transcript) -> str:
    """The transcript's words, folded, for owner_problem."""
    return fold(" ".join(s.text for s in transcript.segments))


def owner_problem(owner: str | None, transcript: Transcript, said: str) -> str | None:
    """What is wrong with an owner ("names nobody", "is never said"); None for a label or a name said."""
    if owner is None or owner in transcript.speakers:
        return None
    if real_owner(owner, transcript.language) is None:
        return "names nobody"
    if not all(fold(w) in said for w in content_words(owner, transcript.language)):
        return "is never said"
    return None


def _owners(summary: Summary, transcript: Transcript) -> list[Violation]:
    said = said_text(transcript)
    found = []
    for item in summary.action_items:
        problem = owner_problem(item.owner, transcript, said)
        if problem:
            found.append(Violation("owner", f"owner {item.owner!r} {problem}: {item.text!r}"))
    return found


def _language(summary: Summary, language: str | None) -> list[Violation]:
    if summary.language != language:
        return [Violation("language", f"summary in {summary.language}, transcript in {language}")]
    if language not in _MARKERS:
        return []
    prose = " ".join(
        [summary.title, summary.overview, *summary.key_points, *(d.text for d in summary.decisions)]
        + [a.text for a in summary.action_items]
    )
    words = [w.casefold() for w in tokens(prose)]
    hits = {lang: sum(w in markers for w in words) for lang, markers in _MARKERS.items()}
    total = sum(hits.values())
    if total >= 8 and hits[language] / total < 0.7:
        return [Violation("language", f"the summary reads as another language than {language}: {hits}")]
    return []
