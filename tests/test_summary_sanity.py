"""The sanity rules (services/summarize/sanity.py) on every summary: the generated meetings' scripts
(bench/meetings.py, extractive and the real SmolLM2 server, the weakest model there is), the rules
and the guard themselves on the faults a small model makes, and (slow, when ../shared/realspeech is
present) every real recording through the real pipeline with the offline default model.

Decisions and actions are also scored against what the scripts say was decided (bench/summary_eval):
a meeting with none gets none, and what is found is what was said.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("litellm", reason="the summarize extra is not installed")

from bench.meetings import MEETINGS, plan, script_transcript
from bench.summary_eval import score
from contracts.artifacts import ActionItem, Chapter, Decision, Segment, SpeakerNote, Summary, Transcript
from services.summarize.config import SummarizeSettings
from services.summarize.extractive import summarize_extractive
from services.summarize.guard import guard
from services.summarize.handler import SummarizeHandler
from services.summarize.llm_server import LlamaServer
from services.summarize.sanity import check
from services.summarize.words import content_words, real_owner
from tests.test_summarize import smollm2  # noqa: F401  (the real SmolLM2 server, one per module)

REALSPEECH = Path(__file__).resolve().parents[2] / "shared" / "realspeech"


def scored(name: str, summary: Summary) -> dict[str, Any]:
    truth = plan(MEETINGS[name])
    return score(summary, truth, script_transcript(truth))


def assert_found_what_was_said(name: str, summary: Summary, least_recall: float) -> None:
    truth = plan(MEETINGS[name])
    result = score(summary, truth, script_transcript(truth))
    for kind in ("decisions", "actions"):
        counts = result[kind]
        assert counts["precision"] == 1.0, (kind, result["unmatched"])  # nothing invented
        assert counts["recall"] >= least_recall, (kind, result["missed"])
    if not truth["items"]:
        assert not summary.decisions and not summary.action_items


# --- the generated meetings, extractive ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MEETINGS))
async def test_extractive_summary_of_every_generated_meeting_is_sane(name: str) -> None:
    transcript = script_transcript(plan(MEETINGS[name]))
    summary = await SummarizeHandler(SummarizeSettings()).summarize(transcript, "extractive")
    assert check(summary, transcript) == []
    assert summary.language == MEETINGS[name].language
    assert_found_what_was_said(name, summary, least_recall=0.75)


async def test_owners_and_due_dates_of_the_extractive_actions_are_the_ones_said() -> None:
    transcript = script_transcript(plan(MEETINGS["en_planning_30"]))
    summary = await SummarizeHandler(SummarizeSettings()).summarize(transcript, "extractive")
    result = scored("en_planning_30", summary)
    owner, due = result["owner"], result["due"]
    assert owner["of"] and owner["right"] >= 0.85 * owner["of"], result["matches"]
    assert due["of"] and due["right"] >= 0.85 * due["of"], result["matches"]


# --- the rules, and the guard that keeps them -----------------------------------------------------


def radio() -> Transcript:
    """A French news excerpt: names and topics, nothing decided, nobody given a task."""
    said = [
        "Nous sommes en direct, c'est l'actualité de ce mardi.",
        "Le débat sur les retraites continue entre les syndicats et le gouvernement.",
        "Réponse de Nicolas et de Robert ce soir sur notre antenne.",
        "Et puis c'est aussi aujourd'hui un dernier adieu au coureur cycliste.",
    ]
    segments = [Segment(i * 8.0, i * 8.0 + 7.0, "SPEAKER_1", text, []) for i, text in enumerate(said)]
    return Transcript("fr", 32.0, ["SPEAKER_1"], segments, {})


def broken_summary() -> Summary:
    """What a 1.5B model wrote of such an excerpt (the issue's example, and its cousins)."""
    return Summary(
        method="llm",
        model="local/test",
        language="fr",
        title="Résumé : c'est, qu'on, retraites",
        overview="Le débat sur les retraites continue entre les syndicats et le gouvernement.",
        key_points=[
            "Décision : Réponse de Nicolas et de Robert ce soir",
            "A: Réponse de Nicolas et de Robert ce soir",
            "Le débat sur les retraites continue.",
        ],
        decisions=[Decision(text="Réponse de Nicolas et de Robert", at_s=17.0)],
        action_items=[ActionItem(text="Répondre ce soir", owner="Et puis il", at_s=17.0)],
        chapters=[Chapter(title="aujourd'hui, c'est", start_s=0.0)],
        speakers=[SpeakerNote(speaker="SPEAKER_1", contribution="surtout sur c'est, l'autre, retraites")],
    )


def test_every_rule_catches_what_a_small_model_writes() -> None:
    rules = sorted({v.rule for v in check(broken_summary(), radio())})
    assert rules == ["duplicate", "keyword", "labelled", "owner", "ungrounded"]
    english = Summary(
        method="llm",
        model="local/test",
        language="fr",
        overview="The debate on pensions goes on between the unions and the government, and it is live. "
        "It was the news of the day, with the death of a cyclist.",
    )
    assert [v.rule for v in check(english, radio())] == ["language"]
    claims = Summary(
        method="llm",
        model="local/test",
        language="fr",
        overview="Le débat sur les retraites continue. La décision est de répondre ce soir.",
        speakers=[SpeakerNote(speaker="SPEAKER_1", contribution="surtout sur")],
    )
    assert sorted(v.rule for v in check(claims, radio())) == ["invented", "keyword"]


def test_the_guard_takes_out_structure_the_recording_does_not_have() -> None:
    transcript = radio()
    claims = Summary(
        method="llm",
        model="local/test",
        language="fr",
        title="Compte rendu de réunion",
        overview="Le débat sur les retraites continue. La décision est de répondre ce soir.",
        key_points=["Nous sommes en direct, c'est l'actualité de ce mardi."],
        speakers=[SpeakerNote(speaker="SPEAKER_1", contribution="Réponse de Nicolas et de Robert ce soir.")],
    )
    kept = guard(claims, transcript, summarize_extractive(transcript))
    assert check(kept, transcript) == []
    assert kept.overview == "Le débat sur les retraites continue."
    assert kept.title.startswith("Résumé :") and kept.made_by["title"] == "keywords"  # said nothing said
    assert kept.speakers[0].contribution.startswith("surtout sur")  # a copied sentence says nothing of them


def test_the_guard_keeps_the_rules_and_says_what_it_left_out() -> None:
    transcript = radio()
    kept = guard(broken_summary(), transcript, summarize_extractive(transcript))
    assert check(kept, transcript) == []
    assert not kept.decisions and not kept.action_items  # the excerpt decides nothing
    assert kept.key_points == [
        "Réponse de Nicolas et de Robert ce soir",
        "Le débat sur les retraites continue.",
    ]
    assert kept.title == "Résumé : retraites"
    assert kept.speakers[0].contribution == "surtout sur retraites"
    assert kept.note and "décision" in kept.note and "Écarté" in kept.note


def test_elided_function_words_carry_no_content() -> None:
    assert content_words("c'est qu'on l'autre d'assumer aujourd'hui", "fr") == ["assumer"]
    assert content_words("It's the budget, isn't it? We'll see.", "en") == ["budget"]


def test_an_owner_names_someone() -> None:
    assert [real_owner(n) for n in ("And still he", "So maybe we", "Et puis il", "I", "on")] == [None] * 5
    assert real_owner("the platform team") == "the platform team"
    assert real_owner("l'équipe produit") == "l'équipe produit" and real_owner("Maria") == "Maria"


# --- the weakest model: the guard still holds ----------------------------------------------------


@pytest.mark.parametrize("name", ["en_standup_5", "fr_point_5"])
async def test_a_135m_model_cannot_break_the_rules(smollm2: LlamaServer, name: str) -> None:  # noqa: F811
    settings = SummarizeSettings(
        model="local/smollm2-135m", local_server_url=smollm2.address, max_output_tokens=500, temperature=0.0
    )
    transcript = script_transcript(plan(MEETINGS[name]))
    summary = await SummarizeHandler(settings).summarize(transcript)
    assert check(summary, transcript) == [], summary
    if summary.method == "llm":  # items are the ranker's, worded by the model: still only what was said
        assert_found_what_was_said(name, summary, least_recall=0.5)


# --- real speech, through the real pipeline (slow; skipped without the folder) ---------------------


def real_recordings() -> list[Path]:
    if not (REALSPEECH / "MANIFEST.md").exists():
        return []
    folders = ("ami-clips", "sppas-fr", "fr-misc", "en-misc")
    return sorted(p for f in folders for p in (REALSPEECH / f).glob("*") if p.suffix in (".wav", ".mp3"))


@pytest.fixture(scope="module")
def real_summaries() -> Iterator[dict[str, tuple[Transcript, Summary]]]:
    if not real_recordings():
        pytest.skip(f"no real-speech folder at {REALSPEECH}")
    import httpx

    from bench.realspeech import wait_ended
    from cli.stack import LocalStack
    from contracts.artifacts import decode_summary as summary_from_json
    from contracts.artifacts import decode_transcript as from_json

    found: dict[str, tuple[Transcript, Summary]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="aodio-sanity-") as data,
        LocalStack(Path(data), api_port=0) as stack,
        httpx.Client(base_url=stack.api_url, timeout=120) as client,
    ):
        jobs = {}
        for path in real_recordings():
            with path.open("rb") as handle:
                reply = client.post("/v1/jobs", files={"file": (path.name, handle)}, data={"options": "{}"})
            jobs[reply.json()["job_id"]] = path
        for job_id, job in wait_ended(client, list(jobs)).items():
            assert job["status"] == "completed", job
            transcript = from_json(client.get(f"/v1/jobs/{job_id}/transcript").content)
            summary = summary_from_json(client.get(f"/v1/jobs/{job_id}/summary").content)
            found[str(jobs[job_id].relative_to(REALSPEECH))] = (transcript, summary)
    yield found


@pytest.mark.slow
def test_every_real_recording_gets_a_sane_summary(
    real_summaries: dict[str, tuple[Transcript, Summary]],
) -> None:
    broken = {
        name: [str(v) for v in check(summary, transcript)]
        for name, (transcript, summary) in real_summaries.items()
    }
    assert {name: v for name, v in broken.items() if v} == {}, json.dumps(broken, ensure_ascii=False)
    radio_summary = real_summaries["fr-misc/radio_short.mp3"][1]
    assert radio_summary.language == "fr" and not radio_summary.decisions


def test_a_salient_wording_that_drops_the_named_owner_gives_way_to_the_sentence() -> None:
    from services.summarize.passages import Sentence
    from services.summarize.salient import SalientDraft, _text

    said = "The platform team will update the onboarding survey by the end of the month."
    sentence = Sentence(
        0, 975.0, 980.0, "SPEAKER_01", said, frozenset({"platform", "team", "onboarding", "survey"}),
        kind="action", owner="The platform team", due="by the end of the month",
    )  # fmt: skip
    swapped = SalientDraft(
        title="t", overview="o", items={"A1": "The QA group will update the onboarding survey."}
    )
    kept = SalientDraft(
        title="t", overview="o", items={"A1": "The platform team updates the onboarding survey."}
    )
    elsewhere = SalientDraft(title="t", overview="o", items={"A1": "Priya reviews the budget."})
    assert _text(swapped, "A1", sentence) == said
    assert _text(kept, "A1", sentence) == "The platform team updates the onboarding survey."
    assert _text(elsewhere, "A1", sentence) == said  # about something else: the sentence
    label = Sentence(
        1, 0.0, 1.0, "SPEAKER_02", "I will send the report.", frozenset({"report"}), owner="SPEAKER_02"
    )
    mine = SalientDraft(title="t", overview="o", items={"A1": "Send the report."})
    assert _text(mine, "A1", label) == "Send the report."  # a label the sentence does not say: no check
