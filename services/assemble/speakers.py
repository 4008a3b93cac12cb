"""Words attributed to diarization turns, numbered speakers, and words grouped into segments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from contracts.artifacts import Segment, Transcript, Word, join_words
from exports.merge import ChunkLike, chunk_transcripts, merge_chunks
from exports.transcript import CLAUSE_ENDS, SENTENCE_ENDS, ends_with
from services.assemble.coverage import untranscribed
from services.assemble.inputs import TurnLike, TurnsLike, diarization_of, speaker_turns
from services.assemble.transcript import transcript_language, transcript_model

# A word in a gap between turns takes a turn this close, else the previous word's speaker.
NEAREST_TURN_S = 1.0

_Turn = tuple[float, float, str]


def assemble(chunks: Sequence[ChunkLike], diarization: TurnsLike | None) -> Transcript:
    """Chunk transcripts and diarization turns (None when disabled) in, the whole Transcript out."""
    typed = chunk_transcripts(chunks)
    turns_of = diarization_of(diarization)
    turns = turns_of.turns if turns_of is not None else []
    words = merge_chunks(typed)
    words, speaker_map = number_speakers(assign_speakers(words, turns) if diarization else words)
    overlapped = overlapped_words(words, turns) if diarization else None
    duration_s = max((c.end_s for c in typed), default=0.0)
    summary = None
    if turns_of is not None:
        labels = list(turns_of.speakers)
        labels += [t.speaker for t in turns]
        silent = untranscribed(words, turns)
        summary = {
            "speaker_map": speaker_map,
            "turn_count": len(turns),
            "speakers_without_words": [s for s in dict.fromkeys(labels) if s not in speaker_map],
            "untranscribed": [{"start": a, "end": b} for a, b in silent],  # speech heard, no words
            "untranscribed_s": round(sum(b - a for a, b in silent), 2),
        }
    return Transcript(
        language=transcript_language(typed),
        duration_s=max(duration_s, max((w.end for w in words), default=0.0)),
        speakers=list(speaker_map.values()),
        segments=build_segments(words, overlapped=overlapped),
        model=transcript_model(typed),
        diarization=summary,
    )


def assign_speakers(words: list[Word], turns: Iterable[TurnLike] | None) -> list[Word]:
    """Each word gets the speaker overlapping it most, else a turn within 1 s, else the previous word's."""
    # One sweep over words and turns sorted by start: O(n + m) after sorting. Without turns: None.
    spans: list[_Turn] = sorted((t.start, t.end, t.speaker) for t in speaker_turns(turns) if t.end > t.start)
    if not spans:
        return [w if w.speaker is None else replace(w, speaker=None) for w in words]
    order = sorted(range(len(words)), key=lambda i: words[i].start)  # linear when already sorted
    speakers: list[str] = [""] * len(words)
    active: list[_Turn] = []  # turns that may still overlap the current or a later word
    entered = passed = 0  # spans[:entered] joined `active`; spans[:passed] start before the word
    ended_last: _Turn | None = None  # among spans[:passed], the one that ends last
    previous: str | None = None
    for i in order:
        word = words[i]
        while entered < len(spans) and spans[entered][0] <= word.end:
            active.append(spans[entered])
            entered += 1
        active = [t for t in active if t[1] >= word.start]
        while passed < len(spans) and spans[passed][0] < word.start:
            if ended_last is None or spans[passed][1] > ended_last[1]:
                ended_last = spans[passed]
            passed += 1
        speaker = _most_overlap(word, active, previous)
        if speaker is None:
            following = spans[passed] if passed < len(spans) else None
            speaker = _nearest(word, ended_last, following, previous)
        speakers[i] = previous = speaker
    return [replace(w, speaker=s) for w, s in zip(words, speakers, strict=True)]


def _most_overlap(word: Word, active: list[_Turn], previous: str | None) -> str | None:
    """The speaker with the most overlap; on a tie the previous word's speaker, else the earliest turn's."""
    overlap: dict[str, float] = {}
    for start, end, speaker in active:
        seconds = min(word.end, end) - max(word.start, start)
        if seconds > 0:
            overlap[speaker] = overlap.get(speaker, 0.0) + seconds
        elif word.end <= word.start and start <= word.start <= end:  # a zero-length word inside a turn
            overlap[speaker] = overlap.get(speaker, 0.0) + 1e-9
    if not overlap:
        return None
    most = max(overlap.values())
    if previous is not None and overlap.get(previous) == most:
        return previous
    return next(s for s, seconds in overlap.items() if seconds == most)


def _nearest(word: Word, before: _Turn | None, after: _Turn | None, previous: str | None) -> str:
    """The closer of the turns around a word in a gap, if within NEAREST_TURN_S; else the previous speaker."""
    candidates = []
    if before is not None:
        candidates.append((max(0.0, word.start - before[1]), 0, before[2]))
    if after is not None:
        candidates.append((max(0.0, after[0] - word.end), 1, after[2]))
    distance, _, speaker = min(candidates)  # ties go to the turn before: speech tends to trail a turn
    if distance <= NEAREST_TURN_S or previous is None:
        return speaker
    return previous


def overlapped_words(words: list[Word], turns: Iterable[TurnLike]) -> list[bool]:
    """Whether two or more speakers' turns cover each word's midpoint (overlapped speech).

    The word itself keeps one speaker (assign_speakers: the turn that covers it most, else the
    speaker of the words around it); its segment is marked as overlapped.
    """
    spans = sorted((t.start, t.end, t.speaker) for t in speaker_turns(turns))
    flags: list[bool] = []
    active: list[_Turn] = []
    entered = 0
    for word in sorted(words, key=lambda w: w.start):
        middle = (word.start + word.end) / 2
        while entered < len(spans) and spans[entered][0] <= middle:
            active.append(spans[entered])
            entered += 1
        active = [t for t in active if t[1] >= middle]
        flags.append(len({t[2] for t in active}) >= 2)
    order = sorted(range(len(words)), key=lambda i: words[i].start)
    by_index = [False] * len(words)
    for position, i in enumerate(order):
        by_index[i] = flags[position]
    return by_index


def number_speakers(words: list[Word]) -> tuple[list[Word], dict[str, str]]:
    """Rename speakers SPEAKER_1, SPEAKER_2, ... in order of first appearance; returns words and old->new."""
    mapping: dict[str, str] = {}
    for word in words:
        if word.speaker is not None and word.speaker not in mapping:
            mapping[word.speaker] = f"SPEAKER_{len(mapping) + 1}"
    if not mapping:
        return words, mapping
    renamed = [w if w.speaker is None else replace(w, speaker=mapping[w.speaker]) for w in words]
    return renamed, mapping


def build_segments(
    words: list[Word],
    max_gap_s: float = 1.5,
    max_duration_s: float = 30.0,
    sentence_s: float = 10.0,
    overlapped: list[bool] | None = None,
) -> list[Segment]:
    """Time-sorted words grouped at speaker changes, long pauses, sentence ends; none over max_duration_s."""
    # A segment sentence_s long ends at its next sentence end; one that would pass max_duration_s is
    # cut at its best boundary in its second half: a sentence end, a clause end, else the longest pause.
    segments: list[Segment] = []
    current: list[Word] = []
    flags: list[bool] = []  # overlapped, for each word of current
    for word, overlap in zip(words, overlapped or [False] * len(words), strict=True):
        if current and _ends_segment(current, word, max_gap_s, sentence_s):
            segments.append(_segment(current, any(flags)))
            current, flags = [], []
        while current and word.end - current[0].start > max_duration_s:
            cut = _cut_point(current, word.start, max_duration_s)
            segments.append(_segment(current[:cut], any(flags[:cut])))
            current, flags = current[cut:], flags[cut:]
        current.append(word)
        flags.append(overlap)
    if current:
        segments.append(_segment(current, any(flags)))
    return segments


def _ends_segment(current: list[Word], word: Word, max_gap_s: float, sentence_s: float) -> bool:
    last = current[-1]
    if word.speaker != last.speaker or word.start - last.end > max_gap_s:
        return True
    return last.end - current[0].start >= sentence_s and ends_with(last.text, SENTENCE_ENDS)


def _cut_point(current: list[Word], next_start: float, max_duration_s: float) -> int:
    """How many of `current` to close the segment with: at least 1, at most all."""
    half = current[0].start + max_duration_s / 2
    candidates = [i for i in range(1, len(current) + 1) if current[i - 1].end >= half]
    if not candidates:
        return len(current)
    for marks in (SENTENCE_ENDS, CLAUSE_ENDS):
        marked = [i for i in candidates if ends_with(current[i - 1].text, marks)]
        if marked:
            return marked[-1]

    def pause(i: int) -> float:
        return (current[i].start if i < len(current) else next_start) - current[i - 1].end

    return max(reversed(candidates), key=pause)


def _segment(words: list[Word], overlap: bool = False) -> Segment:
    return Segment(
        start=words[0].start,
        end=max(w.end for w in words),
        speaker=words[0].speaker,
        text=join_words(words),
        words=words,
        overlap=overlap,
    )
