"""Chunk transcripts merged into one timeline of words: the assembled transcript's and the partial one's."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import msgspec

from contracts.artifacts import ChunkTranscript, TranscribedSegment, TranscribedWord, Word

BOUNDARY_DUPLICATE_S = 0.3  # the same word this close across a chunk boundary was heard twice
_NOT_WORDISH = re.compile(r"[^\w']+")

# A chunk transcript, or the same document as a plain mapping (tests and tools build those).
ChunkLike = ChunkTranscript | Mapping[str, Any]


def chunk_transcripts(chunks: Iterable[ChunkLike]) -> list[ChunkTranscript]:
    """The chunks as ChunkTranscript structs, in index order."""
    typed = [c if isinstance(c, ChunkTranscript) else msgspec.convert(c, ChunkTranscript) for c in chunks]
    return sorted(typed, key=lambda c: c.index)


def merge_chunks(chunks: Sequence[ChunkLike]) -> list[Word]:
    """All chunks' words, chunks in index order, sorted by start; drops empty and boundary-duplicate words."""
    words: list[Word] = []
    previous_end_s: float | None = None
    for chunk in chunk_transcripts(chunks):
        last = words[-1] if words else None
        for segment in chunk.segments:
            for word in _segment_words(segment):
                if last is not None and previous_end_s is not None and word.start < previous_end_s:
                    if _same_word(word, last):
                        continue
                words.append(word)
        previous_end_s = chunk.end_s
    words.sort(key=lambda w: w.start)  # stable: ties keep chunk and segment order
    return words


def _segment_words(segment: TranscribedSegment) -> Iterator[Word]:
    raw_words = segment.words
    if not raw_words:  # transcribed without word timestamps: the segment stands for its words
        logprob = segment.avg_logprob
        probability = math.exp(logprob) if logprob is not None else 0.0
        raw_words = [
            TranscribedWord(
                start=segment.start, end=segment.end, word=" " + segment.text, probability=probability
            )
        ]
    for raw in raw_words:
        text = _clean(raw.word)
        if text:
            start = float(raw.start)
            end = max(start, float(raw.end))
            yield Word(start, end, text, float(raw.probability or 0.0))


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
