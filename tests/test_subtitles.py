"""Subtitles a viewer can read: the usual rules (exports/subtitles.py) hold for every cue, SRT and WebVTT.

Pure: transcripts built here, cues checked against the rules one by one, and a seeded hour of
varied speech (fast and slow speakers, pauses, overlaps, French, word-less segments) where every
cue must obey them all. hypothesis is not in the dev extra: the generator is seeded instead.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from itertools import pairwise

import pytest

from contracts.artifacts import Segment, Transcript, Word, decode_transcript, encode, join_words
from exports.subtitles import (
    CUE_LINES,
    GAP_MS,
    LINE_CHARS,
    MAX_CPS,
    MAX_CUE_MS,
    MIN_CUE_MS,
    MIN_SHOWN_MS,
    NAME_CHARS,
    Cue,
    cues,
    to_srt,
    to_vtt,
)

SRT_TIME = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$")
VTT_TIME = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$")


# --- building transcripts ---------------------------------------------------------------------


def spoken(speaker: str | None, start: float, text: str, step: float = 0.4, length: float = 0.3) -> Segment:
    """One segment: a word every `step` seconds, each `length` long, Whisper's leading spaces."""
    words = [
        Word(start + i * step, start + i * step + length, " " + w, 0.9, speaker)
        for i, w in enumerate(text.split())
    ]
    return Segment(words[0].start, words[-1].end, speaker, join_words(words), words)


def transcript(*segments: Segment, duration_s: float | None = None) -> Transcript:
    speakers = [s for s in dict.fromkeys(seg.speaker for seg in segments) if s is not None]
    end = max((s.end for s in segments), default=0.0)
    return Transcript(
        language="fr",
        duration_s=duration_s if duration_s is not None else end + 10.0,
        speakers=speakers,
        segments=list(segments),
        model={},
    )


# --- the rules, checked cue by cue ------------------------------------------------------------


def millis(groups: tuple[str, ...]) -> int:
    h, m, s, ms = (int(g) for g in groups)
    return ((h * 60 + m) * 60 + s) * 1000 + ms


def parse_srt(text: str) -> list[tuple[int, int, list[str]]]:
    """SubRip, strictly: number, timing line, 1-2 non-blank lines, one blank line between cues."""
    if not text:
        return []
    assert text.endswith("\n") and not text.endswith("\n\n")
    parsed = []
    for number, block in enumerate(text[:-1].split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        timing = SRT_TIME.match(lines[1])
        assert timing, lines[1]
        assert 1 <= len(lines[2:]) <= CUE_LINES and all(line.strip() == line and line for line in lines[2:])
        parsed.append((millis(timing.groups()[:4]), millis(timing.groups()[4:]), lines[2:]))
    return parsed


def parse_vtt(text: str) -> list[tuple[int, int, str | None, list[str]]]:
    """WebVTT: the header, then per cue a timing line and 1-2 lines, the first opening with <v Name>."""
    header, *blocks = text[:-1].split("\n\n")
    assert header == "WEBVTT" and text.endswith("\n")
    parsed = []
    for block in blocks:
        timing_line, *lines = block.split("\n")
        timing = VTT_TIME.match(timing_line)
        assert timing, timing_line
        assert 1 <= len(lines) <= CUE_LINES
        voice = re.match(r"^<v ([^>]+)>", lines[0])
        if voice:
            lines[0] = lines[0][voice.end() :]
        assert all(line.strip() == line and line for line in lines)
        unescaped = [line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for line in lines]
        speaker = voice.group(1).replace("&amp;", "&") if voice else None
        parsed.append((millis(timing.groups()[:4]), millis(timing.groups()[4:]), speaker, unescaped))
    return parsed


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def assert_rules(t: Transcript, shown: list[Cue], *, named: bool) -> None:
    """Every rule of exports/subtitles.py, for every cue; and every word shown once, in its speaker's cue."""
    assert shown or not any(s.text.strip() for s in t.segments)
    duration_ms = round(t.duration_s * 1000)
    for k, cue in enumerate(shown):
        following = shown[k + 1] if k + 1 < len(shown) else None
        length = cue.end_ms - cue.start_ms
        assert 1 <= len(cue.lines) <= CUE_LINES, cue
        assert all(0 < len(line) <= LINE_CHARS and line.strip() == line for line in cue.lines), cue
        assert MIN_SHOWN_MS <= length <= MAX_CUE_MS, cue
        as_long_as_the_gap_allows = following is not None and following.start_ms - cue.end_ms == GAP_MS
        at_the_end = following is None and cue.end_ms >= min(duration_ms, cue.start_ms + MAX_CUE_MS)
        if following is not None:
            assert following.start_ms - cue.end_ms >= GAP_MS, (cue, following)  # never overlapping
        if cue.chars * 1000 > MAX_CPS * length:  # too fast to read: only where the next cue allows no more
            assert as_long_as_the_gap_allows or at_the_end, cue
        if length < MIN_CUE_MS:
            assert as_long_as_the_gap_allows or at_the_end, cue
        if len(cue.lines) == 2:  # two lines only when one would not hold the text
            assert len(" ".join(cue.lines)) > LINE_CHARS, cue
    assert_words_in_cues(t, shown, named=named)


def assert_words_in_cues(t: Transcript, shown: list[Cue], *, named: bool) -> None:
    """Walk the words in order through the cues: each cue holds whole words of one segment, one speaker,
    and starts at its first word (or just after the cue before, when that one had to be shown longer)."""
    words = [
        (squeeze(w.text), w.start, s.speaker, index)
        for index, s in enumerate(t.segments)
        for w in s.words
        if squeeze(w.text)
    ]
    position = 0
    previous: Cue | None = None
    previous_speaker: object = object()
    for cue in shown:
        text = squeeze("".join(cue.lines))
        if named and cue.speaker is not None and cue.speaker != previous_speaker:
            name = " ".join(cue.speaker.split())
            shown_name = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "…"
            assert "".join(cue.lines).startswith(f"{shown_name}: "), cue  # a new speaker is named
            text = text[len(squeeze(shown_name + ":")) :]
        elif named:
            assert cue.speaker is None or not "".join(cue.lines).startswith(f"{cue.speaker}:"), cue
        first = position
        while text:
            word, _, speaker, segment = words[position]
            assert text.startswith(word), (cue, word)
            assert speaker == cue.speaker and segment == words[first][3], cue  # one speaker, one segment
            text = text[len(word) :]
            position += 1
        start_ms = max(0, round(words[first][1] * 1000))
        pushed = previous is not None and cue.start_ms == previous.end_ms + GAP_MS
        assert abs(cue.start_ms - start_ms) <= 1 or (pushed and cue.start_ms > start_ms), cue
        previous, previous_speaker = cue, cue.speaker
    assert position == len(words), "every word is in a cue"


def check_both(t: Transcript) -> tuple[list[Cue], list[Cue]]:
    """The rules on SRT's and WebVTT's cues, and the rendered files carrying exactly those cues."""
    srt, vtt = cues(t, name_in_text=True), cues(t, name_in_text=False)
    assert_rules(t, srt, named=True)
    assert_rules(t, vtt, named=False)
    assert parse_srt(to_srt(t)) == [(c.start_ms, c.end_ms, list(c.lines)) for c in srt]
    assert parse_vtt(to_vtt(t)) == [(c.start_ms, c.end_ms, c.speaker, list(c.lines)) for c in vtt]
    return srt, vtt


# --- each rule ---------------------------------------------------------------------------------


def test_lines_are_at_most_two_of_42_balanced_and_broken_after_punctuation() -> None:
    t = transcript(
        spoken(
            "Alice",
            0.0,
            "Bien, nous avons fini le budget de l'année, et maintenant nous passons à la suite.",
            step=0.25,
            length=0.2,
        )
    )
    srt, vtt = check_both(t)  # 81 characters: too many for one cue once broken at a word boundary
    assert [c.lines for c in vtt] == [
        ("Bien, nous avons fini", "le budget de l'année,"),  # even lines; the cue ends at the comma
        ("et maintenant nous passons à la suite.",),
    ]
    assert srt[0].lines == ("Alice: Bien, nous avons", "fini le budget de l'année,")
    _, vtt = check_both(
        transcript(spoken("Bob", 0.0, "Nous avons fini le budget, et maintenant la suite du programme."))
    )
    assert vtt[0].lines == (
        "Nous avons fini le budget,",
        "et maintenant la suite du programme.",
    )  # after the comma


def test_text_that_fits_one_line_stays_on_one() -> None:
    _, vtt = check_both(transcript(spoken("Bob", 0.0, "Merci à tous d'être venus.")))
    assert vtt[0].lines == ("Merci à tous d'être venus.",)


def test_a_cue_stays_until_it_can_be_read_when_the_silence_after_allows() -> None:
    # 11 words in 1.1 s, then 5 s of silence: the cue stays until 17 characters a second were read
    t = transcript(
        spoken(
            "Alice", 0.0, "On se retrouve jeudi prochain pour en reparler, d'accord ?", step=0.1, length=0.08
        ),
        spoken("Bob", 6.2, "Oui."),
    )
    srt, vtt = check_both(t)
    for cue in (srt[0], vtt[0]):
        assert cue.chars * 1000 <= MAX_CPS * (cue.end_ms - cue.start_ms)
        assert cue.end_ms == math.ceil(cue.chars * 1000 / MAX_CPS)  # no longer than that either
    assert vtt[0].end_ms > 1100  # well past the last word's end


def test_fast_speech_ends_each_cue_two_frames_before_the_next() -> None:
    # 30 characters a second with no pause: reading speed cannot be kept, the cues stay in time
    text = "Alors voilà ce que je propose pour le trimestre prochain si tout le monde est d'accord avec moi"
    t = transcript(spoken("Alice", 0.0, text, step=0.17, length=0.15), spoken("Bob", 3.5, "Non."))
    _, vtt = check_both(t)
    assert len(vtt) >= 3
    for cue, following in pairwise(vtt):
        assert following.start_ms - cue.end_ms == GAP_MS


def test_a_short_word_is_shown_for_the_minimum_when_the_silence_allows() -> None:
    t = transcript(spoken("Alice", 1.0, "Oui.", length=0.2), spoken("Bob", 5.0, "Bon."))
    _, vtt = check_both(t)
    assert vtt[0].end_ms - vtt[0].start_ms == MIN_CUE_MS


def test_a_short_word_before_a_quick_reply_gives_way() -> None:
    t = transcript(spoken("Alice", 1.0, "Oui.", length=0.2), spoken("Bob", 1.5, "Alors on y va."))
    _, vtt = check_both(t)
    assert vtt[0].end_ms == 1420 and vtt[1].start_ms == 1500  # the reply is on time


def test_no_cue_lasts_more_than_seven_seconds() -> None:
    slow = spoken("Alice", 0.0, "Un deux trois quatre cinq six sept huit neuf dix.", step=1.4, length=1.2)
    held = Segment(20.0, 35.0, "Bob", "Hmmmm", [Word(20.0, 35.0, " Hmmmm", 0.9, "Bob")])
    _, vtt = check_both(transcript(slow, held))
    assert len(vtt) >= 3 and all(c.end_ms - c.start_ms <= MAX_CUE_MS for c in vtt)
    assert vtt[-1].end_ms - vtt[-1].start_ms == MAX_CUE_MS


def test_a_cue_never_holds_two_speakers_and_each_new_speaker_is_named() -> None:
    t = transcript(
        spoken("Alice", 0.0, "Tu viens ?"),
        spoken("Bob", 1.3, "Oui."),
        spoken("Alice", 1.9, "Bien."),
        spoken("Alice", 4.0, "Alors on commence par le budget, puis on verra le planning ensemble."),
        spoken("Bob", 12.0, "D'accord."),
    )
    srt, vtt = check_both(t)
    assert [c.speaker for c in vtt][:3] == ["Alice", "Bob", "Alice"]
    assert srt[0].lines[0] == "Alice: Tu viens ?" and srt[1].lines[0] == "Bob: Oui."
    assert srt[2].lines[0] == "Alice: Bien."
    assert not any(c.lines[0].startswith("Alice:") for c in srt[3:-1])  # her turn goes on: named once
    assert srt[-1].lines[0] == "Bob: D'accord."
    body = to_vtt(t)
    assert "<v Alice>Tu viens ?" in body and "<v Bob>Oui." in body and "<v Bob>D'accord." in body


def test_a_long_name_is_cut_in_srt_and_kept_whole_in_vtt() -> None:
    name = "Marie-Hélène de La Tour d'Auvergne"
    t = transcript(spoken(name, 0.0, "Bonjour à toutes et à tous, merci d'être là ce matin."))
    srt, _ = check_both(t)
    assert srt[0].lines[0].startswith("Marie-Hélène de La…: Bonjour")
    assert f"<v {name}>Bonjour" in to_vtt(t)


def test_without_diarization_no_names() -> None:
    t = transcript(spoken(None, 0.0, "Un enregistrement sans intervenants."))
    srt, _ = check_both(t)
    assert srt[0].lines == ("Un enregistrement sans intervenants.",)
    assert "<v" not in to_vtt(t)


def test_overlapping_segments_never_make_overlapping_cues() -> None:
    t = transcript(
        spoken("Alice", 0.0, "Je voulais dire que", step=0.3),
        spoken("Bob", 0.75, "Pardon, vas-y.", step=0.3),
        spoken("Alice", 0.9, "non, rien.", step=0.3),
    )
    shown = cues(t, name_in_text=False)
    for cue, following in pairwise(shown):
        assert following.start_ms >= cue.end_ms + GAP_MS
        assert cue.end_ms - cue.start_ms >= MIN_SHOWN_MS
    assert [c.speaker for c in shown] == ["Alice", "Bob", "Alice"]


def test_french_accents_and_apostrophes_count_as_one_character() -> None:
    # 42 characters exactly, many of them accented: one line, though it is longer than 42 in UTF-8 bytes
    line = "L’été où Zoé s’était émue, à Noël : déjà ?"  # noqa: RUF001 (the typographic apostrophe)
    assert len(line) == LINE_CHARS and len(line.encode()) > LINE_CHARS
    decomposed = unicodedata.normalize("NFD", line)  # "é" as e + combining accent: still one character
    for text in (line, decomposed):
        t = transcript(spoken("Zoé", 0.0, text, step=0.5))
        _, vtt = check_both(t)
        assert vtt[0].lines == (unicodedata.normalize("NFC", line),)
    # "l'" and "homme" as Whisper splits them: joined without a space, never broken apart
    words = [
        Word(0.0, 0.2, " C'est", 0.9, "A"),
        Word(0.2, 0.3, " l'", 0.9, "A"),
        Word(0.3, 0.6, "homme", 0.9, "A"),
    ]
    words += [
        Word(0.6 + i * 0.3, 0.8 + i * 0.3, " " + w, 0.9, "A") for i, w in enumerate("qui parle ?".split())
    ]
    t = transcript(Segment(0.0, 1.4, "A", "C'est l'homme qui parle ?", words))
    _, vtt = check_both(t)
    assert vtt[0].lines == ("C'est l'homme qui parle ?",)


def test_a_word_longer_than_a_line_is_cut_across_lines() -> None:
    url = "https://exemple.fr/une/adresse/beaucoup/trop/longue/pour/une/ligne"
    t = transcript(spoken("Alice", 0.0, f"Voir {url} merci."))
    shown = cues(t, name_in_text=True)
    assert all(len(line) <= LINE_CHARS for cue in shown for line in cue.lines)
    assert squeeze("".join("".join(c.lines) for c in shown)) == squeeze(f"Alice: Voir {url} merci.")


def test_segments_without_words_and_words_without_times() -> None:
    no_words = Segment(10.0, 16.0, "Bob", "Un segment corrigé à la main, sans les mots ni leurs temps.", [])
    nan = float("nan")
    broken = [
        Word(20.0, 20.3, " Un", 0.9, "Bob"),
        Word(nan, nan, " mot", 0.9, "Bob"),
        Word(21.0, 21.2, " fin.", 0.9, "Bob"),
    ]
    t = transcript(no_words, Segment(20.0, 21.2, "Bob", "Un mot fin.", broken), duration_s=30.0)
    shown = cues(t, name_in_text=False)
    text = " ".join(" ".join(c.lines) for c in shown)
    assert text == "Un segment corrigé à la main, sans les mots ni leurs temps. Un mot fin."
    assert shown[0].start_ms == 10_000 and all(c.end_ms - c.start_ms <= MAX_CUE_MS for c in shown)
    for cue, following in pairwise(shown):
        assert following.start_ms - cue.end_ms >= GAP_MS


def test_the_last_cue_ends_with_the_recording() -> None:
    said = spoken("Alice", 0.0, "Au revoir et à bientôt tout le monde.", step=0.12, length=0.1)
    _, vtt = check_both(transcript(said, duration_s=1.5))
    assert vtt[-1].end_ms == 1500  # too soon to read it all, but the recording ends there


def test_an_empty_transcript_gives_empty_files() -> None:
    t = transcript(duration_s=5.0)
    assert to_srt(t) == "" and to_vtt(t) == "WEBVTT\n" and cues(t, name_in_text=True) == []


# --- an hour of varied speech -------------------------------------------------------------------

VOCABULARY = (
    "nous avons le budget de l'année et la réunion où êtes-vous Hélène déjà très bien "
    "we need the quarterly numbers by Friday naïve coût aujourd'hui extraordinairement "
    "ça c'est là-bas garçon élève forêt Noël straightforward implementation responsabilités"
).split()
SPEAKERS = ("Alice", "Bob", "Marie-Hélène de La Tour d'Auvergne", None)


def hour_of_speech(seed: int, duration_s: float = 3600.0) -> Transcript:
    """Turns of 1-70 words from four speakers (one unnamed), at 1.5-6 words a second, with pauses,
    punctuation (French " ?" as its own word), overlaps, and some segments without words."""
    rng = random.Random(seed)
    segments: list[Segment] = []
    t = 0.5
    while t < duration_s:
        speaker = rng.choice(SPEAKERS)
        rate = rng.choice((1.5, 2.5, 3.5, 6.0))
        words: list[Word] = []
        for _ in range(rng.randint(1, 70)):
            text = rng.choice(VOCABULARY)
            roll = rng.random()
            text += "." if roll < 0.08 else "," if roll < 0.15 else ""
            length = rng.uniform(0.5, 1.0) / rate
            words.append(Word(round(t, 3), round(t + length, 3), " " + text, 0.9, speaker))
            t += length + (rng.uniform(1.2, 3.0) if rng.random() < 0.03 else rng.uniform(0.0, 0.4) / rate)
            if rng.random() < 0.03:
                words.append(Word(round(t, 3), round(t + 0.1, 3), " ?", 0.9, speaker))
                t += 0.15
        if rng.random() < 0.05:  # an edited segment: text only
            segments.append(Segment(words[0].start, words[-1].end, speaker, join_words(words), []))
        else:
            segments.append(Segment(words[0].start, words[-1].end, speaker, join_words(words), words))
        roll = rng.random()
        if roll < 0.1:  # the next speaker starts during the last word
            t = words[-1].start + (words[-1].end - words[-1].start) * rng.uniform(0.1, 0.9)
        elif roll < 0.5:
            t += rng.uniform(0.0, 0.3)
        else:
            t += rng.uniform(0.3, 6.0)
    return Transcript(
        language="fr",
        duration_s=t + 2.0,
        speakers=[s for s in SPEAKERS if s is not None],
        segments=segments,
        model={},
    )


def as_words(t: Transcript) -> Transcript:
    """The same transcript with word-less segments' words made up as the renderer spreads them, for the
    word walk (assert_words_in_cues) to follow; the renderer itself sees the word-less ones."""
    segments = []
    for s in t.segments:
        if s.words:
            segments.append(s)
            continue
        tokens = s.text.split()
        total = sum(len(token) + 1 for token in tokens)
        span, done, words = (s.end - s.start), 0, []
        for token in tokens:
            start = s.start + span * done / total
            done += len(token) + 1
            words.append(Word(start, s.start + span * done / total, " " + token, 0.9, s.speaker))
        segments.append(Segment(s.start, s.end, s.speaker, s.text, words))
    return Transcript(t.language, t.duration_s, t.speakers, segments, t.model)


@pytest.mark.parametrize("seed", [1, 2])
def test_an_hour_of_speech_obeys_every_rule(seed: int) -> None:
    t = hour_of_speech(seed)
    assert t.duration_s > 3600 and sum(len(s.words) for s in t.segments) > 7000
    srt, vtt = cues(t, name_in_text=True), cues(t, name_in_text=False)
    walked = as_words(t)
    assert_rules(walked, srt, named=True)
    assert_rules(walked, vtt, named=False)
    assert parse_srt(to_srt(t)) == [(c.start_ms, c.end_ms, list(c.lines)) for c in srt]
    assert parse_vtt(to_vtt(t)) == [(c.start_ms, c.end_ms, c.speaker, list(c.lines)) for c in vtt]
    fast = sum(c.chars * 1000 > MAX_CPS * (c.end_ms - c.start_ms) for c in vtt)
    assert fast < len(vtt) / 2  # most cues can be read at 17 characters a second


def test_the_same_transcript_gives_the_same_bytes() -> None:
    t = hour_of_speech(3, duration_s=600.0)
    again = decode_transcript(encode(t))
    assert to_srt(t) == to_srt(again) and to_vtt(t) == to_vtt(again)
