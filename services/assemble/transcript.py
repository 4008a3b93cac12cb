"""The assembled transcript's types, and chunk transcripts merged into one timeline of words.

A word's text keeps Whisper's convention: a leading space when the word starts a new word in the
sentence, none when it continues the previous one ("l'" + "homme", Chinese, Japanese), so
`join_words` rebuilds text the way Whisper wrote it, in every language.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec

BOUNDARY_DUPLICATE_S = 0.3  # the same word this close across a chunk boundary was heard twice
_NOT_WORDISH = re.compile(r"[^\w']+")


class Word(msgspec.Struct, frozen=True):
    """One spoken word on the recording's clock; `speaker` is None without diarization."""

    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None


class Segment(msgspec.Struct, frozen=True):
    """Consecutive words of one speaker, short enough to read as one line of a transcript."""

    start: float
    end: float
    speaker: str | None
    text: str
    words: list[Word]
    overlap: bool = False  # someone else speaks at the same time during some of these words


class Transcript(msgspec.Struct, frozen=True):
    """The whole recording: segments in time order, speakers in order of first appearance."""

    language: str | None
    duration_s: float
    speakers: list[str]
    segments: list[Segment]
    model: dict[str, Any]
    diarization: dict[str, Any] | None = None


def join_words(words: list[Word]) -> str:
    """The words' text as one string, spaced the way the transcriber wrote it."""
    return "".join(w.text for w in words).strip()


def merge_chunks(chunks: list[dict[str, Any]]) -> list[Word]:
    """All chunks' words, chunks in index order, sorted by start; drops empty and boundary-duplicate words."""
    words: list[Word] = []
    previous_end_s: float | None = None
    for chunk in sorted(chunks, key=lambda c: int(c["index"])):
        last = words[-1] if words else None
        for segment in chunk.get("segments") or ():
            for word in _segment_words(segment):
                if last is not None and previous_end_s is not None and word.start < previous_end_s:
                    if _same_word(word, last):
                        continue
                words.append(word)
        previous_end_s = float(chunk["end_s"])
    words.sort(key=lambda w: w.start)  # stable: ties keep chunk and segment order
    return words


def transcript_language(chunks: list[dict[str, Any]]) -> str | None:
    """The language most words were transcribed in; by chunk count when no chunk has words."""
    by_words: Counter[str] = Counter()
    by_chunks: Counter[str] = Counter()
    for chunk in sorted(chunks, key=lambda c: int(c["index"])):
        language = chunk.get("language")
        if language:
            by_chunks[language] += 1
            by_words[language] += sum(len(s.get("words") or ()) for s in chunk.get("segments") or ())
    counts = by_words if sum(by_words.values()) else by_chunks
    return counts.most_common(1)[0][0] if counts else None


def transcript_model(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """What transcribed the chunks: model name(s) and how many chunks each language had."""
    names = sorted({str(c["model"]) for c in chunks if c.get("model")})
    languages = Counter(str(c.get("language")) for c in chunks if c.get("language"))
    return {
        "transcribe": names[0] if len(names) == 1 else names,
        "chunk_languages": dict(sorted(languages.items())),
    }


def _segment_words(segment: dict[str, Any]) -> Iterator[Word]:
    raw_words = segment.get("words")
    if not raw_words:  # transcribed without word timestamps: the segment stands for its words
        logprob = segment.get("avg_logprob")
        probability = math.exp(logprob) if logprob is not None else 0.0
        raw_words = [{**segment, "word": " " + str(segment.get("text", "")), "probability": probability}]
    for raw in raw_words:
        text = _clean(str(raw.get("word", "")))
        if text:
            start = float(raw["start"])
            end = max(start, float(raw["end"]))
            yield Word(start, end, text, float(raw.get("probability") or 0.0))


def _clean(raw: str) -> str:
    """Collapse inner whitespace; keep one leading space where Whisper put one."""
    body = " ".join(raw.split())
    if not body:
        return ""
    return " " + body if raw[:1].isspace() else body


def _same_word(word: Word, last: Word) -> bool:
    gap = max(word.start - last.end, last.start - word.end, 0.0)
    return gap <= BOUNDARY_DUPLICATE_S and _normalized(word.text) == _normalized(last.text)


def _normalized(text: str) -> str:
    folded = text.strip().casefold()
    return _NOT_WORDISH.sub("", folded) or folded
