"""Subtitles that follow the usual rules (BBC, Netflix), as SubRip and WebVTT: cues built from word timings.

The rules, each a constant below:

- One speaker a cue: every segment (one speaker's words) starts a new cue. In SRT the speaker's name
  opens the first cue after a change of speaker, "Alice: " (a name longer than NAME_CHARS is cut
  there, with "…"); the cues that follow until someone else speaks are theirs too, and the reading
  time the name would take is left to the words. In WebVTT every cue carries a `<v Alice>` voice tag
  (the full name; players do not show it as text, so it takes no room).
- At most CUE_LINES (2) lines of at most LINE_CHARS (42) characters. Lines break between words, never
  before punctuation (French " ?" stays with its word); one line when the text fits, else two lines
  as even as possible, preferring a break after a sentence or clause end. A single word longer than
  a line (a URL) is cut across lines.
- A cue appears when its first word is spoken. It stays until its text has had time to be read at
  MAX_CPS (17) characters a second (the characters of its lines, the SRT name included, line breaks
  not counted), and at least MIN_CUE_MS (0.83 s), at most MAX_CUE_MS (7 s), extending into the
  silence after its words. It ends GAP_MS (2 frames at 25 fps) before the next cue; a gap shorter
  than CHAIN_MS is closed to GAP_MS, so cues do not flicker on and off.
- When the next cue comes too soon for that (fast speech), the cue lasts as long as the gap allows,
  ending GAP_MS before the next one: keeping in time with the speech wins over reading speed and
  the minimum duration. Where the cues start is chosen (dynamic programming over each segment's
  words) to make few, full cues that end at sentence ends, clause ends and pauses, that do not span
  a pause longer than PAUSE_MS, and that each get their reading time where the speech leaves any.
- Cues never overlap. Where the next segment starts before a cue could be shown for MIN_SHOWN_MS
  (overlapping speech, a word timed too close), the cue gets MIN_SHOWN_MS and the next one starts
  GAP_MS after it.
- Characters are counted as a reader sees them: text is put in Unicode NFC first, so an accented
  letter is one character however the transcriber encoded it.
- Words without usable times: a segment without words spreads its text over its span by length;
  a word whose time is not a finite number takes the time of the word before it.

Times are whole milliseconds, computed in integers from the transcript alone: the same transcript
always gives the same bytes.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from contracts.artifacts import Segment, Transcript
from exports.text import CLAUSE_ENDS, SENTENCE_ENDS, ends_with, is_punctuation

__all__ = [
    "CHAIN_MS",
    "CUE_LINES",
    "GAP_MS",
    "LINE_CHARS",
    "MAX_CPS",
    "MAX_CUE_MS",
    "MIN_CUE_MS",
    "MIN_SHOWN_MS",
    "NAME_CHARS",
    "PAUSE_MS",
    "Cue",
    "cues",
    "to_srt",
    "to_vtt",
]

LINE_CHARS = 42  # characters a line (BBC, Netflix); not a setting: players and readers expect it
CUE_LINES = 2
MAX_CPS = 17  # reading speed: characters a second (Netflix's adult programmes)
MIN_CUE_MS = 833  # 5/6 s (20 frames at 24 fps): shorter cues are seen but not read
MAX_CUE_MS = 7000  # longer cues are read again or taken for a frozen player
GAP_MS = 80  # 2 frames at 25 fps between cues, so the eye sees a new cue
CHAIN_MS = 500  # a gap shorter than this is closed to GAP_MS: no flicker between cues
PAUSE_MS = 1000  # a cue avoids holding words from both sides of a pause this long
MIN_SHOWN_MS = 400  # the least a cue is shown, even if the next one then starts later
NAME_CHARS = 20  # an SRT speaker name longer than this is cut (the line holds the words)

# Costs the cue-boundary search weighs (units: one more cue costs 1).
_BREAK_COST = {"sentence": 0.0, "clause": 0.3, "pause": 0.3, "word": 1.0}
_PAUSE_COST = 1.0  # each pause longer than PAUSE_MS inside one cue
_MIXED_COST = 0.7  # each sentence that ends inside a cue, before the next one starts in it
_BREAK_PAUSE_MS = 300  # a silence this long after a word makes a good place to end a cue
_LINE_BONUS = {"sentence": 20, "clause": 14}  # characters of imbalance a punctuated line break is worth


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: shown from start_ms to end_ms, its lines as displayed (SRT name included)."""

    start_ms: int
    end_ms: int
    speaker: str | None
    lines: tuple[str, ...]

    @property
    def chars(self) -> int:
        """The characters a viewer reads: every line's, line breaks not counted."""
        return sum(len(line) for line in self.lines)


@dataclass(slots=True)
class _Unit:
    """Text no line may break inside (a word and the punctuation after it), with its time."""

    text: str
    spaced: bool  # a space before it when it follows another unit on a line
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Draft:
    """A cue before the timing pass: where its words start and end, and its lines."""

    start: int
    speech_end: int
    speaker: str | None
    lines: tuple[str, ...]


def cues(t: Transcript, *, name_in_text: bool) -> list[Cue]:
    """The transcript's cues in time order; name_in_text: "Name: " opens a new speaker's first cue (SRT)."""
    segments = sorted(
        (s for s in t.segments if s.words or s.text.strip()), key=lambda s: _finite_ms(s.start, 0)
    )
    speakers = [s.speaker for s in segments]
    prefixes = [
        _prefix(speaker) if name_in_text and (k == 0 or speakers[k - 1] != speaker) else ""
        for k, speaker in enumerate(speakers)
    ]
    units = [_units(s, LINE_CHARS - len(p)) for s, p in zip(segments, prefixes, strict=True)]
    speech_end = max((u.end for us in units for u in us), default=0)
    duration_ms = _finite_ms(t.duration_s, 0)
    end_cap = duration_ms if duration_ms >= speech_end else None
    drafts: list[_Draft] = []
    for index, (segment, prefix, segment_units) in enumerate(zip(segments, prefixes, units, strict=True)):
        if not segment_units:
            continue
        following = next((us[0].start for us in units[index + 1 :] if us), None)
        if following is None:
            following = end_cap + GAP_MS if end_cap is not None else None
        for i, j in _groups(segment_units, len(prefix), following):
            chosen = segment_units[i : j + 1]
            lines = _lines(chosen, prefix if i == 0 else "")
            drafts.append(_Draft(chosen[0].start, max(u.end for u in chosen), segment.speaker, lines))
    drafts.sort(key=lambda d: d.start)  # stable: overlapping segments keep their order
    return _timed(drafts, end_cap)


def to_srt(t: Transcript) -> str:
    """SubRip: numbered cues (the rules above), "Name: " where the speaker changes."""
    blocks = []
    for number, cue in enumerate(cues(t, name_in_text=True), start=1):
        timing = f"{_clock(cue.start_ms, ',')} --> {_clock(cue.end_ms, ',')}"
        blocks.append(f"{number}\n{timing}\n" + "\n".join(cue.lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_vtt(t: Transcript) -> str:
    """WebVTT: the same rules, the speaker in a <v> voice tag, markup characters escaped."""
    blocks = ["WEBVTT"]
    for cue in cues(t, name_in_text=False):
        text = "\n".join(_vtt_escape(line) for line in cue.lines)
        voice = f"<v {_vtt_escape(cue.speaker)}>" if cue.speaker is not None else ""
        blocks.append(f"{_clock(cue.start_ms, '.')} --> {_clock(cue.end_ms, '.')}\n{voice}{text}")
    return "\n\n".join(blocks) + "\n"


# --- words into units -------------------------------------------------------------------------


def _prefix(speaker: str | None) -> str:
    if speaker is None:
        return ""
    name = unicodedata.normalize("NFC", " ".join(speaker.split()))
    if len(name) > NAME_CHARS:
        name = name[: NAME_CHARS - 1].rstrip() + "…"
    return f"{name}: "


def _finite_ms(seconds: float, fallback: int) -> int:
    return max(0, round(seconds * 1000)) if math.isfinite(seconds) else fallback


def _timed_words(segment: Segment) -> Iterator[tuple[str, int, int]]:
    """(text with Whisper's leading space, start ms, end ms) for each word, starts never going back."""
    span_start = _finite_ms(segment.start, 0)
    if not segment.words:  # an edited or word-less segment: its text spread over its span, by length
        tokens = segment.text.split()
        span_end = max(span_start, _finite_ms(segment.end, span_start))
        total = sum(len(token) + 1 for token in tokens)
        done = 0
        for token in tokens:
            start = span_start + (span_end - span_start) * done // total
            done += len(token) + 1
            yield " " + token, start, span_start + (span_end - span_start) * done // total
        return
    previous_start = previous_end = span_start
    for word in segment.words:
        start = max(previous_start, _finite_ms(word.start, previous_end))
        end = max(start, _finite_ms(word.end, start))
        previous_start, previous_end = start, end
        yield word.text, start, end


def _units(segment: Segment, width: int) -> list[_Unit]:
    """The segment's words as units: a word without a leading space, or only punctuation, joins the last."""
    units: list[_Unit] = []
    for raw, start, end in _timed_words(segment):
        body = unicodedata.normalize("NFC", " ".join(raw.split()))  # "é" is one character, not e + accent
        if not body:
            continue
        spaced = raw[:1].isspace()
        joins = bool(units) and (not spaced or is_punctuation(body))
        if joins and len(units[-1].text) + spaced + len(body) <= width:
            last = units[-1]
            last.text += " " * spaced + body
            last.end = max(last.end, end)
            continue
        for k, (piece, piece_start, piece_end) in enumerate(_pieces(body, start, end, width)):
            units.append(_Unit(piece, spaced and k == 0, piece_start, piece_end))
    return units


def _pieces(body: str, start: int, end: int, width: int) -> Iterator[tuple[str, int, int]]:
    """A word cut into pieces of at most width characters, its time shared by length."""
    for offset in range(0, len(body), width):
        piece = body[offset : offset + width]
        yield (
            piece,
            start + (end - start) * offset // len(body),
            start + (end - start) * (offset + len(piece)) // len(body),
        )


# --- units into cues --------------------------------------------------------------------------


def _groups(units: list[_Unit], name_chars: int, following: int | None) -> list[tuple[int, int]]:
    """The cues of one segment as (first, last) unit indexes: the cheapest split (see _BREAK_COST).

    name_chars: the "Name: " that opens the segment's first cue, in its first line.
    """
    n = len(units)
    # line_chars(a, b): units a..b-1 on one line; sums[k] counts units before k with their spaces
    sums = [0]
    for unit in units:
        sums.append(sums[-1] + len(unit.text) + unit.spaced)

    def line_chars(a: int, b: int) -> int:
        return sums[b] - sums[a] - units[a].spaced

    sentence_ends = [ends_with(u.text, SENTENCE_ENDS) for u in units]
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        prefix_chars = name_chars if i == 0 else 0
        # the latest break that keeps the first line (name included) within LINE_CHARS
        first_line_end = i + 1
        while first_line_end < n and prefix_chars + line_chars(i, first_line_end + 1) <= LINE_CHARS:
            first_line_end += 1
        pauses = mixed = 0
        speech_end = units[i].end
        for j in range(i, n):
            if j > i:
                pauses += units[j].start - units[j - 1].end > PAUSE_MS
                mixed += sentence_ends[j - 1]
                speech_end = max(speech_end, units[j].end)
                if speech_end - units[i].start > MAX_CUE_MS:
                    break
                if j >= first_line_end and line_chars(first_line_end, j + 1) > LINE_CHARS:
                    break  # no longer fits in two lines
            next_start = units[j + 1].start if j + 1 < n else following
            cost = best[i] + 1.0 + pauses * _PAUSE_COST + mixed * _MIXED_COST
            cost += _time_cost(units[i].start, speech_end, prefix_chars + line_chars(i, j + 1), next_start)
            if j + 1 < n:
                cost += _BREAK_COST[_break_kind(units[j], units[j + 1])]
            if cost < best[j + 1]:
                best[j + 1], back[j + 1] = cost, i
    groups = []
    end = n
    while end > 0:
        groups.append((back[end], end - 1))
        end = back[end]
    return groups[::-1]


def _time_cost(start: int, speech_end: int, chars: int, next_start: int | None) -> float:
    """What a cue costs for lacking reading time (a second short costs one cue) or minimum duration."""
    limit = start + MAX_CUE_MS if next_start is None else min(start + MAX_CUE_MS, next_start - GAP_MS)
    reading_ms = chars * 1000 / MAX_CPS
    shown = max(1, min(max(speech_end, start + MIN_CUE_MS, start + math.ceil(reading_ms)), limit) - start)
    cost = max(0.0, reading_ms - shown) / 1000
    if shown < MIN_CUE_MS:
        cost += (MIN_CUE_MS - shown) / MIN_CUE_MS
    if shown < MIN_SHOWN_MS:  # it would push the next cue late (_timed): join the words instead
        cost += 2.0
    return cost


def _break_kind(last: _Unit, following: _Unit) -> str:
    if ends_with(last.text, SENTENCE_ENDS):
        return "sentence"
    if ends_with(last.text, CLAUSE_ENDS):
        return "clause"
    return "pause" if following.start - last.end >= _BREAK_PAUSE_MS else "word"


def _joined(units: list[_Unit]) -> str:
    return units[0].text + "".join(" " * u.spaced + u.text for u in units[1:])


def _lines(units: list[_Unit], prefix: str) -> tuple[str, ...]:
    """One line when it fits; else the two most even lines, a break after punctuation worth more."""
    whole = prefix + _joined(units)
    if len(whole) <= LINE_CHARS:
        return (whole,)
    options = []
    for b in range(1, len(units)):
        first, second = prefix + _joined(units[:b]), _joined(units[b:])
        if len(first) > LINE_CHARS or len(second) > LINE_CHARS:
            continue
        score = abs(len(first) - len(second))
        if ends_with(units[b - 1].text, SENTENCE_ENDS):
            score -= _LINE_BONUS["sentence"]
        elif ends_with(units[b - 1].text, CLAUSE_ENDS):
            score -= _LINE_BONUS["clause"]
        options.append((score, len(first) > len(second), b, (first, second)))  # ties: bottom-heavy
    return min(options)[3]  # _groups only makes cues that fit two lines


def _timed(drafts: list[_Draft], end_cap: int | None) -> list[Cue]:
    """Each cue's end: reading time, minimum and maximum, GAP_MS before the next; never overlapping."""
    timed: list[Cue] = []
    previous_end: int | None = None
    for k, draft in enumerate(drafts):
        start = draft.start if previous_end is None else max(draft.start, previous_end + GAP_MS)
        last = k + 1 == len(drafts)
        limit = start + MAX_CUE_MS
        if not last:
            limit = min(limit, drafts[k + 1].start - GAP_MS)
        elif end_cap is not None and end_cap >= draft.speech_end:
            limit = min(limit, end_cap)  # not past the end of the recording
        chars = sum(len(line) for line in draft.lines)
        needed = max(draft.speech_end, start + MIN_CUE_MS, start + math.ceil(chars * 1000 / MAX_CPS))
        end = min(needed, limit)
        if not last and limit - end < CHAIN_MS:
            end = limit
        end = max(end, start + MIN_SHOWN_MS)
        timed.append(Cue(start, end, draft.speaker, draft.lines))
        previous_end = end
    return timed


def _clock(ms: int, decimal: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal}{millis:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
