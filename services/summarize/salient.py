"""The local model's strategy: the ranked passages of the whole recording in one bounded call.

A 1.5B model on two CPU cores cannot read 40,000 words (a plain map-reduce took 29 minutes) and,
given 180 similar sentences, writes about the first few. So the ranking decides *what* the summary
covers and the model decides *how it reads*:

- the decisions and action items are picked by the extractive ranker, spread over equal time bins of
  the whole recording, and numbered (D1.., A1..); the JSON schema the model's sampling is constrained
  by has one required entry per number, so the model rewrites every one of them, the last hour's too,
  and each keeps its exact timestamp;
- the chapters are the ranker's equal stretches (C1..), which the model titles from their keywords;
- the model also reads the best other sentences (timestamped, spread the same way) and writes the
  title, overview, key points and one line per speaker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from contracts.artifacts import ActionItem, Chapter, Decision, MadeBy, SpeakerNote, Summary, Transcript
from exports.summary import clock
from services.summarize.extractive import (
    bins_for,
    chapters,
    item_limits,
    pick,
    ranked,
    speaker_notes,
    spoken_duration,
)
from services.summarize.llm import CallLimits, LlmFailure, LlmTarget, complete, json_object, lines
from services.summarize.passages import Sentence, select
from services.summarize.prompts import prompt, vocabulary_rule, vocabulary_terms, with_vocabulary
from services.summarize.words import content_words, terms


class SalientDraft(msgspec.Struct, kw_only=True):
    """The model's answer: prose, plus one entry for every numbered item, chapter and speaker."""

    title: str
    overview: str
    key_points: list[str] = msgspec.field(default_factory=list)
    items: dict[str, str] = msgspec.field(default_factory=dict)  # id -> the item in one sentence
    chapters: dict[str, str] = msgspec.field(default_factory=dict)
    speakers: dict[str, str] = msgspec.field(default_factory=dict)


_decoder = msgspec.json.Decoder(SalientDraft)
# what a model copies from the prompt's lines: "[D1]", "[1:02:03]", "S2:", "SPEAKER_1:", "D1:", "0:21:18:"
_LABELS = re.compile(r"^(?:\[?[DAC]\d+\]?:?\s*|\[?\d+:\d{2}(?::\d{2})?\]?:?\s*|[\w-]*\d+:\s+)+")
_STRING = {"type": "string"}


def schema(item_ids: list[str], chapter_ids: list[str], speakers: list[str]) -> dict[str, Any]:
    """The JSON schema of one answer: every id a required property, in order."""

    def fixed(ids: list[str], value: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": {i: value for i in ids}, "required": ids}

    return {
        "type": "object",
        "properties": {
            "title": _STRING,
            "overview": _STRING,
            "key_points": {"type": "array", "items": _STRING, "minItems": 1, "maxItems": 6},
            "items": fixed(item_ids, _STRING),
            "chapters": fixed(chapter_ids, _STRING),
            "speakers": fixed(speakers, _STRING),
        },
        "required": ["title", "overview", "key_points", "items", "chapters", "speakers"],
    }


async def summarize_salient(
    transcript: Transcript,
    target: LlmTarget,
    limits: CallLimits,
    prompt_words: int,
    vocabulary: Sequence[str] = (),
) -> Summary:
    """One bounded call: numbered decisions, actions and chapters, and the best other sentences.

    With a vocabulary, the prompt ends with the terms to spell as given; its words come out of the
    sentences' budget, so the prompt stays within `prompt_words`.
    """
    sentences, counts, _ = ranked(transcript)
    if not any(s.score > 0 for s in sentences):
        raise LlmFailure("the transcript has no sentence to summarise")
    bins = bins_for(transcript.duration_s)
    most_decisions, most_actions = item_limits(transcript.duration_s)
    numbered = {f"D{n}": s for n, s in enumerate(pick(sentences, "decision", most_decisions, bins), 1)}
    numbered |= {f"A{n}": s for n, s in enumerate(pick(sentences, "action", most_actions, bins), 1)}
    said = " ".join(s.text for s in transcript.segments)
    rule = vocabulary_rule(vocabulary_terms(vocabulary, said), transcript.language)
    context = select(sentences, prompt_words - len(rule.split()), bins, chosen=list(numbered.values()))
    parts = chapters(sentences, transcript, counts)
    chapter_ids = {f"C{n}": c for n, c in enumerate(parts, 1)}
    notes = speaker_notes(sentences, transcript, counts)
    speakers = [n.speaker for n in notes]
    user = prompt(
        "salient",
        transcript.language,
        duration=spoken_duration(transcript.duration_s),
        speakers=len(speakers) or 1,
        passages=lines(context),
        items=_numbered(numbered),
        chapters="\n".join(f"[{i}] {_keywords(c.title)}" for i, c in chapter_ids.items()),
        speaker_ids=", ".join(speakers),
    )
    user = with_vocabulary(user, rule)
    answer_schema = schema(list(numbered), list(chapter_ids), speakers)
    draft = await complete(target, user, transcript.language, limits, parse_salient, answer_schema)
    titled = _chapter_titles(draft, chapter_ids, sentences, transcript.language)
    ids = {i[0] for i in numbered}
    made_by: dict[str, MadeBy] = {
        name: "extracted+model" for name, kind in (("decisions", "D"), ("action_items", "A")) if kind in ids
    }
    if titled == parts:
        made_by["chapters"] = "keywords"
    return Summary(
        method="llm",
        model=target.label,
        language=transcript.language,
        title=draft.title.strip(),
        overview=draft.overview.strip(),
        key_points=[p for p in (_clean(p) for p in draft.key_points) if p],
        decisions=[
            Decision(text=_text(draft, i, s), at_s=round(s.start, 1))
            for i, s in numbered.items()
            if i[0] == "D"
        ],
        action_items=[_action(draft, i, s) for i, s in numbered.items() if i[0] == "A"],
        chapters=titled,
        speakers=[
            SpeakerNote(speaker=n.speaker, contribution=_contribution(draft, n), share=n.share) for n in notes
        ],
        duration_s=transcript.duration_s,
        made_by=made_by,
    )


def _chapter_titles(
    draft: SalientDraft, chapter_ids: dict[str, Chapter], sentences: list[Sentence], language: str | None
) -> list[Chapter]:
    """The model's chapter titles when every one is about its own stretch, else the keyword titles.

    A 1.5B model titles a stretch from its keywords; when a title says nothing ("C'est parti") or
    nothing of that stretch, the keywords are the honest title (and `made_by` says so).
    """
    parts = list(chapter_ids.values())
    starts = [c.start_s for c in parts] + [float("inf")]
    titled = []
    for n, (chapter_id, chapter) in enumerate(chapter_ids.items()):
        title = _clean(draft.chapters.get(chapter_id) or "")
        said = {t for s in sentences if starts[n] <= s.start < starts[n + 1] for t in s.terms}
        if not set(content_words(title, language)) & said:
            return parts
        titled.append(msgspec.structs.replace(chapter, title=title))
    return titled


def parse_salient(answer: str) -> SalientDraft:
    """A SalientDraft from the model's answer."""
    return _decoder.decode(json_object(answer))


def _numbered(numbered: dict[str, Sentence]) -> str:
    return "\n".join(f"[{i}] [{clock(s.start)}] {s.speaker or '?'}: {s.text}" for i, s in numbered.items())


def _keywords(title: str) -> str:
    return title.split(":", 1)[-1].strip()  # "Part 3: budget, hiring, plan" -> the words


def _contribution(draft: SalientDraft, note: SpeakerNote) -> str:
    written = _clean(draft.speakers.get(note.speaker) or "")
    return written if len(written.split()) >= 4 else note.contribution  # not a bare name or label


def _clean(text: str) -> str:
    """The model's text without the labels it copies from the prompt ("[A3] [1:02:03] S2: ...")."""
    return _LABELS.sub("", text.strip()).strip()


def _text(draft: SalientDraft, item_id: str, sentence: Sentence) -> str:
    """The model's wording of an item when it is about that sentence and keeps who does it, else
    the sentence itself.

    Rewording 40 alike items of a 4 h 15 recording, a 1.5B model swaps their subjects ("The platform
    team will update the onboarding survey" came back as "The QA group will update ..."): a wording
    that drops the owner the sentence names is not used.
    """
    text = _clean(draft.items.get(item_id) or "")
    if not set(terms(text, frozenset())) & sentence.terms:
        return sentence.text
    owner = (sentence.owner or "").casefold()
    if owner and owner in sentence.text.casefold() and owner not in text.casefold():
        return sentence.text
    return text


def _action(draft: SalientDraft, item_id: str, sentence: Sentence) -> ActionItem:
    """The model's wording; the owner and the due date as the ranker read them in the sentence.

    The model used to write an owner and a due date for every item too, kept only when the sentence
    said them word for word (a 1.5B model borrows names from other lines); that is what the ranker
    already reads, and those two fields were a third of the answer's tokens (bench/summarize_long.py).
    """
    return ActionItem(
        text=_text(draft, item_id, sentence),
        owner=sentence.owner,
        due=sentence.due,
        at_s=round(sentence.start, 1),
    )
