"""Transcript edits as pure functions (exports/edits.py): timings kept, spans shared, splices undone."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from contracts.artifacts import RevisionLog, Transcript, decode_transcript, encode, join_words
from exports import edits
from exports.edits import EditError, NothingToUndo, Stamp

MEETING = Path(__file__).parent / "fixtures" / "transcripts" / "en_meeting.json"  # SPEAKER_1..3, 18 segments


@pytest.fixture
def meeting() -> Transcript:
    return decode_transcript(MEETING.read_bytes())


def stamp(number: int = 1) -> Stamp:
    return Stamp(number=number, author="alice", at=1_700_000_000.0 + number)


def timings(words) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(w.start, w.end) for w in words]


def test_a_corrected_word_takes_the_old_words_span_and_the_others_keep_theirs(meeting: Transcript) -> None:
    old = meeting.segments[
        0
    ]  # " Good morning everyone, this is the weekly planning meeting for the Lisbon..."
    edited, revision = edits.correct_word(meeting, 0, 1, "evening", stamp())
    new = edited.segments[0]
    assert new.text == old.text.replace("morning", "evening")
    assert new.words[1].text == " evening" and new.words[1].probability == 1.0
    assert timings(new.words) == timings(old.words)  # the word's span is the old word's span
    assert new.words[2] == old.words[2] and new.words[0] == old.words[0]
    assert edited.segments[1:] == meeting.segments[1:] and edits.revision_of(edited) == 1
    assert (revision.action, revision.start, revision.after, revision.before) == ("word", 0, 1, [old])
    assert revision.author == "alice" and "morning" in revision.detail and "evening" in revision.detail


def test_a_word_corrected_into_two_shares_its_span_by_length(meeting: Transcript) -> None:
    old = meeting.segments[0].words[1]  # " morning" 1.4 .. 1.87
    edited, _ = edits.correct_word(meeting, 0, 1, "good morning", stamp())
    first, second = edited.segments[0].words[1:3]
    assert (first.text, second.text) == (" good", " morning")
    assert first.start == old.start and second.end == old.end and first.end == second.start
    assert first.end - first.start < second.end - second.start  # 4 letters get less time than 7


def test_replaced_text_keeps_the_timings_of_the_words_it_did_not_change(meeting: Transcript) -> None:
    old = meeting.segments[
        2
    ]  # "The movers quoted twelve thousand euros, which is above the budget we set in January."
    text = "The movers quoted eleven thousand two hundred euros which is above the budget we set in February."
    edited, revision = edits.replace_text(meeting, 2, text, stamp())
    new = edited.segments[2]
    assert new.text == text and join_words(new.words) == text
    by_text = {w.text.strip(): w for w in new.words}
    for kept in ("The", "movers", "quoted", "thousand", "which", "budget", "set"):
        original = next(w for w in old.words if w.text.strip().rstrip(",.") == kept)
        assert (by_text[kept].start, by_text[kept].end) == (original.start, original.end), kept
        assert by_text[kept].probability == original.probability
    # "euros," lost its comma: same word, same timing, now as the person wrote it
    euros = next(w for w in old.words if w.text.strip() == "euros,")
    assert (by_text["euros"].start, by_text["euros"].end, by_text["euros"].probability) == (
        euros.start,
        euros.end,
        1.0,
    )
    # "twelve" -> "eleven": the replaced word's span goes to the new one
    twelve = next(w for w in old.words if w.text.strip() == "twelve")
    assert (by_text["eleven"].start, by_text["eleven"].end) == (twelve.start, twelve.end)
    assert by_text["eleven"].probability == 1.0
    # "two hundred" inserted after "thousand": zero-length, at the boundary
    thousand = next(w for w in old.words if w.text.strip() == "thousand")
    for inserted in ("two", "hundred"):
        assert by_text[inserted].start == by_text[inserted].end == thousand.end
    january = next(w for w in old.words if w.text.strip() == "January.")
    assert (by_text["February."].start, by_text["February."].end) == (january.start, january.end)
    assert (new.start, new.end) == (old.start, old.end)
    assert all(w.speaker == old.speaker for w in new.words)
    assert revision.action == "text" and revision.before == [old]


def test_deleted_words_disappear_and_the_segment_times_follow_the_words(meeting: Transcript) -> None:
    old = meeting.segments[1]  # "Thanks. The lease on the new floor starts on the first of March, so ..."
    kept = old.words[1:5]
    edited, _ = edits.replace_text(meeting, 1, join_words(kept), stamp())
    new = edited.segments[1]
    assert new.words == kept  # untouched words, exactly
    assert (new.start, new.end) == (kept[0].start, kept[-1].end)


def test_a_whole_new_text_gets_the_segments_span_split_by_characters(meeting: Transcript) -> None:
    old = meeting.segments[3]
    edited, _ = edits.replace_text(meeting, 3, "Completely different words", stamp())
    words = edited.segments[3].words
    assert [w.text for w in words] == [" Completely", " different", " words"]
    assert words[0].start == old.words[0].start and words[-1].end == max(w.end for w in old.words)
    assert all(a.end == b.start for a, b in itertools.pairwise(words))
    assert all(w.probability == 1.0 for w in words)


def test_a_speaker_change_moves_the_segment_and_its_words_and_reorders_the_speakers(
    meeting: Transcript,
) -> None:
    edited, revision = edits.change_speaker(meeting, 0, "SPEAKER_2", stamp())
    assert edited.segments[0].speaker == "SPEAKER_2"
    assert {w.speaker for w in edited.segments[0].words} == {"SPEAKER_2"}
    assert timings(edited.segments[0].words) == timings(meeting.segments[0].words)
    assert edited.speakers == ["SPEAKER_2", "SPEAKER_1", "SPEAKER_3"]  # first appearance
    assert revision.action == "speaker" and "SPEAKER_1 -> SPEAKER_2" in revision.detail


def test_a_new_speaker_gets_the_next_free_label(meeting: Transcript) -> None:
    edited, _ = edits.change_speaker(meeting, 4, edits.NEW_SPEAKER, stamp())
    assert edited.segments[4].speaker == "SPEAKER_4" and "SPEAKER_4" in edited.speakers
    # a label the job has a name for, gone from the transcript, is not given out again
    again, _ = edits.change_speaker(meeting, 4, edits.NEW_SPEAKER, stamp(), known=("SPEAKER_7",))
    assert again.segments[4].speaker == "SPEAKER_8"
    kept, _ = edits.change_speaker(meeting, 4, "SPEAKER_7", stamp(), known=("SPEAKER_7",))
    assert kept.segments[4].speaker == "SPEAKER_7"
    assert edits.next_label(["SPEAKER_01", "SPEAKER_02"]) == "SPEAKER_03"
    assert edits.next_label([]) == "SPEAKER_1"


def test_a_speaker_who_loses_every_segment_leaves_the_speaker_list(meeting: Transcript) -> None:
    t = meeting
    for i, segment in enumerate(meeting.segments):
        if segment.speaker == "SPEAKER_3":
            t, _ = edits.change_speaker(t, i, "SPEAKER_1", stamp())
    assert t.speakers == ["SPEAKER_1", "SPEAKER_2"]


def test_split_and_merge_keep_every_words_timing(meeting: Transcript) -> None:
    old = meeting.segments[5]
    split, revision = edits.split_segment(meeting, 5, 3, stamp(1))
    assert len(split.segments) == len(meeting.segments) + 1
    first, second = split.segments[5:7]
    assert first.words == old.words[:3] and second.words == old.words[3:]
    assert (first.start, first.end, second.start, second.end) == (
        old.words[0].start,
        old.words[2].end,
        old.words[3].start,
        old.words[-1].end,
    )
    assert first.text == join_words(old.words[:3]) and first.speaker == second.speaker == old.speaker
    assert (revision.start, revision.after, revision.before) == (5, 2, [old])

    merged, revision = edits.merge_segments(split, 5, stamp(2))
    assert merged.segments == meeting.segments  # split then merged: the same segment again
    assert (revision.action, revision.start, revision.after) == ("merge", 5, 1)


def test_a_merge_takes_the_first_speaker_and_the_words_follow_it(meeting: Transcript) -> None:
    a, b = meeting.segments[0], meeting.segments[1]  # SPEAKER_1, SPEAKER_2
    merged, revision = edits.merge_segments(meeting, 0, stamp())
    one = merged.segments[0]
    assert one.speaker == a.speaker and {w.speaker for w in one.words} == {a.speaker}
    assert timings(one.words) == timings(a.words) + timings(b.words)
    assert (one.start, one.end) == (a.start, b.end) and one.text == f"{a.text} {b.text}"
    assert len(merged.segments) == len(meeting.segments) - 1 and revision.before == [a, b]


def test_undo_takes_back_the_latest_edit_then_the_one_before(meeting: Transcript) -> None:
    log = RevisionLog()
    t = meeting
    t, r1 = edits.replace_text(t, 0, "Good evening everyone.", stamp(1))
    log = edits.record(log, r1)
    t, r2 = edits.split_segment(t, 3, 2, stamp(2))
    log = edits.record(log, r2)
    after_two = t

    t, u3 = edits.undo(t, log, stamp(3))
    log = edits.record(log, u3)
    assert u3.undoes == 2 and u3.action == "undo" and edits.revision_of(t) == 3
    assert t.segments == edits.replace_text(meeting, 0, "Good evening everyone.", stamp(1))[0].segments
    assert [r.undone for r in log.revisions] == [False, True, False]

    t, u4 = edits.undo(t, log, stamp(4))
    log = edits.record(log, u4)
    assert u4.undoes == 1 and t.segments == meeting.segments and t.speakers == meeting.speakers
    with pytest.raises(NothingToUndo):
        edits.undo(t, log, stamp(5))
    # the log round-trips, and the dropped tail of a log puts the undone flags back
    assert edits.forget_after(log, 2).revisions[1].undone is False
    assert edits.forget_after(log, 3).revisions[0].undone is False
    assert encode(edits.forget_after(log, 2)) == encode(edits.record(edits.record(RevisionLog(), r1), r2))
    assert edits.revision_of(meeting) == 0 and "revision" not in meeting.model  # as assemble wrote it
    assert edits.revision_of(after_two) == 2


def test_undo_after_an_undo_and_a_new_edit(meeting: Transcript) -> None:
    log, t = RevisionLog(), meeting
    for number, edit in enumerate(
        (
            lambda t, s: edits.merge_segments(t, 2, s),
            lambda t, s: edits.change_speaker(t, 0, "SPEAKER_3", s),
        ),
        start=1,
    ):
        t, revision = edit(t, stamp(number))
        log = edits.record(log, revision)
    t, revision = edits.undo(t, log, stamp(3))  # the speaker change
    log = edits.record(log, revision)
    t, revision = edits.split_segment(t, 6, 1, stamp(4))
    log = edits.record(log, revision)
    for number in (5, 6):  # the split, then the merge (the speaker change is undone already)
        t, revision = edits.undo(t, log, stamp(number))
        log = edits.record(log, revision)
    assert [r.undoes for r in log.revisions[-2:]] == [4, 1]
    assert t.segments == meeting.segments


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: edits.replace_text(t, 18, "x", stamp()), "no segment 18"),
        (lambda t: edits.replace_text(t, -1, "x", stamp()), "no segment -1"),
        (lambda t: edits.replace_text(t, 0, "   ", stamp()), "empty"),
        (lambda t: edits.replace_text(t, 0, t.segments[0].text, stamp()), "already reads"),
        (lambda t: edits.correct_word(t, 0, 99, "x", stamp()), "no word 99"),
        (lambda t: edits.correct_word(t, 0, 0, "", stamp()), "empty"),
        (lambda t: edits.change_speaker(t, 0, "SPEAKER_9", stamp()), "no speaker 'SPEAKER_9'"),
        (lambda t: edits.change_speaker(t, 0, "SPEAKER_1", stamp()), "already"),
        (lambda t: edits.split_segment(t, 0, 0, stamp()), "before word 1"),
        (lambda t: edits.split_segment(t, 0, len(t.segments[0].words), stamp()), "before word 1"),
        (lambda t: edits.merge_segments(t, 17, stamp()), "last one"),
        (lambda t: edits.undo(t, RevisionLog(), stamp()), "no edit to undo"),
    ],
)
def test_edits_that_cannot_apply_say_why(meeting: Transcript, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EditError, match=message):
        edit(meeting)
