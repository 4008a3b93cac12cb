"""assign_speakers(), number_speakers(), build_segments(): who said each word, and readable segments."""

from __future__ import annotations

import random

import pytest

from contracts.artifacts import Word
from services.assemble.coverage import untranscribed
from services.assemble.speakers import (
    NEAREST_TURN_S,
    assemble,
    assign_speakers,
    build_segments,
    number_speakers,
    overlapped_words,
)
from services.assemble.tests.build import chunk, raw_word, turn, word


def speakers_of(words: list[Word], turns: list[dict]) -> list[str | None]:
    return [w.speaker for w in assign_speakers(words, turns)]


def test_a_word_spanning_two_turns_goes_to_the_longer_overlap() -> None:
    turns = [turn(0.0, 1.2, "A"), turn(1.2, 3.0, "B")]
    assert speakers_of([word(1.0, 1.6, "mostly-b")], turns) == ["B"]
    assert speakers_of([word(0.9, 1.3, "mostly-a")], turns) == ["A"]


def test_overlapping_turns_attribute_by_overlap() -> None:
    turns = [turn(0.0, 5.0, "A"), turn(2.0, 2.5, "B")]
    words = [word(1.0, 1.3, "a"), word(2.0, 2.4, "both"), word(3.0, 3.3, "a")]
    assert speakers_of(words, turns) == ["A", "A", "A"]  # a tie keeps the previous word's speaker
    assert speakers_of([word(1.9, 2.6, "b")], [turn(0.0, 2.0, "A"), turn(1.9, 2.6, "B")]) == ["B"]


def test_a_word_in_a_gap_takes_the_nearest_turn_within_a_second() -> None:
    turns = [turn(0.0, 1.0, "A"), turn(3.0, 4.0, "B")]
    assert speakers_of([word(1.1, 1.4, "after-a")], turns) == ["A"]
    assert speakers_of([word(2.5, 2.8, "before-b")], turns) == ["B"]


def test_a_word_far_from_any_turn_keeps_the_previous_speaker() -> None:
    turns = [turn(0.0, 1.0, "A"), turn(10.0, 11.0, "B")]
    words = [word(0.2, 0.5, "a"), word(5.0, 5.3, "lost"), word(10.2, 10.5, "b")]
    assert speakers_of(words, turns) == ["A", "A", "B"]


def test_the_first_word_far_from_any_turn_takes_the_nearest_one() -> None:
    turns = [turn(10.0, 11.0, "B"), turn(20.0, 21.0, "A")]
    assert speakers_of([word(0.0, 0.3, "early")], turns) == ["B"]


def test_without_turns_every_speaker_is_none() -> None:
    words = [word(0.0, 0.3, "x", speaker="A"), word(1.0, 1.3, "y")]
    assert speakers_of(words, []) == [None, None]
    assert [w.speaker for w in assign_speakers(words, None)] == [None, None]


def test_zero_length_words_and_turns() -> None:
    turns = [turn(0.0, 0.0, "ghost"), turn(0.0, 2.0, "A"), turn(2.0, 4.0, "B")]
    assert speakers_of([word(1.0, 1.0, "a"), word(3.0, 3.0, "b")], turns) == ["A", "B"]


def brute_force(words: list[Word], turns: list[dict]) -> list[str]:
    """The rules applied word by word against every turn: the reference for the sweep."""
    result: list[str] = []
    for w in words:
        overlap: dict[str, float] = {}
        for t in sorted(turns, key=lambda t: (t["start"], t["end"], t["speaker"])):
            seconds = min(w.end, t["end"]) - max(w.start, t["start"])
            if seconds > 0:
                overlap[t["speaker"]] = overlap.get(t["speaker"], 0.0) + seconds
        if overlap:
            most = max(overlap.values())
            tied = [s for s, v in overlap.items() if v == most]
            result.append(result[-1] if result and result[-1] in tied else tied[0])
            continue
        distance, speaker = min(
            (max(w.start - t["end"], t["start"] - w.end), 0 if t["end"] <= w.start else 1, t["speaker"])
            for t in turns
        )[0::2]
        result.append(speaker if distance <= NEAREST_TURN_S or not result else result[-1])
    return result


@pytest.mark.parametrize("seed", range(20))
def test_the_sweep_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    words, t = [], 0.0
    for _ in range(300):
        t += rng.uniform(0.05, 2.5)
        length = rng.uniform(0.1, 0.8)
        words.append(word(round(t, 3), round(t + length, 3), "w"))
        t += length
    turns, t = [], rng.uniform(0, 3)
    while t < words[-1].end:
        length = rng.uniform(0.3, 8.0)
        turns.append(turn(round(t, 3), round(t + length, 3), rng.choice("ABCD")))
        t += length + rng.uniform(-1.0, 3.0)
    assert speakers_of(words, turns) == brute_force(words, turns)


def test_speakers_are_numbered_in_order_of_first_appearance() -> None:
    words = [word(0, 1, "a", "SPEAKER_07"), word(1, 2, "b", "SPEAKER_00"), word(2, 3, "c", "SPEAKER_07")]
    renamed, mapping = number_speakers(words)
    assert mapping == {"SPEAKER_07": "SPEAKER_1", "SPEAKER_00": "SPEAKER_2"}
    assert [w.speaker for w in renamed] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]
    assert number_speakers([word(0, 1, "a")]) == ([word(0, 1, "a")], {})


def test_segments_split_at_speaker_changes_and_long_pauses() -> None:
    words = [
        word(0.0, 0.3, "Hello", "A"),
        word(0.4, 0.7, "there", "A"),
        word(0.8, 1.1, "hi", "B"),
        word(3.0, 3.3, "again", "B"),
    ]
    segments = build_segments(words)
    assert [(s.speaker, s.text) for s in segments] == [("A", "Hello there"), ("B", "hi"), ("B", "again")]
    assert (segments[0].start, segments[0].end) == (0.0, 0.7)


def test_a_long_segment_ends_at_a_sentence_end_and_a_short_one_does_not() -> None:
    short = [word(0.0, 0.3, "Yes."), word(0.4, 0.7, "Sure.")]
    assert [s.text for s in build_segments(short)] == ["Yes. Sure."]
    long = [word(i * 0.5, i * 0.5 + 0.4, f"w{i}" + ("." if i == 25 else "")) for i in range(30)]
    segments = build_segments(long)
    assert segments[0].text.endswith("w25.") and segments[1].text.startswith("w26")


def test_no_segment_is_longer_than_max_duration() -> None:
    """An hour of run-on speech with no punctuation and no pauses still comes out in short segments."""
    words = [word(i * 0.35, i * 0.35 + 0.3, "blah", "A") for i in range(10_000)]
    segments = build_segments(words, max_duration_s=30.0)
    assert all(s.end - s.start <= 30.0 for s in segments)
    assert sum(len(s.words) for s in segments) == len(words)
    assert all(s.end - s.start >= 15.0 for s in segments[:-1])  # cut in the second half, not word by word


def test_an_overlong_segment_is_cut_at_a_clause_end() -> None:
    words = [word(i * 0.5, i * 0.5 + 0.4, f"w{i}" + ("," if i == 40 else "")) for i in range(70)]
    segments = build_segments(words, max_duration_s=30.0, sentence_s=10.0)
    assert segments[0].text.endswith("w40,")
    assert all(s.end - s.start <= 30.0 for s in segments)


def test_a_segment_with_overlapped_speech_is_marked_and_keeps_one_speaker() -> None:
    turns = [turn(0.0, 6.0, "A"), turn(2.0, 2.6, "B"), turn(6.5, 9.0, "B")]
    words = [word(0.5, 0.9, " so"), word(2.1, 2.5, " yes"), word(3.0, 3.4, " right"), word(7.0, 7.5, " ok")]
    transcript = assemble(
        [chunk(0, 0.0, 10.0, [raw_word(w.start, w.end, w.text) for w in words])], {"turns": turns}
    )
    first, second = transcript.segments
    assert first.overlap and [w.text for w in first.words] == [" so", " yes", " right"]
    assert {w.speaker for w in first.words} == {"SPEAKER_1"}  # one speaker per word, the one heard most
    assert not second.overlap
    assert overlapped_words(words, turns) == [False, True, False, False]


def test_speech_the_diarizer_heard_without_words_is_listed() -> None:
    turns = [turn(0.0, 4.0, "A"), turn(10.0, 14.0, "B"), turn(20.0, 20.6, "A")]
    words = [word(0.5, 0.9, " so"), word(1.0, 3.5, " right"), word(12.0, 12.4, " ok")]
    # 10-11.5 and 12.9-14 are heard without words; 3.5-4 is within reach of a word; 20-20.6 is too short
    assert untranscribed(words, turns) == [(10.0, 11.5), (12.9, 14.0)]
    transcript = assemble(
        [chunk(0, 0.0, 30.0, [raw_word(w.start, w.end, w.text) for w in words])], {"turns": turns}
    )
    assert transcript.diarization is not None
    assert transcript.diarization["untranscribed_s"] == 2.6
    assert untranscribed([], []) == []
