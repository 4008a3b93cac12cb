"""A Transcript written as JSON, SRT, WebVTT, plain text and Markdown; and speakers renamed."""

from __future__ import annotations

import re

from msgspec.structs import replace

from contracts.artifacts import Segment, Transcript, Word, encode, join_words

LINE_CHARS = 42  # the usual subtitle line length (Netflix, BBC)
CUE_LINES = 2
CUE_MAX_S = 7.0  # a cue longer than this is split even when its text would fit
CUE_MIN_MS = 500  # a one-word cue stays on screen long enough to read, unless the next cue starts
PARAGRAPH_MAX_S = 120.0  # a speaker's long monologue gets a new paragraph (and timestamp) this often

# Full-width marks are meant: Chinese and Japanese sentences end with them.
SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")  # noqa: RUF001
CLAUSE_ENDS = (*SENTENCE_ENDS, ",", ";", ":", "，", "、", "；", "：")  # noqa: RUF001
_CLOSERS = "\"'»”’)]"  # noqa: RUF001
_OPENERS = "«“‘([{¿¡\"'-–—"  # noqa: RUF001 (typographic quotes and dashes are meant)
_MARKDOWN_SPECIAL = re.compile(r"[\\`*<>\[\]]|(?<![^\W_])_|_(?![^\W_])")

_Cue = tuple[int, int, str | None, list[str]]  # start ms, end ms, speaker, lines


def to_json(t: Transcript) -> bytes:
    """The transcript as UTF-8 JSON: every segment with its words, times and speakers."""
    return encode(t)


def ends_with(text: str, marks: tuple[str, ...]) -> bool:
    """Whether a word ends with one of marks, ignoring closing quotes and brackets."""
    return text.rstrip().rstrip(_CLOSERS).endswith(marks)


def to_srt(t: Transcript) -> str:
    """SubRip: numbered cues of at most two 42-character lines, "SPEAKER_1: " before the text."""
    blocks = []
    for number, (start, end, _, lines) in enumerate(_cues(t, labelled=True), start=1):
        blocks.append(f"{number}\n{_clock(start, ',')} --> {_clock(end, ',')}\n" + "\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_vtt(t: Transcript) -> str:
    """WebVTT: cues of at most two 42-character lines, the speaker in a <v> voice tag."""
    blocks = ["WEBVTT"]
    for start, end, speaker, lines in _cues(t, labelled=False):
        text = "\n".join(_vtt_escape(line) for line in lines)
        voice = f"<v {_vtt_escape(speaker)}>" if speaker is not None else ""
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{voice}{text}")
    return "\n\n".join(blocks) + "\n"


def to_txt(t: Transcript) -> str:
    """Plain text: one paragraph per speaker turn, "[00:01:23] SPEAKER_1: text"."""
    paragraphs = []
    for segments in _paragraphs(t.segments):
        label = f"{segments[0].speaker}: " if segments[0].speaker is not None else ""
        text = " ".join(s.text for s in segments)
        paragraphs.append(f"[{_hms(segments[0].start)}] {label}{text}")
    return "\n\n".join(paragraphs) + "\n" if paragraphs else ""


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
    for segments in _paragraphs(t.segments):
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


def _cues(t: Transcript, *, labelled: bool) -> list[_Cue]:
    """Every segment cut into cues by word timing; times then made strictly increasing and non-overlapping."""
    raw = []
    for segment in t.segments:
        prefix = f"{segment.speaker}: " if labelled and segment.speaker is not None else ""
        for words in _cue_words(segment, prefix):
            lines = _wrap(prefix + join_words(words))
            raw.append((_ms(words[0].start), _ms(max(w.end for w in words)), segment.speaker, lines))
    cues: list[_Cue] = []
    previous_end = 0
    for i, (start, end, speaker, lines) in enumerate(raw):
        start = max(start, previous_end)
        end = max(end, start + CUE_MIN_MS)
        if i + 1 < len(raw):
            end = min(end, max(raw[i + 1][0], start + 1))
        cues.append((start, end, speaker, lines))
        previous_end = end
    return cues


def _cue_words(segment: Segment, prefix: str) -> list[list[Word]]:
    """A segment's words in groups that each fit one cue: CUE_LINES lines and CUE_MAX_S seconds."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in segment.words:
        current.append(word)
        while len(current) > 1 and not _fits(prefix, current):
            cut = _cue_cut(current)
            groups.append(current[:cut])
            current = current[cut:]
    if current:
        groups.append(current)
    return groups


def _fits(prefix: str, words: list[Word]) -> bool:
    too_long = words[-1].end - words[0].start > CUE_MAX_S
    return not too_long and len(_wrap(prefix + join_words(words))) <= CUE_LINES


def _cue_cut(words: list[Word]) -> int:
    """Where to end a cue words[:-1] fits: late, at a sentence or clause end, never before punctuation."""
    candidates = [i for i in range(max(1, len(words) // 2), len(words)) if not _punctuation(words[i].text)]
    if not candidates:
        return len(words) - 1
    for marks in (SENTENCE_ENDS, CLAUSE_ENDS):
        marked = [i for i in candidates if ends_with(words[i - 1].text, marks)]
        if marked:
            return marked[-1]
    return candidates[-1]


def _wrap(text: str) -> list[str]:
    """Greedy wrap at LINE_CHARS; punctuation stays on its word's line; a longer word stands alone."""
    tokens: list[str] = []
    for token in text.split():
        if tokens and _punctuation(token):
            tokens[-1] += " " + token
        else:
            tokens.append(token)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and len(line) + 1 + len(token) > LINE_CHARS:
            lines.append(line)
            line = token
        else:
            line = f"{line} {token}" if line else token
    if line:
        lines.append(line)
    return lines


def _punctuation(text: str) -> bool:
    """A word with no letter or digit that closes what precedes it (French " ?", " »,")."""
    stripped = text.strip()
    return bool(stripped) and stripped[0] not in _OPENERS and not any(c.isalnum() for c in stripped)


def _paragraphs(segments: list[Segment]) -> list[list[Segment]]:
    """Consecutive segments of one speaker, a new paragraph every PARAGRAPH_MAX_S of a long turn."""
    paragraphs: list[list[Segment]] = []
    for segment in segments:
        last = paragraphs[-1] if paragraphs else None
        if last and last[0].speaker == segment.speaker and segment.start - last[0].start < PARAGRAPH_MAX_S:
            last.append(segment)
        else:
            paragraphs.append([segment])
    return paragraphs


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _clock(ms: int, decimal: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal}{millis:03d}"


def _hms(seconds: float) -> str:
    hours, rest = divmod(int(max(0.0, seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
