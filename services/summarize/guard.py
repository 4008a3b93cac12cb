"""What every summary goes through before it is written: the rules of sanity.py, kept by construction.

A small model copies the prompt's labels ("A: ..."), repeats a point, titles a chapter "c'est",
names "he" as an owner; a hosted one may date an item where nobody decided anything. The guard
strips labels, drops repeats, gives a chapter without content its keywords back, drops an item no
sentence near its time states and an owner that names nobody, and says in the summary's note what it
removed (the transcript itself is never touched).
"""

from __future__ import annotations

import re
from collections import Counter

import msgspec

from contracts.artifacts import ActionItem, Chapter, Summary, Transcript
from services.summarize.language import cues_for
from services.summarize.passages import Sentence, sentences_of
from services.summarize.sanity import (
    ACTION_WORDS,
    DECISION_WORDS,
    LABEL,
    keyword_entries,
    owner_problem,
    said_text,
    similar,
    stated,
)
from services.summarize.words import content_words, is_content, stopwords, tokens

_SAID = {
    "en": {
        "intro": "Left out of this summary:",
        "decision": "{n} decision(s) no sentence of the transcript states",
        "action": "{n} action item(s) no sentence of the transcript states",
        "owner": "{n} owner(s) that name nobody",
        "point": "{n} repeated key point(s)",
        "chapter": "{n} chapter title(s) without content, titled by their keywords",
    },
    "fr": {
        "intro": "Écarté de ce résumé :",
        "decision": "{n} décision(s) qu'aucune phrase de la transcription n'énonce",
        "action": "{n} action(s) qu'aucune phrase de la transcription n'énonce",
        "owner": "{n} responsable(s) qui ne désignent personne",
        "point": "{n} point(s) clé(s) répété(s)",
        "chapter": "{n} titre(s) de chapitre sans contenu, titrés par leurs mots-clés",
    },
}


def guard(summary: Summary, transcript: Transcript, plain: Summary) -> Summary:
    """The summary without what breaks a sanity rule; its note says what was removed and why.

    `plain` is the transcript's extractive summary: what a title, an overview, a chapter title or a
    speaker's line falls back to when the model's says nothing of the recording.
    """
    if summary.method == "none":
        return summary
    sentences = sentences_of(transcript)
    summary = _grounded_prose(summary, transcript, sentences, plain)
    keyword_chapters = plain.chapters
    language = transcript.language
    cues, said = cues_for(language), said_text(transcript)
    removed: Counter[str] = Counter()
    points = _points(summary.key_points, language, removed)
    decisions = [
        msgspec.structs.replace(d, text=_unlabel(d.text))
        for d in summary.decisions
        if stated(d.at_s, sentences, cues) or _count(removed, "decision")
    ]
    actions = [
        _owned(msgspec.structs.replace(a, text=_unlabel(a.text)), transcript, said, removed)
        for a in summary.action_items
        if stated(a.at_s, sentences, cues) or _count(removed, "action")
    ]
    chapters = [_titled(c, keyword_chapters, language, removed) for c in summary.chapters]
    speakers = [
        msgspec.structs.replace(s, contribution=_keywords_only(s.contribution, language))
        for s in summary.speakers
    ]
    return msgspec.structs.replace(
        summary,
        title=_keywords_only(summary.title, language),
        key_points=points,
        decisions=[d for d in decisions if d.text],
        action_items=[a for a in actions if a.text],
        chapters=chapters,
        speakers=speakers,
        note=_note(summary.note, removed, language),
    )


# what a small model copies from its instructions instead of summarising ("the sentences are numbered")
_PROMPT_ECHO = re.compile(
    r"num[ée]rot|numbered|\bJSON\b|\b[DAC]\d+\b|phrases les plus importantes|most informative sentences|"
    r"horodatage|timestamp",
    re.IGNORECASE,
)
_SENTENCE_ENDS = re.compile(r"[.!?…](?:\s|,|$)")


def _grounded_prose(
    summary: Summary, transcript: Transcript, sentences: list[Sentence], plain: Summary
) -> Summary:
    """The model's title, overview and speaker lines where they are about the recording, else plain's."""
    if summary is plain or summary.method != "llm":
        return summary
    language = transcript.language
    said = {w for s in transcript.segments for w in content_words(s.text, language)}
    made_by = dict(summary.made_by)
    title, overview = summary.title, summary.overview
    if not set(content_words(title, language)) & said:  # "Meeting summary", "Compte rendu de réunion"
        title, made_by["title"] = plain.title, "keywords"
    if not overview or _PROMPT_ECHO.search(overview) or not set(content_words(overview, language)) & said:
        overview, made_by["overview"] = plain.overview, "extracted"
    lines = {n.speaker: n for n in plain.speakers}
    speakers = []
    for note in summary.speakers:
        text = note.contribution
        strung = len(_SENTENCE_ENDS.findall(text)) > 1 or len(text.split()) > 40
        if note.speaker in lines and (strung or any(similar(text, s.text, language) for s in sentences)):
            note = lines[note.speaker]  # sentences copied or strung together: nothing on what they brought
            made_by["speakers"] = "keywords"
        speakers.append(note)
    overview = _no_claims(overview, summary)
    points = [p for p in summary.key_points if _no_claims(p, summary)]
    return msgspec.structs.replace(
        summary, title=title, overview=overview, key_points=points, speakers=speakers, made_by=made_by
    )


def _no_claims(text: str, summary: Summary) -> str:
    """The text without its sentences that speak of decisions or actions the summary does not have."""
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if (DECISION_WORDS.search(sentence) and not summary.decisions) or (
            ACTION_WORDS.search(sentence) and not summary.action_items
        ):
            continue  # "The decision was to stay longer": structure the recording does not have
        kept.append(sentence)
    return " ".join(kept)


def _count(removed: Counter[str], what: str) -> bool:
    removed[what] += 1
    return False


def _unlabel(text: str) -> str:
    return LABEL.sub("", text.strip()).strip()


def _points(points: list[str], language: str | None, removed: Counter[str]) -> list[str]:
    kept: list[str] = []
    for point in (_unlabel(p) for p in points):
        if not point:
            continue
        if any(similar(point, other, language) for other in kept):
            removed["point"] += 1
            continue
        kept.append(point)
    return kept


def _owned(item: ActionItem, transcript: Transcript, said: str, removed: Counter[str]) -> ActionItem:
    if owner_problem(item.owner, transcript, said) is None:
        return item
    removed["owner"] += 1
    return msgspec.structs.replace(item, owner=None)


def _titled(
    chapter: Chapter, keyword_chapters: list[Chapter], language: str | None, removed: Counter[str]
) -> Chapter:
    title = _keywords_only(_unlabel(chapter.title), language)
    if content_words(title, language):
        return msgspec.structs.replace(chapter, title=title)
    removed["chapter"] += 1
    nearest = min(keyword_chapters, key=lambda c: abs(c.start_s - chapter.start_s), default=None)
    return msgspec.structs.replace(chapter, title=nearest.title if nearest else title)


def _keywords_only(text: str, language: str | None) -> str:
    """A keyword list ("Part 2: c'est, budget") without its function-word entries."""
    entries = keyword_entries(text)
    if not entries:
        return text
    stop = stopwords(language)
    kept = [e for e in entries if any(is_content(t, stop) for t in tokens(e))]
    if len(kept) == len(entries):
        return text
    head = text[: text.index(entries[0])]
    return (head + ", ".join(kept)).strip() if kept else head.rstrip(" :").strip()


def _note(note: str | None, removed: Counter[str], language: str | None) -> str | None:
    if not removed:
        return note
    said = _SAID.get(language or "en", _SAID["en"])
    parts = [said[what].format(n=n) for what, n in removed.items() if n]
    text = f"{said['intro']} {'; '.join(parts)}."
    return f"{note} {text}" if note else text
