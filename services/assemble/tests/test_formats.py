"""Formats a user opens: SRT and WebVTT that players accept, text and Markdown that read well."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from contracts.artifacts import Transcript
from contracts.artifacts import decode_transcript as from_json
from exports.transcript import (
    LINE_CHARS,
    rename_speakers,
    to_json,
    to_markdown,
    to_srt,
    to_txt,
    to_vtt,
)
from services.assemble.speakers import assemble
from services.assemble.tests.build import chunk, sentence, turn

SRT_TIME = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$")
VTT_TIME = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$")
FRENCH = "Ça, c'est l'été à Noël : où êtes-vous, Hélène ? Déjà là ! « Très bien », dit-elle."
LONG = " ".join(["Voilà une phrase assez longue pour remplir plusieurs lignes de sous-titres."] * 4)


def millis(groups: tuple[str, ...]) -> int:
    h, m, s, ms = (int(g) for g in groups)
    return ((h * 60 + m) * 60 + s) * 1000 + ms


def conversation(diarized: bool = True) -> Transcript:
    """Two speakers, a long monologue, French accents, and a chunk boundary."""
    chunks = [
        chunk(0, 0.0, 40.0, sentence(0.5, FRENCH) + sentence(8.0, LONG), language="fr"),
        chunk(1, 40.0, 80.0, sentence(41.0, "Merci beaucoup. À bientôt."), language="fr"),
    ]
    turns = [turn(0.0, 7.7, "SPEAKER_01"), turn(7.7, 40.0, "SPEAKER_00"), turn(40.5, 80.0, "SPEAKER_01")]
    return assemble(chunks, {"speakers": ["SPEAKER_00", "SPEAKER_01"], "turns": turns} if diarized else None)


def srt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    """Parse SubRip strictly: number, timing line, 1-2 text lines, blank line."""
    cues = []
    assert text.endswith("\n") and not text.endswith("\n\n\n")
    for number, block in enumerate(text.strip("\n").split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        timing = SRT_TIME.match(lines[1])
        assert timing, lines[1]
        assert 1 <= len(lines[2:]) <= 2 and all(line.strip() for line in lines[2:])
        cues.append((millis(timing.groups()[:4]), millis(timing.groups()[4:]), lines[2:]))
    return cues


def vtt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    """Parse WebVTT: the header, then timing line and 1-2 text lines per cue."""
    header, *blocks = text.strip("\n").split("\n\n")
    assert header == "WEBVTT"
    cues = []
    for block in blocks:
        timing_line, *lines = block.split("\n")
        timing = VTT_TIME.match(timing_line)
        assert timing, timing_line
        assert 1 <= len(lines) <= 2 and all(line.strip() for line in lines)
        cues.append((millis(timing.groups()[:4]), millis(timing.groups()[4:]), lines))
    return cues


def assert_monotonic(cues: list[tuple[int, int, list[str]]]) -> None:
    assert cues
    for start, end, _ in cues:
        assert end > start
    for (_, end, _), (start, _, _) in pairwise(cues):
        assert start >= end  # no overlap, in order


@pytest.mark.parametrize("diarized", [True, False])
def test_srt_is_well_formed(diarized: bool) -> None:
    cues = srt_cues(to_srt(conversation(diarized)))
    assert_monotonic(cues)
    assert all(len(line) <= LINE_CHARS for _, _, lines in cues for line in lines)
    labelled = [lines[0].startswith("SPEAKER_") for _, _, lines in cues]
    assert (labelled[0] and sum(labelled) == 3) if diarized else not any(labelled)  # each change of speaker
    assert len(cues) > 4  # the long monologue was split into several cues


@pytest.mark.parametrize("diarized", [True, False])
def test_vtt_is_well_formed(diarized: bool) -> None:
    cues = vtt_cues(to_vtt(conversation(diarized)))
    assert_monotonic(cues)
    voiced = [re.match(r"^<v SPEAKER_\d+>\S", lines[0]) is not None for _, _, lines in cues]
    assert all(voiced) if diarized else not any(voiced)
    assert all(len(re.sub(r"^<v [^>]*>", "", line)) <= LINE_CHARS for _, _, lines in cues for line in lines)


def test_cues_follow_the_speakers() -> None:
    cues = srt_cues(to_srt(conversation()))
    assert cues[0][2][0].startswith("SPEAKER_1: Ça, c'est")
    assert any(lines[0].startswith("SPEAKER_2: Voilà") for _, _, lines in cues)
    assert cues[-1][2][0] == "SPEAKER_1: Merci beaucoup. À bientôt."
    assert cues[-1][0] == 41_000


def test_vtt_escapes_markup_in_text() -> None:
    t = assemble([chunk(0, 0.0, 5.0, sentence(0.0, "a <b> & c --> d"))], None)
    body = to_vtt(t)
    assert "a &lt;b&gt; &amp; c --&gt; d" in body and "<b>" not in body


def test_txt_has_one_paragraph_per_speaker_turn() -> None:
    paragraphs = to_txt(conversation()).strip("\n").split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0] == f"[00:00:00] SPEAKER_1: {FRENCH}"
    assert paragraphs[1] == f"[00:00:08] SPEAKER_2: {LONG}"
    assert paragraphs[2] == "[00:00:41] SPEAKER_1: Merci beaucoup. À bientôt."
    assert to_txt(conversation(diarized=False)).startswith(f"[00:00:00] {FRENCH}")


def test_markdown_lists_speakers_and_paragraphs() -> None:
    md = to_markdown(conversation())
    assert md.startswith("# Transcript\n")
    assert "- Language: fr\n" in md and "- Speakers: SPEAKER_1, SPEAKER_2\n" in md
    assert f"**[00:00:00] SPEAKER_1:** {FRENCH}\n" in md
    assert "- Speakers: not identified" in to_markdown(conversation(diarized=False))


def test_markdown_escapes_emphasis_and_links() -> None:
    t = assemble([chunk(0, 0.0, 5.0, sentence(0.0, "*really* [x](y) snake_case _z_"))], None)
    assert r"\*really\* \[x\](y) snake_case \_z\_" in to_markdown(t)


def test_french_accents_round_trip_in_every_format() -> None:
    t = conversation()
    assert from_json(to_json(t)) == t
    assert FRENCH.encode() in to_json(t)  # UTF-8, not \u escapes
    for text in (to_srt(t), to_vtt(t), to_txt(t), to_markdown(t)):
        for fragment in ("Ça,", "l'été", "à Noël", "êtes-vous, Hélène ?", "« Très bien »", "À bientôt."):
            assert fragment in text.replace("\n", " ")
        text.encode("utf-8")


def test_empty_transcript_is_still_valid() -> None:
    t = assemble([chunk(0, 0.0, 10.0, [], language=None)], {"speakers": [], "turns": []})
    assert to_srt(t) == "" and to_txt(t) == ""
    assert to_vtt(t) == "WEBVTT\n"
    assert from_json(to_json(t)) == t
    assert t.speakers == [] and t.duration_s == 10.0


def test_rename_speakers() -> None:
    t = rename_speakers(conversation(), {"SPEAKER_1": "Hélène", "SPEAKER_2": "Marc"})
    assert t.speakers == ["Hélène", "Marc"]
    assert {w.speaker for s in t.segments for w in s.words} == {"Hélène", "Marc"}
    assert t.diarization is not None
    assert t.diarization["speaker_map"] == {"SPEAKER_01": "Hélène", "SPEAKER_00": "Marc"}
    assert "<v Hélène>Ça, c'est" in to_vtt(t) and "Hélène: Ça, c'est" in to_srt(t)
    merged = rename_speakers(t, {"Marc": "Hélène"})
    assert merged.speakers == ["Hélène"]
    with pytest.raises(ValueError, match="one line"):
        rename_speakers(t, {"Marc": "Mar\nc"})
