"""The generated meetings (bench/meetings.py), main and held-out: deterministic scripts whose truth agrees
with what is said."""

from __future__ import annotations

import dataclasses
import itertools
import re

import msgspec
import pytest

from bench import meetings
from bench.summary_eval import _judged, coverage, due_right, pooled, rates, score, speaker_labels, tokens
from contracts.artifacts import ActionItem, Decision, Summary

SPECS = [spec for specs in meetings.SETS.values() for spec in specs.values()]
BANKS = [(name, language, bank) for name, banks in meetings.BANKS.items() for language, bank in banks.items()]


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
    held_out = {
        name: (s.language, s.minutes, len(s.participants), s.n_decisions, s.n_actions, s.phrases)
        for name, s in meetings.HELDOUT.items()
    }
    assert held_out == {
        "en_heldout_20": ("en", 20, 3, 4, 6, "heldout"),
        "fr_heldout_20": ("fr", 20, 3, 3, 5, "heldout"),
        "en_heldout_none_10": ("en", 10, 2, 0, 0, "heldout"),
        "fr_heldout_none_8": ("fr", 8, 2, 0, 0, "heldout"),
    }
    assert {s.phrases for s in meetings.MEETINGS.values()} == {"main"}
    main_people = {name for s in meetings.MEETINGS.values() for name, _ in s.participants}
    assert not main_people & {name for s in meetings.HELDOUT.values() for name, _ in s.participants}
    assert meetings.SETS == {"main": meetings.MEETINGS, "heldout": meetings.HELDOUT}
    for spec in SPECS:  # every participant has a voice of their own
        assert len({voice for _, voice in spec.participants}) == len(spec.participants)


def test_the_main_meetings_keep_their_scripts_and_audio() -> None:
    """The held-out set and the phrases field changed nothing the main meetings say (nor their cache key)."""
    hashes = {name: meetings.plan(spec)["spec_hash"] for name, spec in meetings.MEETINGS.items()}
    assert hashes == {
        "en_standup_5": "a137939341876808",
        "en_review_15": "cf3843b15c0433f6",
        "en_planning_30": "c0cf3ad8d7081877",
        "en_allhands_60": "e23a154273bb09bd",
        "fr_point_5": "0fb10a118b1b758c",
        "fr_bilan_12": "4b0165ff531ad0f8",
        "fr_comite_30": "d2c790ce1a2135ac",
    }


def test_the_held_out_banks_say_things_the_main_banks_never_do() -> None:
    """No exchange line (short replies aside), due date or item of a held-out bank is a main one."""

    def lines(templates: tuple[tuple[str, ...], ...]) -> set[str]:
        return {line[2:] for template in templates for line in template if len(line.split()) >= 3}

    for language in ("en", "fr"):
        main, held_out = meetings.BANKS["main"][language], meetings.BANKS["heldout"][language]
        for field in ("decided", "negatives", "status", "openings", "closings"):
            assert not lines(getattr(main, field)) & lines(getattr(held_out, field)), field
        assert not lines(tuple(t for _, t in main.assigned)) & lines(tuple(t for _, t in held_out.assigned))
        assert not set(main.dues) & set(held_out.dues)
        assert not {c.clause for c in main.decisions} & {c.clause for c in held_out.decisions}
        assert not {t.clause for t in main.tasks} & {t.clause for t in held_out.tasks}


@pytest.mark.parametrize("name", ["en_planning_30", "en_heldout_20", "fr_heldout_none_8"])
def test_plan_is_deterministic_and_the_seed_and_the_bank_matter(name: str) -> None:
    spec = {**meetings.MEETINGS, **meetings.HELDOUT}[name]
    assert meetings.plan(spec) == meetings.plan(spec)
    for other_spec in (
        dataclasses.replace(spec, seed=spec.seed + 1),
        dataclasses.replace(spec, phrases="main" if spec.phrases == "heldout" else "heldout"),
    ):
        other = meetings.plan(other_spec)
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
        (
            "en_heldout_none_10",
            ("decided", "we'll", "let's", "i'll", "agreed", "let me", "tomorrow", "in charge"),
        ),
        (
            "fr_heldout_none_8",
            ("décid", "on va", "je vais", "d'accord", "allez", "demain", "s'occupe", "je me charge"),
        ),
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


@pytest.mark.parametrize(("name", "language", "phrases"), BANKS, ids=[f"{n}-{lang}" for n, lang, _ in BANKS])
def test_keys_belong_to_one_item_only(name: str, language: str, phrases: meetings.Phrases) -> None:
    cores = (*phrases.decisions, *phrases.tasks)
    keys = [k.casefold() for c in cores for k in c.keys]
    assert len(keys) == len(set(keys))
    for core in cores:  # nor does another item's clause (or, for a task, the clause done) say one of them
        for other in cores:
            if other is not core:
                assert coverage(core.keys, other.clause) == 0, (core, other)
                assert coverage(core.keys, getattr(other, "done", "")) == 0, (core, other)


# --- the scorer (bench/summary_eval.py) on summaries made by hand -----------------------------------


def _perfect(truth: dict, **changes: object) -> Summary:
    """The summary a reader of the script would write: every item, its owner and due date, when said."""
    items = truth["items"]
    decisions = [Decision(text=i["text"], at_s=i["start"]) for i in items if i["kind"] == "decision"]
    actions = [
        ActionItem(text=i["text"], owner=i["owner"], due=i["due"], at_s=i["start"])
        for i in items
        if i["kind"] == "action"
    ]
    fields: dict = {"decisions": decisions, "action_items": actions, **changes}
    return Summary(method="extractive", model=None, language=truth["language"], **fields)


@pytest.mark.parametrize("name", ["en_planning_30", "fr_comite_30", "en_review_15"])
def test_a_perfect_summary_scores_one(name: str, plans: dict[str, dict]) -> None:
    truth = plans[name]
    scores = score(_perfect(truth), truth, meetings.script_transcript(truth))
    for kind in ("decisions", "actions"):
        assert scores[kind]["precision"] == scores[kind]["recall"] == scores[kind]["f1"] == 1.0
        assert scores[kind]["matched"] == scores[kind]["truth"] == scores[kind]["predicted"]
    assert scores["owner"]["right"] == scores["owner"]["of"] == sum(1 for i in truth["items"] if i["owner"])
    assert scores["due"]["right"] == scores["due"]["of"] == sum(1 for i in truth["items"] if i["due"])
    assert scores["unmatched"] == scores["missed"] == []
    assert scores["invented"] == (0 if not truth["items"] else None)


def test_an_invented_decision_costs_precision_and_is_listed(plans: dict[str, dict]) -> None:
    truth = plans["en_standup_5"]
    perfect = _perfect(truth)
    invented = Decision(text="We will open a shop on the moon.", at_s=100.0)
    scores = score(_perfect(truth, decisions=[*perfect.decisions, invented]), truth)
    assert scores["decisions"]["predicted"] == 3 and scores["decisions"]["matched"] == 2
    assert scores["decisions"]["precision"] == round(2 / 3, 3) and scores["decisions"]["recall"] == 1.0
    assert [u["text"] for u in scores["unmatched"]] == [invented.text]


def test_a_missed_item_costs_recall_and_is_listed(plans: dict[str, dict]) -> None:
    truth = plans["en_standup_5"]
    perfect = _perfect(truth)
    scores = score(_perfect(truth, action_items=perfect.action_items[1:]), truth)
    assert scores["actions"] == {
        "predicted": 2, "truth": 3, "matched": 2, "precision": 1.0, "recall": 0.667, "f1": 0.8,
    }  # fmt: skip
    assert [m["text"] for m in scores["missed"]] == [perfect.action_items[0].text]


def test_a_wrong_owner_and_a_wrong_due_date_are_counted(plans: dict[str, dict]) -> None:
    truth = plans["en_standup_5"]
    actions = _perfect(truth).action_items
    someone_else = next(n for n in truth["speakers"].values() if n != actions[0].owner)
    wrong = [
        msgspec.structs.replace(actions[0], owner=someone_else),
        msgspec.structs.replace(actions[1], due=None),
        *actions[2:],
    ]
    scores = score(_perfect(truth, action_items=wrong), truth)
    assert scores["actions"]["matched"] == 3
    assert scores["owner"] == {"right": 2, "of": 3}
    assert scores["due"]["right"] == scores["due"]["of"] - 1


def test_owner_by_name_article_or_speaker_label() -> None:
    item = {"owner": "quality team", "owner_speaker": None, "due": None}
    truth = {"speakers": {"S1": "David"}, "sentences": [], "items": []}
    labels = speaker_labels(truth, None)
    assert _owner_ok("The Quality Team", item, labels)
    assert not _owner_ok("design team", item, labels)
    assert _owner_ok("The legal team", {**item, "owner": "legal team"}, labels)  # "le" is not an article here
    assert _owner_ok("Le service juridique", {**item, "owner": "service juridique"}, labels)
    assert _owner_ok("L'Équipe qualité", {**item, "owner": "équipe qualité"}, labels)
    assert not _owner_ok(None, item, labels)
    person = {"owner": "Julien", "owner_speaker": "S1", "due": None}
    assert _owner_ok("julien", person, {"S1": "SPEAKER_2"})
    assert _owner_ok("SPEAKER_2", person, {"S1": "SPEAKER_2"})
    assert not _owner_ok("SPEAKER_1", person, {"S1": "SPEAKER_2"})


def _owner_ok(said: str | None, item: dict, labels: dict[str, str]) -> bool:
    full = {"kind": "action", "text": "", "keys": [], "start": 0.0, "end": 1.0, **item}
    return bool(_judged("action", {"text": "", "owner": said}, full, 1.0, labels)["owner_right"])


def test_owner_right_through_the_diarization_labels(plans: dict[str, dict]) -> None:
    """Audio transcripts say SPEAKER_n, not names: the label that spoke the owner's lines is right."""
    truth = plans["fr_comite_30"]
    script = meetings.script_transcript(truth)
    ids = list(truth["speakers"])
    relabel = {s: f"SPEAKER_{len(ids) - i}" for i, s in enumerate(ids)}  # S1 -> SPEAKER_3 ...
    segments = [msgspec.structs.replace(s, speaker=relabel[s.speaker or ""]) for s in script.segments]
    transcript = msgspec.structs.replace(script, segments=segments, speakers=sorted(relabel.values()))
    assert speaker_labels(truth, transcript) == relabel
    owned = [i for i in truth["items"] if i["kind"] == "action" and i["owner_speaker"]]
    assert len(owned) >= 2
    labelled = [
        ActionItem(text=i["text"], owner=relabel[i["owner_speaker"]], due=i["due"], at_s=i["start"])
        for i in owned
    ]
    scores = score(_perfect(truth, action_items=labelled), truth, transcript)
    assert scores["owner"] == {"right": len(owned), "of": len(owned)}
    wrong = {label: relabel[ids[(ids.index(s) + 1) % len(ids)]] for s, label in relabel.items()}
    swapped = [msgspec.structs.replace(a, owner=wrong[a.owner or ""]) for a in labelled]
    assert score(_perfect(truth, action_items=swapped), truth, transcript)["owner"]["right"] == 0


def test_due_words_all_needed() -> None:
    assert due_right("next Tuesday", "before next Tuesday")
    assert not due_right("Tuesday", "before next Tuesday")
    assert due_right("Friday", "by Friday")
    assert due_right("fin du mois", "d'ici la fin du mois")
    assert not due_right(None, "demain")


def test_matching_needs_half_the_keys_and_the_right_time(plans: dict[str, dict]) -> None:
    truth = plans["en_standup_5"]
    item = next(i for i in truth["items"] if i["kind"] == "decision")
    one_key = f"The team talked about the {item['keys'][0]}."
    for text, at_s, matched in (
        (one_key, item["start"], 1),  # half of two keys
        ("Something else entirely.", item["start"], 0),
        (item["text"], item["end"] + 31, 0),  # said elsewhere
        (item["text"], item["start"] - 29, 1),
        (item["text"], None, 1),  # no time given: the text decides
    ):
        scores = score(_perfect(truth, decisions=[Decision(text=text, at_s=at_s)]), truth)
        assert scores["decisions"]["matched"] == matched, (text, at_s)


def test_one_prediction_per_truth_item(plans: dict[str, dict]) -> None:
    truth = plans["en_standup_5"]
    first = _perfect(truth).decisions[0]
    scores = score(_perfect(truth, decisions=[first, first]), truth)
    assert scores["decisions"]["matched"] == 1 and scores["decisions"]["predicted"] == 2
    assert len(scores["unmatched"]) == 1


def test_a_meeting_with_none_and_a_summary_with_none_is_right(plans: dict[str, dict]) -> None:
    truth = plans["fr_bilan_12"]
    empty = Summary(method="extractive", model=None, language="fr")
    scores = score(empty, truth)
    assert scores["decisions"]["precision"] == scores["decisions"]["recall"] == 1.0
    assert scores["actions"]["precision"] == scores["actions"]["recall"] == 1.0
    assert scores["invented"] == 0
    fooled = Decision(text="On pourrait reporter le lancement du produit à mars.", at_s=60.0)
    scores = score(msgspec.structs.replace(empty, decisions=[fooled]), truth)
    assert scores["invented"] == 1 and scores["decisions"]["precision"] == 0.0
    assert scores["decisions"]["recall"] == 1.0


def test_tokens_fold_case_accents_elisions_and_plurals() -> None:
    assert tokens("L'Équipe a vérifié les journaux d'erreurs") == [
        "equipe", "a", "verifie", "les", "journal", "erreur",
    ]  # fmt: skip
    assert tokens("The laptops\u2019 order") == ["the", "laptop", "order"]
    assert coverage(["journaux", "erreurs"], "le journal des erreurs") == 1.0
    assert coverage(["launch", "march"], "the launch moves") == 0.5


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_no_other_sentence_could_pass_for_an_item(spec: meetings.MeetingSpec, plans: dict[str, dict]) -> None:
    """Away from its own exchange, no sentence of the meeting mentions half an item's keys."""
    truth = plans[spec.name]
    for item in truth["items"]:
        for sentence in truth["sentences"]:
            if item["start"] - 60 <= sentence["start"] <= item["end"] + 60:
                continue
            assert coverage(item["keys"], sentence["text"]) < 0.5, (item["text"], sentence["text"])


def test_pooled_sums_counts_before_rates() -> None:
    def row(language: str, matched: int, predicted: int, truth: int) -> dict:
        counts = rates(predicted, truth, matched)
        scores = {"decisions": counts, "actions": rates(0, 0, 0), "owner": {"right": 0, "of": 0},
                  "due": {"right": 0, "of": 0}, "invented": None, "violations": []}  # fmt: skip
        return {"language": language, "scores": scores}

    pooled_rows = pooled([row("en", 1, 1, 4), row("en", 3, 6, 4), row("fr", 0, 0, 0)])
    assert pooled_rows["en"]["decisions"]["precision"] == round(4 / 7, 3)
    assert pooled_rows["en"]["decisions"]["recall"] == 0.5
    assert pooled_rows["fr"]["decisions"]["precision"] == 1.0
