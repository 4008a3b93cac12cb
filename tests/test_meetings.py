"""The generated meetings (bench/meetings.py): deterministic scripts whose truth agrees with what is said."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest

from bench import meetings

SPECS = list(meetings.MEETINGS.values())


@pytest.fixture(scope="module")
def plans() -> dict[str, dict]:
    return {spec.name: meetings.plan(spec) for spec in SPECS}


def test_the_meetings_asked_for_exist() -> None:
    shapes = {
        name: (s.language, s.minutes, len(s.participants), s.n_decisions, s.n_actions)
        for name, s in meetings.MEETINGS.items()
    }
    assert shapes["en_standup_5"] == ("en", 5, 2, 2, 3)
    assert shapes["en_review_15"] == ("en", 15, 3, 0, 0)
    assert shapes["en_planning_30"] == ("en", 30, 4, 5, 8)
    assert shapes["en_allhands_60"] == ("en", 60, 3, 8, 12)
    assert shapes["fr_point_5"] == ("fr", 5, 2, 2, 3)
    assert shapes["fr_bilan_12"] == ("fr", 12, 3, 0, 0)
    assert shapes["fr_comite_30"] == ("fr", 30, 3, 4, 6)
    for spec in SPECS:  # every participant has a voice of their own
        assert len({voice for _, voice in spec.participants}) == len(spec.participants)


def test_plan_is_deterministic_and_the_seed_matters() -> None:
    spec = meetings.MEETINGS["en_planning_30"]
    assert meetings.plan(spec) == meetings.plan(spec)
    other = meetings.plan(dataclasses.replace(spec, seed=spec.seed + 1))
    assert other["sentences"] != meetings.plan(spec)["sentences"]
    assert other["spec_hash"] != meetings.plan(spec)["spec_hash"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_truth_agrees_with_the_script(spec: meetings.MeetingSpec, plans: dict[str, dict]) -> None:
    truth = plans[spec.name]
    sentences, items = truth["sentences"], truth["items"]
    assert truth["speakers"] == {f"S{i + 1}": name for i, (name, _) in enumerate(spec.participants)}
    assert abs(truth["duration_s"] - spec.minutes * 60) < 0.05 * spec.minutes * 60
    assert [i["kind"] for i in items].count("decision") == spec.n_decisions
    assert [i["kind"] for i in items].count("action") == spec.n_actions
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(sentences))
    assert " ".join(t["text"] for t in truth["turns"]) == " ".join(s["text"] for s in sentences)
    for item in items:
        first, last = item["sentence_span"]
        said = " ".join(s["text"] for s in sentences[first : last + 1]).casefold()
        assert (item["start"], item["end"]) == (sentences[first]["start"], sentences[last]["end"])
        assert 2 <= len(item["keys"]) <= 4
        assert all(key.casefold() in said for key in item["keys"]), (item, said)
        if item["due"]:
            assert item["due"].casefold() in said
            assert item["text"].endswith(f"{item['due']}.")
        if item["kind"] == "decision":
            assert item["owner"] is None and item["owner_speaker"] is None and item["due"] is None
        else:
            assert item["owner"]
        if item["owner_speaker"]:
            assert truth["speakers"][item["owner_speaker"]] == item["owner"]
    if items:  # spread over the meeting, its last part included
        assert items[0]["start"] < 0.3 * truth["duration_s"]
        assert items[-1]["start"] > 0.75 * truth["duration_s"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_script_is_speakable_and_names_people(spec: meetings.MeetingSpec, plans: dict[str, dict]) -> None:
    texts = [s["text"] for s in plans[spec.name]["sentences"]]
    for text in texts:
        assert re.fullmatch(r"[\w' ,:.?-]+[.?]", text), text  # plain words for espeak: no digits, no symbols
        assert not re.search(r"\d|\{|\}", text), text
    for name, _ in spec.participants:
        assert any(name in text for text in texts), f"{name} is never named"
    said = [text for text in texts if len(text.split()) >= 6]  # short replies ("Thanks.") may repeat
    assert len(set(said)) > 0.5 * len(said)  # varied, not the same sentences over and over
    if spec.language == "fr":  # contractions and elisions done
        bad = re.compile(r"\b(de le|de les|à le|à les)\b|\b(de|que|le|la|je) [aeiouéèàâ]", re.IGNORECASE)
        assert not [t for t in texts if bad.search(t)]


def test_meetings_without_items_still_say_the_words_that_fool_a_cue_ranker(plans: dict[str, dict]) -> None:
    for name, cues in (
        ("en_review_15", ("decid", "will", "final", "let's")),
        ("fr_bilan_12", ("décid", "va", "final")),
    ):
        truth = plans[name]
        assert truth["items"] == []
        said = " ".join(s["text"] for s in truth["sentences"]).casefold()
        for cue in cues:
            assert cue in said, (name, cue)


def test_script_transcript_is_the_script_word_for_word(plans: dict[str, dict]) -> None:
    truth = plans["fr_point_5"]
    transcript = meetings.script_transcript(truth)
    assert transcript.language == "fr"
    assert transcript.speakers == ["S1", "S2"]
    assert [s.text for s in transcript.segments] == [s["text"] for s in truth["sentences"]]
    for segment, sentence in zip(transcript.segments, truth["sentences"], strict=True):
        assert segment.speaker == sentence["speaker"]
        assert "".join(w.text for w in segment.words).strip() == sentence["text"]
        assert segment.words[0].start == sentence["start"]
        assert abs(segment.words[-1].end - sentence["end"]) < 1e-6


def test_keys_belong_to_one_item_only() -> None:
    for phrases in meetings.PHRASES.values():
        keys = [k.casefold() for c in (*phrases.decisions, *phrases.tasks) for k in c.keys]
        assert len(keys) == len(set(keys))
