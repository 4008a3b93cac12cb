"""A Transcript written as JSON, SRT, WebVTT, plain text and Markdown; and speakers renamed.

SRT and WebVTT follow the subtitle rules of exports/subtitles.py; they are re-exported here.
"""

from __future__ import annotations

import re

from msgspec.structs import replace

from contracts.artifacts import Segment, Transcript, encode
from exports.subtitles import CUE_LINES, LINE_CHARS, to_srt, to_vtt
from exports.text import CLAUSE_ENDS, SENTENCE_ENDS, ends_with

__all__ = [
    "CLAUSE_ENDS",
    "CUE_LINES",
    "LINE_CHARS",
    "SENTENCE_ENDS",
    "ends_with",
    "paragraphs",
    "rename_speakers",
    "to_json",
    "to_markdown",
    "to_srt",
    "to_txt",
    "to_vtt",
]

PARAGRAPH_MAX_S = 120.0  # a speaker's long monologue gets a new paragraph (and timestamp) this often
_MARKDOWN_SPECIAL = re.compile(r"[\\`*<>\[\]]|(?<![^\W_])_|_(?![^\W_])")


def to_json(t: Transcript) -> bytes:
    """The transcript as UTF-8 JSON: every segment with its words, times and speakers."""
    return encode(t)


def to_txt(t: Transcript) -> str:
    """Plain text: one paragraph per speaker turn, "[00:01:23] SPEAKER_1: text"."""
    blocks = []
    for segments in paragraphs(t.segments):
        label = f"{segments[0].speaker}: " if segments[0].speaker is not None else ""
        text = " ".join(s.text for s in segments)
        blocks.append(f"[{_hms(segments[0].start)}] {label}{text}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_markdown(t: Transcript) -> str:
    """Markdown: a title, the language, duration and speakers, then one paragraph per speaker turn."""
    speakers = ", ".join(_markdown_escape(s) for s in t.speakers) or "not identified"
    lines = [
        "# Transcript",
        "",
        f"- Language: {t.language or 'unknown'}",
        f"- Duration: {_hms(t.duration_s)}",
        f"- Speakers: {speakers}",
    ]
    for segments in paragraphs(t.segments):
        speaker = segments[0].speaker
        label = f" {_markdown_escape(speaker)}:" if speaker is not None else ""
        text = _markdown_escape(" ".join(s.text for s in segments))
        lines += ["", f"**[{_hms(segments[0].start)}]{label}** {text}"]
    return "\n".join(lines) + "\n"


def rename_speakers(t: Transcript, mapping: dict[str, str]) -> Transcript:
    """The transcript with speakers renamed (e.g. SPEAKER_1 -> "Alice"); names not in mapping are kept."""
    for name in mapping.values():
        if not name.strip() or not name.isprintable():
            raise ValueError(f"speaker name {name!r} must be non-empty text on one line")

    def renamed(speaker: str | None) -> str | None:
        return mapping.get(speaker, speaker) if speaker is not None else None

    segments = [
        replace(
            s, speaker=renamed(s.speaker), words=[replace(w, speaker=renamed(w.speaker)) for w in s.words]
        )
        for s in t.segments
    ]
    diarization = t.diarization
    if diarization is not None and "speaker_map" in diarization:
        speaker_map = {k: renamed(v) for k, v in diarization["speaker_map"].items()}
        diarization = {**diarization, "speaker_map": speaker_map}
    speakers = [s for s in dict.fromkeys(renamed(s) for s in t.speakers) if s is not None]
    return replace(t, speakers=speakers, segments=segments, diarization=diarization)


def paragraphs(segments: list[Segment]) -> list[list[Segment]]:
    """Consecutive segments of one speaker, a new paragraph every PARAGRAPH_MAX_S of a long turn."""
    grouped: list[list[Segment]] = []
    for segment in segments:
        last = grouped[-1] if grouped else None
        if last and last[0].speaker == segment.speaker and segment.start - last[0].start < PARAGRAPH_MAX_S:
            last.append(segment)
        else:
            grouped.append([segment])
    return grouped


def _hms(seconds: float) -> str:
    hours, rest = divmod(int(max(0.0, seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
