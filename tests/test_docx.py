"""The DOCX people send around (exports/docx.py), read back with python-docx as Word would open it.

Pure: the committed meeting transcripts, a summary written here, the job's names applied the way
ingest applies them (exports/transcript.rename_speakers, exports/summary.rename_speakers).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from contracts.artifacts import (
    ActionItem,
    Chapter,
    Decision,
    Segment,
    SpeakerNote,
    Summary,
    Transcript,
    Word,
    decode_transcript,
)
from exports import summary as summaries
from exports import transcript as transcripts
from exports.docx import DocumentInfo
from exports.formats import DOCUMENT_FORMATS, render_document

docx = pytest.importorskip("docx")  # the ingest extra

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
CREATED_AT = 1_767_268_800.0  # 2026-01-01 12:00 UTC
NAMES = {"SPEAKER_1": "Alice Martin", "SPEAKER_2": "Bob", "SPEAKER_3": "Zoé"}
TIMESTAMP = re.compile(r"\[\d{2}:\d{2}:\d{2}\]")


def meeting(language: str = "en") -> Transcript:
    return decode_transcript((FIXTURES / f"{language}_meeting.json").read_bytes())


def summary(language: str = "en") -> Summary:
    return Summary(
        method="extractive",
        model=None,
        language=language,
        title="Lisbon office move",
        overview="SPEAKER_1 runs the meeting; the move is split between two companies.",
        key_points=["The lease starts on the first of March."],
        decisions=[Decision(text="Split the move between the two companies.", at_s=40.0)],
        action_items=[
            ActionItem(text="Sign both contracts", owner="SPEAKER_3", due="Friday", at_s=48.0),
            ActionItem(text="Call the landlord about the cabling", owner="SPEAKER_2"),
        ],
        chapters=[Chapter(title="Quotes", start_s=17.0), Chapter(title="Cabling", start_s=55.0)],
        speakers=[SpeakerNote(speaker="SPEAKER_1", contribution="chairs the meeting", share=0.4)],
    )


def render(t: Transcript, s: Summary | None, names: dict[str, str] | None = None, **info: object) -> Any:
    """The document as ingest serves it: names applied to both, then read back from the bytes."""
    if names:
        t = transcripts.rename_speakers(t, names)
        s = summaries.rename_speakers(s, names) if s is not None else None
    fields = {"name": "office-move.m4a", "created_at": CREATED_AT, **info}
    body = render_document(t, s, DocumentInfo(**fields), "docx")  # type: ignore[arg-type]
    assert body[:2] == b"PK"  # a zip, as every .docx
    return docx.Document(io.BytesIO(body))


def texts(document: Any) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs]


def index_of(document: Any, style: str, text: str) -> int:
    return next(i for i, (s, t) in enumerate(texts(document)) if s == style and t == text)


def test_the_summary_comes_first_then_the_transcript_with_times_and_bold_names() -> None:
    document = render(meeting(), summary(), NAMES)
    paragraphs = texts(document)
    assert paragraphs[0] == ("Title", "Lisbon office move")
    facts = paragraphs[1][1]
    assert "File: office-move.m4a" in facts and "Duration: 0:02:13" in facts and "Date: 2026-01-01" in facts
    assert "Speakers: Alice Martin, Bob, Zoé" in facts
    summary_at, transcript_at = (
        index_of(document, "Heading 1", "Summary"),
        index_of(document, "Heading 1", "Transcript"),
    )
    assert summary_at < transcript_at
    before = [text for _, text in paragraphs[summary_at:transcript_at]]
    assert "Alice Martin runs the meeting; the move is split between two companies." in before
    assert "[0:00:40] Split the move between the two companies." in before
    assert "[0:00:48] Sign both contracts (owner: Zoé; due: Friday)" in before
    assert "Call the landlord about the cabling (owner: Bob)" in before
    assert "[0:00:17] Quotes" in before and "[0:00:55] Cabling" in before
    for heading in ("Key points", "Decisions", "Action items", "Chapters"):
        assert ("Heading 2", heading) in paragraphs[summary_at:transcript_at]
    owners = [r.text for p in document.paragraphs[summary_at:transcript_at] for r in p.runs if r.bold]
    assert "Zoé" in owners and "Bob" in owners

    turns = document.paragraphs[transcript_at + 1 :]
    heads = [p for p in turns if TIMESTAMP.fullmatch(p.runs[0].text)]
    assert heads and heads[0].text == "[00:00:01]  Alice Martin"
    assert {r.text for p in heads for r in p.runs if r.bold} == {"Alice Martin", "Bob", "Zoé"}
    transcript_text = " ".join(p.text for p in turns)
    for segment in meeting().segments:
        assert segment.text in transcript_text  # every word said is in the document
    assert "SPEAKER_" not in " ".join(text for _, text in paragraphs)  # the names, everywhere


def test_consecutive_segments_of_one_speaker_are_one_paragraph_each_with_its_time() -> None:
    def said(start: float, speaker: str, text: str) -> Segment:
        words = [
            Word(start + i * 0.4, start + i * 0.4 + 0.3, " " + w, 0.9, speaker)
            for i, w in enumerate(text.split())
        ]
        return Segment(words[0].start, words[-1].end, speaker, text, words)

    t = Transcript(
        language="en",
        duration_s=80.0,
        speakers=["SPEAKER_1", "SPEAKER_2"],
        segments=[
            said(0.0, "SPEAKER_1", "First thing."),
            said(5.0, "SPEAKER_1", "Second thing."),
            said(65.0, "SPEAKER_1", "Third thing."),
            said(70.0, "SPEAKER_2", "Agreed."),
        ],
        model={},
    )
    document = render(t, None, {"SPEAKER_1": "Alice"})
    start = index_of(document, "Heading 1", "Transcript")
    assert [p.text for p in document.paragraphs[start + 1 :]] == [
        "[00:00:00]  Alice",
        "First thing. [00:00:05] Second thing. [00:01:05] Third thing.",
        "[00:01:10]  SPEAKER_2",
        "Agreed.",
    ]


def test_a_rename_shows_in_the_next_document() -> None:
    before = " ".join(text for _, text in texts(render(meeting(), summary())))
    after = " ".join(text for _, text in texts(render(meeting(), summary(), {"SPEAKER_2": "Roberto"})))
    assert "SPEAKER_2" in before and "Roberto" not in before
    assert "Roberto" in after and "SPEAKER_2" not in after
    assert "(owner: Roberto)" in after  # in the summary's action items too


def test_without_a_summary_yet_the_document_has_the_transcript_and_says_so() -> None:
    document = render(meeting(), None, NAMES, summary_method="extractive")
    paragraphs = texts(document)
    assert paragraphs[0] == ("Title", "office-move.m4a")  # no summary title: the file name
    assert "File:" not in paragraphs[1][1]  # the title already is the file name
    summary_at = index_of(document, "Heading 1", "Summary")
    assert "not ready yet" in paragraphs[summary_at + 1][1]
    assert ("Heading 1", "Transcript") in paragraphs and "[00:00:01]  Alice Martin" in [
        t for _, t in paragraphs
    ]


@pytest.mark.parametrize(
    "stored",
    [None, Summary(method="none", model=None, language="en")],
    ids=["not written", "written as none"],
)
def test_a_summary_not_asked_for_says_so(stored: Summary | None) -> None:
    paragraphs = texts(render(meeting(), stored, summary_method="none"))
    assert ("Normal", "No summary was requested for this job.") in paragraphs
    assert not any("not ready" in text for _, text in paragraphs)
    assert ("Heading 1", "Transcript") in paragraphs


def test_a_french_meeting_has_french_headings() -> None:
    document = render(meeting("fr"), summary("fr"), {"SPEAKER_1": "Hélène"})
    paragraphs = texts(document)
    for heading in ("Résumé", "Transcription"):
        assert ("Heading 1", heading) in paragraphs
    for heading in ("Points clés", "Décisions", "Actions", "Chapitres"):
        assert ("Heading 2", heading) in paragraphs
    assert "Durée: 0:" in paragraphs[1][1] and "Intervenants: Hélène, SPEAKER_2" in paragraphs[1][1]
    assert any("Bonjour à tous" in text for _, text in paragraphs)
    assert any(re.fullmatch(r"\[\d{2}:\d{2}:\d{2}\]  Hélène", text) for _, text in paragraphs)


def test_file_properties_name_the_meeting_and_its_date() -> None:
    properties = render(meeting(), summary()).core_properties
    assert properties.title == "Lisbon office move"
    assert properties.created is not None and properties.created.year == 2026 and properties.created.day == 1


def test_text_that_xml_cannot_hold_is_left_out_not_a_crash() -> None:
    words = [Word(0.0, 0.5, " Bell\x07", 0.9, "SPEAKER_1"), Word(0.5, 1.0, " rang\x0c.", 0.9, "SPEAKER_1")]
    t = Transcript(
        "en", 2.0, ["SPEAKER_1"], [Segment(0.0, 1.0, "SPEAKER_1", "Bell\x07 rang\x0c.", words)], {}
    )
    assert "Bell rang." in [p.text for p in render(t, None).paragraphs]


def test_an_empty_transcript_still_makes_a_document() -> None:
    t = Transcript("en", 30.0, [], [], {})
    paragraphs = texts(render(t, None))
    assert ("Normal", "Nothing was transcribed.") in paragraphs


def test_the_format_table_offers_docx() -> None:
    assert (
        DOCUMENT_FORMATS["docx"][0]
        == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
