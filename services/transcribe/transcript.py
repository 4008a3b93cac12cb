"""One chunk's transcript: words kept by the edge policy, times moved onto the recording's clock."""

from __future__ import annotations

import json
from typing import Any


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
) -> bytes:
    """The artifact at chunk_transcript_key: absolute times, one JSON object."""
    document = {
        "index": index,
        "start_s": start_s,
        "end_s": end_s,
        "language": language,
        "language_probability": language_probability,
        "model": model,
        "segments": segments,
        "guards": guards,  # what the decode guards re-decoded, collapsed or dropped, and why
    }
    return json.dumps(document, ensure_ascii=False).encode()
