"""Summaries written by a language model: every call through litellm, retries left to JetStream.

`call` makes one completion and maps provider errors; `complete` validates the JSON answer with
msgspec and sends one repair prompt when it is invalid, then raises InvalidOutput, on which the
handler falls back to the extractive summary. `summarize_map_reduce` is the strategy for hosted
models (large contexts): windows of the whole transcript summarised in parallel, then merged. The
local model's strategy, one bounded call over ranked passages, is in salient.py.

Errors::

    RetryableError            rate limits, timeouts, a server down: JetStream tries again later
    PermanentError            the credentials are refused: an operator must fix the key
    └── LlmFailure            the model cannot give a summary for this transcript: fall back to extractive
        └── InvalidOutput     twice an answer that is not the JSON asked for

(RetryableError and PermanentError are runtime/errors.py's, where the whole tree is drawn.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from contracts.artifacts import ActionItem, Chapter, Decision, SpeakerNote, Summary, Transcript
from exports.summary import clock
from runtime.errors import PermanentError, RetryableError
from services.summarize.extractive import chapters, ranked, speaker_notes, spoken_duration
from services.summarize.passages import Sentence
from services.summarize.prompts import prompt, vocabulary_rule, vocabulary_terms, with_vocabulary
from services.summarize.words import real_owner


class LlmFailure(PermanentError):
    """The model will not produce a summary of this transcript; `reason` says why."""


class InvalidOutput(LlmFailure):
    """The model's answer was not the JSON asked for, even after a repair prompt."""


@dataclass(frozen=True)
class LlmTarget:
    """Where a call goes: a litellm model name, and the server for OpenAI-compatible ones."""

    model: str  # "openai/gpt-4o-mini", "anthropic/...", "ollama/...", "openai/<alias>" of a local server
    label: str  # the model as summary.json names it
    api_base: str | None = None
    api_key: str | None = None
    local: bool = False  # the embedded llama.cpp server: small context, JSON-schema-constrained output
    params: Mapping[str, Any] = field(default_factory=dict)  # more litellm arguments (headers, ...)


@dataclass(frozen=True)
class CallLimits:
    max_output_tokens: int = 1200
    temperature: float = 0.2
    timeout_s: float = 600.0


class DraftDecision(msgspec.Struct, kw_only=True):
    text: str
    at: str | None = None


class DraftAction(msgspec.Struct, kw_only=True):
    text: str
    owner: str | None = None
    due: str | None = None
    at: str | None = None


class DraftChapter(msgspec.Struct, kw_only=True):
    title: str
    at: str | None = None


class DraftSpeaker(msgspec.Struct, kw_only=True):
    speaker: str
    contribution: str


class Draft(msgspec.Struct, kw_only=True):
    """What the model answers; turned into a Summary by to_summary."""

    title: str
    overview: str
    key_points: list[str] = msgspec.field(default_factory=list)
    decisions: list[DraftDecision] = msgspec.field(default_factory=list)
    action_items: list[DraftAction] = msgspec.field(default_factory=list)
    chapters: list[DraftChapter] = msgspec.field(default_factory=list)
    speakers: list[DraftSpeaker] = msgspec.field(default_factory=list)


def _string() -> dict[str, Any]:
    return {"type": "string"}


def _optional() -> dict[str, Any]:
    return {"anyOf": [{"type": "string"}, {"type": "null"}]}


def _objects(properties: dict[str, Any], required: list[str], most: int) -> dict[str, Any]:
    item = {"type": "object", "properties": properties, "required": required}
    return {"type": "array", "items": item, "maxItems": most}


# The grammar llama.cpp constrains sampling with: always parseable, and bounded lists keep the answer
# (the slow part on a CPU) short. Hosted models get the shape in the prompt instead.
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": _string(),
        "overview": _string(),
        "key_points": {"type": "array", "items": _string(), "maxItems": 6},
        "decisions": _objects({"text": _string(), "at": _string()}, ["text", "at"], 8),
        "action_items": _objects(
            {"text": _string(), "owner": _optional(), "due": _optional(), "at": _string()},
            ["text", "owner", "due", "at"],
            10,
        ),
        "chapters": _objects({"title": _string(), "at": _string()}, ["title", "at"], 8),
        "speakers": _objects(
            {"speaker": _string(), "contribution": _string()}, ["speaker", "contribution"], 8
        ),
    },
    "required": ["title", "overview", "key_points", "decisions", "action_items", "chapters", "speakers"],
}

T = TypeVar("T")
log = logging.getLogger(__name__)
_draft_decoder = msgspec.json.Decoder(Draft)
_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})")
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def _litellm() -> Any:
    """litellm, imported on first use with its cost map read locally (no fetch at import)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


async def call(
    target: LlmTarget,
    messages: list[dict[str, str]],
    limits: CallLimits,
    schema: dict[str, Any] | None = None,
) -> str:
    """One completion, no retries; provider errors mapped to the runtime's Retryable/Permanent errors."""
    litellm = _litellm()
    extra: dict[str, Any] = dict(target.params)
    if target.local:
        extra["response_format"] = {"type": "json_object", "schema": schema or DRAFT_SCHEMA}
    started = time.perf_counter()
    try:
        response = await litellm.acompletion(
            model=target.model,
            messages=messages,
            api_base=target.api_base,
            api_key=target.api_key or ("local" if target.local else None),
            max_tokens=limits.max_output_tokens,
            temperature=limits.temperature,
            timeout=limits.timeout_s,
            num_retries=0,
            **extra,
        )
    except (litellm.AuthenticationError, litellm.PermissionDeniedError) as exc:
        raise PermanentError(
            f"the summary model {target.label} refused the credentials ({type(exc).__name__}): set the "
            "provider's API key (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) or AODIO_SUMMARIZE_API_KEY, "
            "or use summary_method 'extractive'"
        ) from exc
    except (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError) as exc:
        raise RetryableError(f"the summary model {target.label} is unavailable now: {_short(exc)}") from exc
    except (litellm.ServiceUnavailableError, litellm.InternalServerError) as exc:
        raise RetryableError(f"the summary model {target.label} failed on its side: {_short(exc)}") from exc
    except (litellm.ContextWindowExceededError, litellm.BadRequestError, litellm.NotFoundError) as exc:
        raise LlmFailure(f"the summary model {target.label} refused the request: {_short(exc)}") from exc
    usage = getattr(response, "usage", None)
    log.info(
        "model %s: %s prompt + %s completion tokens in %.1f s",
        target.label,
        getattr(usage, "prompt_tokens", "?"),
        getattr(usage, "completion_tokens", "?"),
        time.perf_counter() - started,
    )
    return str(response.choices[0].message.content or "")


async def complete_draft(target: LlmTarget, user: str, language: str | None, limits: CallLimits) -> Draft:
    """The model's Draft for one prompt (see complete)."""
    return await complete(target, user, language, limits, parse_draft, DRAFT_SCHEMA)


async def complete(
    target: LlmTarget,
    user: str,
    language: str | None,
    limits: CallLimits,
    parse: Callable[[str], T],
    schema: dict[str, Any],
) -> T:
    """The model's JSON answer to one prompt, validated by `parse`; one repair prompt when it is invalid."""
    messages = [{"role": "system", "content": prompt("system", language)}, {"role": "user", "content": user}]
    answer = await call(target, messages, limits, schema)
    try:
        return parse(answer)
    except msgspec.DecodeError as exc:
        error = str(exc)
    messages += [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": prompt("repair", language, error=error[:200])},
    ]
    answer = await call(target, messages, limits, schema)
    try:
        return parse(answer)
    except msgspec.DecodeError as exc:
        raise InvalidOutput(f"the summary model {target.label} answered invalid JSON twice: {exc}") from exc


def json_object(answer: str) -> str:
    """The JSON object in a model's answer; tolerates a code fence or text around it."""
    text = _FENCE.sub("", answer.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise msgspec.DecodeError("no JSON object in the answer")
    return text[start : end + 1]


def parse_draft(answer: str) -> Draft:
    """A Draft from the model's answer."""
    return _draft_decoder.decode(json_object(answer))


async def summarize_map_reduce(
    transcript: Transcript,
    target: LlmTarget,
    limits: CallLimits,
    window_words: int,
    concurrency: int,
    vocabulary: Sequence[str] = (),
) -> Summary:
    """Windows of the whole transcript summarised in parallel (at most `concurrency` at once), then merged.

    With a vocabulary, every prompt ends with the terms to spell as given.
    """
    said = " ".join(s.text for s in transcript.segments)
    rule = vocabulary_rule(vocabulary_terms(vocabulary, said), transcript.language)
    sentences, counts, _ = ranked(transcript)
    if not sentences:
        raise LlmFailure("the transcript has no sentence to summarise")
    windows = _windows(sentences, window_words)
    gate = asyncio.Semaphore(concurrency)
    language = transcript.language

    async def part(n: int, window: list[Sentence]) -> Draft:
        async with gate:
            user = prompt("map", language, part=n, parts=len(windows), passages=lines(window))
            user = with_vocabulary(user, rule)
            return await complete_draft(target, user, language, limits)

    drafts = await asyncio.gather(*(part(n, w) for n, w in enumerate(windows, start=1)))
    if len(drafts) == 1:
        return to_summary(drafts[0], transcript, target, sentences, counts)
    merged = "\n".join(
        f"Part {n} ({clock(w[0].start)} - {clock(w[-1].end)}): {msgspec.json.encode(d).decode()}"
        for n, (w, d) in enumerate(zip(windows, drafts, strict=True), start=1)
    )
    user = prompt(
        "reduce",
        language,
        parts=len(drafts),
        duration=spoken_duration(transcript.duration_s),
        passages=merged,
    )
    draft = await complete_draft(target, with_vocabulary(user, rule), language, limits)
    return to_summary(draft, transcript, target, sentences, counts)


def _windows(sentences: Sequence[Sentence], window_words: int) -> list[list[Sentence]]:
    windows: list[list[Sentence]] = [[]]
    size = 0
    for s in sentences:
        if size + s.words > window_words and windows[-1]:
            windows.append([])
            size = 0
        windows[-1].append(s)
        size += s.words
    return windows


def lines(sentences: Sequence[Sentence]) -> str:
    return "\n".join(f"[{clock(s.start)}] {s.speaker or '?'}: {s.text}" for s in sentences)


def to_summary(
    draft: Draft, transcript: Transcript, target: LlmTarget, sentences: list[Sentence], counts: Any
) -> Summary:
    """The model's draft as a Summary; chapters and speaker shares from the transcript when it gave none."""
    notes = speaker_notes(sentences, transcript, counts)
    written = {s.speaker.strip(): s.contribution.strip() for s in draft.speakers if s.contribution.strip()}
    speakers = [
        SpeakerNote(speaker=n.speaker, contribution=written.get(n.speaker, n.contribution), share=n.share)
        for n in notes
    ]
    drafted = [
        Chapter(title=c.title.strip(), start_s=seconds_of(c.at) or 0.0)
        for c in draft.chapters
        if c.title.strip()
    ]
    return Summary(
        method="llm",
        model=target.label,
        language=transcript.language,
        title=draft.title.strip(),
        overview=draft.overview.strip(),
        key_points=[p.strip() for p in draft.key_points if p.strip()],
        decisions=[
            Decision(text=d.text.strip(), at_s=seconds_of(d.at)) for d in draft.decisions if d.text.strip()
        ],
        action_items=[
            ActionItem(
                text=a.text.strip(), owner=real_owner(blank(a.owner)), due=blank(a.due), at_s=seconds_of(a.at)
            )
            for a in draft.action_items
            if a.text.strip()
        ],
        chapters=sorted(drafted, key=lambda c: c.start_s) or chapters(sentences, transcript, counts),
        speakers=speakers,
        duration_s=transcript.duration_s,
        made_by={} if drafted else {"chapters": "keywords"},
    )


def seconds_of(at: str | None) -> float | None:
    match = _CLOCK.search(at or "")
    if not match:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
