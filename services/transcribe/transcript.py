"""One chunk's transcript: words kept by the edge policy, times moved onto the recording's clock."""

from __future__ import annotations

from typing import Any

import msgspec

from contracts.artifacts import (
    ChunkGuardRecord,
    ChunkTranscript,
    GuardEvent,
    TranscribedSegment,
    TranscribedWord,
    VocabularyUse,
    encode,
)


def place_segments(segments: list[dict[str, Any]], start_s: float, length_s: float) -> list[dict[str, Any]]:
    """Drop words whose midpoint lies outside [0, length_s]; shift kept times by start_s.

    Transcode cuts chunks at silences, so a word rarely straddles an edge; when one does, the chunk
    holding its midpoint owns it, so neighbouring chunks never both keep it. A segment left without
    words is dropped; a segment that lost words is re-spanned and re-worded from the words it kept.
    """
    placed = []
    for segment in segments:
        words = [w for w in segment["words"] if 0.0 <= (w["start"] + w["end"]) / 2 <= length_s]
        if not words:
            continue
        if len(words) == len(segment["words"]):
            first, last = max(0.0, segment["start"]), min(length_s, segment["end"])
            text = segment["text"]
        else:
            first, last = words[0]["start"], words[-1]["end"]
            text = "".join(w["word"] for w in words).strip()
        placed.append(
            {
                **segment,
                "start": _at(start_s, first),
                "end": _at(start_s, last),
                "text": text,
                "words": [
                    {**w, "start": _at(start_s, w["start"]), "end": _at(start_s, w["end"])} for w in words
                ],
            }
        )
    return placed


def _at(offset_s: float, t: float) -> float:
    return round(offset_s + t, 3)


def chunk_transcript_json(
    *,
    index: int,
    start_s: float,
    end_s: float,
    language: str | None,
    language_probability: float | None,
    model: str,
    segments: list[dict[str, Any]],
    guards: dict[str, Any] | None = None,
    vocabulary: dict[str, Any] | None = None,
) -> bytes:
    """The artifact at chunk_transcript_key (a ChunkTranscript): absolute times, one JSON object."""
    document = ChunkTranscript(
        index=index,
        start_s=float(start_s),
        end_s=float(end_s),
        language=language,
        language_probability=_maybe_float(language_probability),
        model=model,
        segments=[_segment(s) for s in segments],
        # what the decode guards re-decoded, collapsed or dropped, and why
        guards=_guards(guards) if guards is not None else None,
        # how the job's vocabulary was given to the decoder (DecoderHint.record)
        vocabulary=msgspec.convert(vocabulary, VocabularyUse) if vocabulary is not None else None,
    )
    return encode(document)


# The decoder's numbers may be numpy scalars: float() and int() make them plain JSON numbers.


def _segment(segment: dict[str, Any]) -> TranscribedSegment:
    return TranscribedSegment(
        start=float(segment["start"]),
        end=float(segment["end"]),
        text=str(segment.get("text", "")),
        avg_logprob=_maybe_float(segment.get("avg_logprob")),
        no_speech_prob=_maybe_float(segment.get("no_speech_prob")),
        words=[
            TranscribedWord(
                start=float(w["start"]),
                end=float(w["end"]),
                word=str(w["word"]),
                probability=float(w.get("probability") or 0.0),
            )
            for w in segment.get("words") or ()
        ],
    )


def _guards(guards: dict[str, Any]) -> ChunkGuardRecord:
    return ChunkGuardRecord(
        windows=int(guards.get("windows", 0)),
        speech_s=float(guards.get("speech_s", 0.0)),
        redecoded=int(guards.get("redecoded", 0)),
        collapsed=int(guards.get("collapsed", 0)),
        dropped=int(guards.get("dropped", 0)),
        dropped_s=float(guards.get("dropped_s", 0.0)),
        words_removed=int(guards.get("words_removed", 0)),
        quiet_windows=int(guards.get("quiet_windows", 0)),
        events=[
            GuardEvent(
                start=float(e["start"]),
                end=float(e["end"]),
                action=str(e["action"]),
                reason=str(e["reason"]),
                detail=str(e.get("detail", "")),
                text=str(e.get("text", "")),
            )
            for e in guards.get("events") or ()
        ],
    )


def _maybe_float(value: Any) -> float | None:
    return float(value) if value is not None else None
