"""Editing a transcript against the real stack: a generated two-voice recording through every stage
(tiny.en, extractive summary), then edits over HTTP reaching every export, 409s, undo, renames,
an interrupted edit repaired, and replays that use the edits or set them aside."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stack import LocalStack
from contracts.state import JobState
from exports import formats
from runtime.bus import connect
from runtime.jobs import JobStore
from runtime.settings import NatsSettings
from services.ingest.auth import new_key

pytest.importorskip("faster_whisper")
RECORDING = (
    Path(__file__).parent / "fixtures" / "audio" / "en_two_voices.mp3"
)  # made by scripts/make_fixtures.py
SENTENCE = Path(__file__).parent / "fixtures" / "audio" / "en_short.wav"
JOB_TIMEOUT_S = 400


@dataclass
class Stack:
    url: str
    nats: NatsSettings
    alice: str
    bob: str

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {key}"}, timeout=60)


@pytest.fixture(scope="module")
def stack(nats_server, tmp_path_factory) -> Iterator[Stack]:
    alice, alice_entry = new_key("alice")
    bob, bob_entry = new_key("bob")
    namespace = "t" + uuid.uuid4().hex[:10]
    env = {
        "AODIO_NATS_NAMESPACE": namespace,
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_METHOD": "extractive",
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: the stack starts no llama.cpp server
        "AODIO_INGEST_API_KEYS": f"{alice_entry},{bob_entry}",
    }
    with LocalStack(
        tmp_path_factory.mktemp("edits"),
        api_port=0,
        nats_url=nats_server.url,
        extra_env=env,
        replicas={"transcribe": 1},
    ) as running:
        yield Stack(running.api_url, NatsSettings(url=nats_server.url, namespace=namespace), alice, bob)


def wait_finished(client: httpx.Client, job_id: str, generation: int = 1) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["generation"] == generation and job["status"] in ("completed", "failed"):
            assert job["status"] == "completed", job
            return job  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} generation {generation} did not finish: {job}")


def submit(client: httpx.Client, recording: Path) -> str:
    reply = client.post("/v1/jobs", files={"file": (recording.name, recording.read_bytes())})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


@pytest.fixture(scope="module")
def jobs_done(stack: Stack) -> dict[str, str]:
    """Two finished jobs of alice's: one to edit, one to replay (submitted together, run side by side)."""
    with stack.client(stack.alice) as alice:
        ids = {"edit": submit(alice, RECORDING), "replay": submit(alice, SENTENCE)}
        for job_id in ids.values():
            wait_finished(alice, job_id)
    return ids


def transcript(client: httpx.Client, job_id: str) -> dict[str, Any]:
    reply = client.get(f"/v1/jobs/{job_id}/transcript")
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def revision_of(t: dict[str, Any]) -> int:
    """The revision a transcript is at: in what made it (0, absent, as assemble wrote it)."""
    return int(t["model"].get("revision", 0))


def patch(client: httpx.Client, job_id: str, revision: int, **edit: Any) -> httpx.Response:
    return client.patch(f"/v1/jobs/{job_id}/segments", json={"revision": revision, "edits": [edit]})


def edited(client: httpx.Client, job_id: str, revision: int, **edit: Any) -> dict[str, Any]:
    reply = patch(client, job_id, revision, **edit)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["revision"] == revision + 1 == revision_of(body["transcript"])
    return body  # type: ignore[no-any-return]


def every_export(client: httpx.Client, job_id: str) -> dict[str, str]:
    """Each export as text: every format from the route, every stored one, the partial view, the docx."""
    base = f"/v1/jobs/{job_id}"
    texts = {
        f"route {fmt}": client.get(f"{base}/transcript", params={"format": fmt}).text
        for fmt in formats.TRANSCRIPT_FORMATS
    }
    outputs = client.get(base).json()["outputs"]
    for name in outputs:
        if name.startswith("transcript_") and name.removeprefix("transcript_") in formats.TRANSCRIPT_FORMATS:
            texts[f"stored {name}"] = client.get(f"{base}/outputs/{name}").text
    texts["partial"] = client.get(f"{base}/partial-transcript").json()["text"]
    for fmt in getattr(formats, "DOCUMENT_FORMATS", {}):
        document = client.get(f"{base}/document", params={"format": fmt})
        assert document.status_code == 200, document.text
        with zipfile.ZipFile(io.BytesIO(document.content)) as docx:
            texts[f"document {fmt}"] = docx.read("word/document.xml").decode()
    assert len(texts) >= 2 * len(formats.TRANSCRIPT_FORMATS) + 1, texts.keys()
    return texts


def test_an_edit_reaches_every_export_and_a_stale_revision_is_409(stack: Stack, jobs_done) -> None:
    job_id = jobs_done["edit"]
    with stack.client(stack.alice) as alice:
        before = transcript(alice, job_id)
        revision = revision_of(before)
        body = edited(
            alice, job_id, revision, op="text", segment=0, text="Quixotic zebras organise the release."
        )
        assert body["transcript"]["segments"][0]["text"] == "Quixotic zebras organise the release."
        assert body["transcript"]["segments"][1:] == before["segments"][1:]
        for where, text in every_export(alice, job_id).items():
            assert "Quixotic zebras" in text, where
        assert alice.get(f"/v1/jobs/{job_id}").json()["transcript_revision"] == revision + 1

        stale = patch(alice, job_id, revision, op="text", segment=1, text="Lost edit.")
        assert stale.status_code == 409 and stale.json()["revision"] == revision + 1
        assert "revision" in stale.json()["detail"]
        assert "Lost edit" not in alice.get(f"/v1/jobs/{job_id}/transcript", params={"format": "txt"}).text

        log = alice.get(f"/v1/jobs/{job_id}/revisions").json()
        assert log["revision"] == revision + 1 and log["note"] is None
        assert log["revisions"][-1] | {"at": 0} == {
            "number": revision + 1,
            "author": "alice",
            "at": 0,
            "action": "text",
            "detail": "segment 1: text",
            "undone": False,
            "undoes": None,
        }
    with stack.client(stack.bob) as bob:  # another key's job is not there at all
        assert patch(bob, job_id, revision + 1, op="merge", segment=0).status_code == 404
        assert bob.get(f"/v1/jobs/{job_id}/revisions").status_code == 404
        assert (
            bob.post(f"/v1/jobs/{job_id}/revisions/undo", json={"revision": revision + 1}).status_code == 404
        )


def test_split_speaker_merge_then_undo_each(stack: Stack, jobs_done) -> None:
    job_id = jobs_done["edit"]
    with stack.client(stack.alice) as alice:
        start = transcript(alice, job_id)
        r = revision_of(start)
        first = start["segments"][0]
        assert len(first["words"]) >= 3, first

        split = edited(alice, job_id, r, op="split", segment=0, word=2)["transcript"]
        assert len(split["segments"]) == len(start["segments"]) + 1
        assert split["segments"][0]["words"] == first["words"][:2]
        assert split["segments"][1]["words"] == first["words"][2:]

        moved = edited(alice, job_id, r + 1, op="speaker", segment=1, speaker="new")["transcript"]
        new_label = moved["segments"][1]["speaker"]
        assert new_label not in start["speakers"] and new_label in moved["speakers"]
        assert {w["speaker"] for w in moved["segments"][1]["words"]} == {new_label}
        assert f"{new_label}:" in alice.get(f"/v1/jobs/{job_id}/transcript", params={"format": "srt"}).text

        merged = edited(alice, job_id, r + 2, op="merge", segment=0)["transcript"]
        assert merged["segments"][0]["words"] == [
            {**w, "speaker": first["speaker"]} for w in first["words"]
        ]  # the first segment's speaker, each word's own timing
        assert new_label not in merged["speakers"]

        word = edited(alice, job_id, r + 3, op="word", segment=0, word=0, text="Howdy")["transcript"]
        assert word["segments"][0]["words"][0]["text"].strip() == "Howdy"
        assert word["segments"][0]["words"][0]["probability"] == 1.0

        for number in range(r + 4, r + 8):  # undo the word, the merge, the speaker, the split
            reply = alice.post(f"/v1/jobs/{job_id}/revisions/undo", json={"revision": number})
            assert reply.status_code == 200, reply.text
        back = transcript(alice, job_id)
        assert back["segments"] == start["segments"] and back["speakers"] == start["speakers"]
        assert revision_of(back) == r + 8
        log = alice.get(f"/v1/jobs/{job_id}/revisions").json()["revisions"]
        assert [e["undoes"] for e in log[-4:]] == [r + 4, r + 3, r + 2, r + 1]
        assert all(e["undone"] for e in log if r < e["number"] <= r + 4)
        stale = alice.post(f"/v1/jobs/{job_id}/revisions/undo", json={"revision": r})
        assert stale.status_code == 409 and stale.json()["revision"] == r + 8


def test_bad_edits_are_422_and_change_nothing(stack: Stack, jobs_done) -> None:
    job_id = jobs_done["edit"]
    with stack.client(stack.alice) as alice:
        t = transcript(alice, job_id)
        r = revision_of(t)
        last = len(t["segments"]) - 1
        for edit, says in (
            ({"op": "merge", "segment": last}, "last one"),
            ({"op": "text", "segment": last + 5, "text": "x"}, "no segment"),
            ({"op": "text", "segment": 0, "text": "   "}, "empty"),
            ({"op": "text", "segment": 0}, "needs 'text'"),
            ({"op": "split", "segment": 0, "word": 0}, "before word"),
            ({"op": "speaker", "segment": 0, "speaker": "SPEAKER_99"}, "no speaker"),
            ({"op": "shout", "segment": 0}, "not valid"),
        ):
            reply = patch(alice, job_id, r, **edit)
            assert reply.status_code == 422 and says in reply.json()["detail"], (edit, reply.text)
        two = alice.patch(
            f"/v1/jobs/{job_id}/segments",
            json={"revision": r, "edits": [{"op": "merge", "segment": 0}, {"op": "merge", "segment": 1}]},
        )
        assert two.status_code == 422
        assert transcript(alice, job_id) == t
        assert alice.get(f"/v1/jobs/{job_id}").json()["transcript_revision"] == r


def test_a_rename_and_edits_go_together(stack: Stack, jobs_done) -> None:
    job_id = jobs_done["edit"]
    with stack.client(stack.alice) as alice:
        t = transcript(alice, job_id)
        if len(t["speakers"]) < 2:  # diarization heard one voice: a person says the last passage is another's
            edited(alice, job_id, revision_of(t), op="speaker", segment=len(t["segments"]) - 1, speaker="new")
            t = transcript(alice, job_id)
        labels = list(t["speakers"])
        assert len(labels) >= 2, labels
        assert alice.put(f"/v1/jobs/{job_id}/speakers", json={labels[0]: "Alice Martin"}).status_code == 200
        t = transcript(alice, job_id)
        named = next(i for i, s in enumerate(t["segments"]) if s["speaker"] == "Alice Martin")
        other = next(i for i, s in enumerate(t["segments"]) if s["speaker"] != "Alice Martin")
        body = edited(
            alice, job_id, revision_of(t), op="text", segment=named, text="Alice speaks of pelicans."
        )
        assert body["transcript"]["segments"][named]["speaker"] == "Alice Martin"
        # a speaker can be given by the name the job knows it by
        body = edited(alice, job_id, body["revision"], op="speaker", segment=other, speaker="Alice Martin")
        assert body["transcript"]["segments"][other]["speaker"] == "Alice Martin"
        srt = alice.get(f"/v1/jobs/{job_id}/outputs/transcript_srt").text
        assert "Alice Martin: Alice speaks of pelicans." in srt
        # renaming again keeps the edits: the names apply to the edited, labelled transcript
        assert alice.put(f"/v1/jobs/{job_id}/speakers", json={labels[0]: "Alicia"}).status_code == 200
        for where, text in every_export(alice, job_id).items():
            assert "pelicans" in text, where
        txt = alice.get(f"/v1/jobs/{job_id}/outputs/transcript_txt").text
        assert "Alicia: Alice speaks of pelicans." in txt and "Alice Martin" not in txt
        revisions = alice.get(f"/v1/jobs/{job_id}/revisions").json()
        assert revisions["revisions"][-1]["detail"].endswith(f"-> {labels[0]}")  # labels in the log


async def _set_revision(stack: Stack, job_id: str, revision: int, at: float) -> None:
    nc = await connect(stack.nats)
    try:
        jobs = await JobStore.open(nc.jetstream(), stack.nats.topology.jobs_bucket)

        def took(job: JobState) -> None:  # what an editor that died after taking its number leaves
            job.transcript_revision, job.transcript_revised_at = revision, at

        await jobs.update(job_id, took)
    finally:
        await nc.close()


def test_an_edit_interrupted_after_taking_its_number_is_waited_for_then_repaired(
    stack: Stack, jobs_done
) -> None:
    job_id = jobs_done["edit"]
    with stack.client(stack.alice) as alice:
        r = revision_of(transcript(alice, job_id))
        asyncio.run(_set_revision(stack, job_id, r + 1, time.time()))
        saving = patch(alice, job_id, r, op="text", segment=0, text="Too soon.")
        assert saving.status_code == 409 and "being saved" in saving.json()["detail"]
        note = alice.get(f"/v1/jobs/{job_id}/revisions").json()["note"]
        assert note and "interrupted" in note
        asyncio.run(_set_revision(stack, job_id, r + 1, time.time() - 600))  # its editor is long gone
        body = edited(alice, job_id, r, op="text", segment=0, text="Repaired at last.")
        assert body["revision"] == r + 1
        log = alice.get(f"/v1/jobs/{job_id}/revisions").json()
        assert log["note"] is None and log["revisions"][-1]["number"] == r + 1


def test_a_summary_replay_uses_the_edits_and_an_assemble_replay_sets_them_aside(
    stack: Stack, jobs_done
) -> None:
    job_id = jobs_done["replay"]
    with stack.client(stack.alice) as alice:
        t = transcript(alice, job_id)
        assert revision_of(t) == 0 and t["segments"], t
        text = "Marmalade pelicans publish the quarterly report on Tuesday."
        edited(alice, job_id, 0, op="text", segment=0, text=text)
        edited(alice, job_id, 1, op="speaker", segment=0, speaker="new")

        reply = alice.post(f"/v1/jobs/{job_id}/replay", json={"from": "summarize"})
        assert reply.status_code == 202, reply.text
        job = wait_finished(alice, job_id, reply.json()["generation"])
        assert job["transcript_revision"] == 2  # the transcript is the same one, edits and all
        assert "Marmalade pelicans" in alice.get(f"/v1/jobs/{job_id}/summary", params={"format": "md"}).text
        assert alice.get(f"/v1/jobs/{job_id}/revisions").json()["revisions"][-1]["number"] == 2

        reply = alice.post(f"/v1/jobs/{job_id}/replay", json={"from": "assemble"})
        assert reply.status_code == 202, reply.text
        job = wait_finished(alice, job_id, reply.json()["generation"])
        assert job["transcript_revision"] == 0
        warning = next(w for w in job["warnings"] if w["code"] == "edits_set_aside")
        assert "2 revisions of generation 1" in warning["message"]
        assert "transcript.revisions.gen1.json" in warning["message"]
        aside = alice.get(f"/v1/jobs/{job_id}/outputs/transcript_revisions_gen1").json()
        assert [r["number"] for r in aside["revisions"]] == [1, 2] and aside["generation"] == 1
        assert alice.get(f"/v1/jobs/{job_id}/revisions").json()["revisions"] == []
        fresh = transcript(alice, job_id)
        assert revision_of(fresh) == 0 and "Marmalade" not in fresh["segments"][0]["text"]
        assert "Marmalade" not in alice.get(f"/v1/jobs/{job_id}/outputs/transcript_txt").text
        # the new transcript takes edits from revision 0 again
        assert patch(alice, job_id, 2, op="text", segment=0, text="Stale.").status_code == 409
        edited(alice, job_id, 0, op="text", segment=0, text="A new generation, edited.")
        assert alice.get(f"/v1/jobs/{job_id}/revisions").json()["generation"] == 3
