"""A job stored by earlier code still exports, renames and replays (tests/fixtures/stored_job/).

The fixture is one real job as commit 0f9970c stored it (scripts/make_stored_job.py): its KV
state record byte for byte and every artifact under its storage key. Each test loads it into the
jobs bucket and the artifact folder of a running stack, under a job id of its own (the old id
replaced in keys and bytes, nothing else changed), and reads it back only through the HTTP API
and the CLI, so the code that reads it may be rewritten freely as long as what users get is not.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from cli.stack import LocalStack
from contracts.events import decode_event
from contracts.subjects import Topology, message_id
from runtime.bus import connect
from runtime.settings import NatsSettings

FIXTURE = Path(__file__).parent / "fixtures" / "stored_job"
STORED_ID = json.loads((FIXTURE / "state.json").read_bytes())["job_id"]
STORED = FIXTURE / "artifacts" / "jobs" / STORED_ID
TRANSCRIPT_FORMATS = ("json", "srt", "vtt", "txt", "md")
SUMMARY_FORMATS = ("json", "md")
# As long as the labels they replace, so every render keeps its layout (line wrapping included).
NAMES = {"SPEAKER_1": "Valentina", "SPEAKER_2": "Sebastian"}


@dataclass
class Stack:
    client: httpx.Client
    artifacts: Path
    nats: NatsSettings


@pytest.fixture(scope="module")
def stack(nats_server, tmp_path_factory) -> Iterator[Stack]:
    """The API with the two stages a replay of a stored job runs cheaply (assemble, summarize)."""
    data = tmp_path_factory.mktemp("stored-job")
    namespace = "t" + uuid.uuid4().hex[:10]
    env = {
        "AODIO_NATS_NAMESPACE": namespace,
        "AODIO_SUMMARIZE_METHOD": "extractive",  # what the fixture's job was summarised with
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: no llama.cpp server is started
        "AODIO_ASSEMBLE_REQUIRE_DIARIZATION": "true",  # the stored job has speaker turns
    }
    stages = ("ingest", "assemble", "summarize")
    with (
        LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=stages) as running,
        httpx.Client(base_url=running.api_url, timeout=30) as client,
    ):
        yield Stack(client, data / "artifacts", NatsSettings(url=nats_server.url, namespace=namespace))


async def load_stored_job(stack: Stack) -> str:
    """Put the fixture's artifacts and state record in place under a fresh job id; returns the id."""
    job_id = STORED_ID[:-8] + uuid.uuid4().hex[:8]
    for path in sorted(p for p in (FIXTURE / "artifacts").rglob("*") if p.is_file()):
        key = path.relative_to(FIXTURE / "artifacts").as_posix().replace(STORED_ID, job_id)
        (stack.artifacts / key).parent.mkdir(parents=True, exist_ok=True)
        (stack.artifacts / key).write_bytes(path.read_bytes().replace(STORED_ID.encode(), job_id.encode()))
    nc = await connect(stack.nats)
    try:
        kv = await nc.jetstream().key_value(stack.nats.topology.jobs_bucket)
        state = (FIXTURE / "state.json").read_bytes().replace(STORED_ID.encode(), job_id.encode())
        await kv.create(job_id, state)
    finally:
        await nc.close()
    return job_id


def stored(relative: str) -> bytes:
    return (STORED / relative).read_bytes()


def exported(relative: str) -> bytes:
    """What a user gets for a stored export: the stored bytes, except the subtitles, whose rules
    (exports/subtitles.py) are newer than the fixture: those are the stored transcript rendered now."""
    if relative.endswith((".srt", ".vtt")):
        from contracts.artifacts import decode_transcript
        from exports.formats import render_transcript

        transcript = decode_transcript(stored("transcript/transcript.json"))
        return render_transcript(transcript, relative.rsplit(".", 1)[1])
    return stored(relative)


def stored_summary() -> Any:
    return json.loads(stored("summary/summary.json"))


def renamed_summary(summary: Any, names: dict[str, str]) -> Any:
    """The stored summary with every label replaced wherever it appears, as a rename promises."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    if isinstance(summary, str):
        return pattern.sub(lambda m: names[m.group(1)], summary)
    if isinstance(summary, list):
        return [renamed_summary(v, names) for v in summary]
    if isinstance(summary, dict):
        return {k: renamed_summary(v, names) for k, v in summary.items()}
    return summary


def unranked(summary: Any) -> Any:
    """A summary less the words picked by term counts: the extractive summary breaks ties between
    equally frequent terms in set order, which varies with PYTHONHASHSEED from one process to the next.
    """
    kept = {k: v for k, v in summary.items() if k not in ("title", "overview", "speakers", "chapters")}
    kept["speakers"] = [(s["speaker"], s["share"]) for s in summary["speakers"]]
    kept["chapters"] = [c["start_s"] for c in summary["chapters"]]
    return kept


def wait_until_finished(client: httpx.Client, job_id: str, generation: int, deadline_s: float = 60) -> Any:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["generation"] == generation and job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} generation {generation} did not finish: {job}")


def test_the_fixture_is_a_small_two_speaker_job_with_every_artifact() -> None:
    size = sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file())
    assert size < 300_000
    state = json.loads((FIXTURE / "state.json").read_bytes())
    assert state["status"] == "completed" and state["chunks_total"] >= 2
    assert json.loads(stored("transcript/transcript.json"))["speakers"] == list(NAMES)
    for name in ("chunk_plan", "diarization_turns", "diarization_rttm", "transcript_json", "summary_md"):
        assert (FIXTURE / "artifacts" / state["outputs"][name]).is_file(), name


def test_the_stored_events_still_decode_on_the_same_subjects() -> None:
    """A message queued before an upgrade is read after it: same subject, same id, every field kept."""
    lines = (FIXTURE / "events.jsonl").read_text().splitlines()
    assert len(lines) >= 8
    for line in lines:
        message = json.loads(line)
        fields = message["data"]
        event = decode_event(json.dumps(fields).encode())
        assert msgspec.to_builtins(event).items() >= fields.items(), fields["type"]
        namespace = message["subject"].split(".aodio.", 1)[0]
        assert Topology(namespace).subject_for(event) == message["subject"]
        assert message_id(event) == message["headers"]["Nats-Msg-Id"]


async def test_every_export_of_a_stored_job_is_what_was_stored(stack: Stack, tmp_path: Path) -> None:
    from cli.main import main

    job_id = await load_stored_job(stack)
    client, base = stack.client, f"/v1/jobs/{job_id}"
    job = client.get(base).json()
    assert job["status"] == "completed" and job["generation"] == 1
    for fmt in TRANSCRIPT_FORMATS:
        reply = client.get(f"{base}/transcript", params={"format": fmt, "download": 1})
        assert reply.status_code == 200 and reply.content == exported(f"transcript/transcript.{fmt}"), fmt
        assert reply.headers["content-disposition"] == f'attachment; filename="two_voices.{fmt}"'
    for fmt in SUMMARY_FORMATS:
        reply = client.get(f"{base}/summary", params={"format": fmt})
        assert reply.status_code == 200 and reply.content == stored(f"summary/summary.{fmt}"), fmt
    for name, key in job["outputs"].items():
        reply = client.get(f"{base}/outputs/{name}")
        if (stack.artifacts / key).exists():
            assert reply.status_code == 200 and reply.content == (stack.artifacts / key).read_bytes(), name
        else:  # the recording and its audio are not in the fixture
            assert reply.status_code == 410 and "gone from storage" in reply.json()["detail"], name
    transcript = json.loads(stored("transcript/transcript.json"))
    partial = client.get(f"{base}/partial-transcript").json()
    assert partial["chunks_done"] == partial["chunks_total"] == job["chunks_total"]
    said = [w["text"] for segment in transcript["segments"] for w in segment["words"]]
    assert [w["text"] for w in partial["words"]] == said
    url = str(client.base_url)
    for fmt, relative in (("srt", "transcript/transcript.srt"), ("summary.md", "summary/summary.md")):
        out = tmp_path / f"export.{fmt}"
        assert main(["export", job_id, "--format", fmt, "--api", url, "--out", str(out)]) == 0
        assert out.read_bytes() == exported(relative), fmt


async def test_renaming_the_speakers_of_a_stored_job_rewrites_exports_and_summary(stack: Stack) -> None:
    job_id = await load_stored_job(stack)
    client, base = stack.client, f"/v1/jobs/{job_id}"
    reply = client.put(f"{base}/speakers", json=NAMES)
    assert reply.status_code == 200 and reply.json() == {"speaker_names": NAMES}
    assert client.get(base).json()["speaker_names"] == NAMES
    transcript = client.get(f"{base}/transcript").json()
    assert transcript["speakers"] == list(NAMES.values())
    words = [w for segment in transcript["segments"] for w in segment["words"]]
    assert {w["speaker"] for w in words} == set(NAMES.values())
    for fmt in ("srt", "vtt", "txt", "md"):
        expected = exported(f"transcript/transcript.{fmt}").decode()
        for label, name in NAMES.items():
            expected = expected.replace(label, name)
        assert client.get(f"{base}/transcript", params={"format": fmt}).text == expected, fmt
        assert client.get(f"{base}/outputs/transcript_{fmt}").text == expected, fmt  # the stored file too
    summary = client.get(f"{base}/summary").json()
    assert summary == renamed_summary(stored_summary(), NAMES)
    assert {item["owner"] for item in summary["action_items"]} <= set(NAMES.values())
    markdown = client.get(f"{base}/summary", params={"format": "md"}).text
    assert "Valentina" in markdown and "SPEAKER_1" not in markdown
    # Renaming back gives the stored exports again, byte for byte: nothing compounds.
    assert client.put(f"{base}/speakers", json={}).status_code == 200
    for fmt in TRANSCRIPT_FORMATS:
        assert client.get(f"{base}/transcript", params={"format": fmt}).content == exported(
            f"transcript/transcript.{fmt}"
        ), fmt
    assert client.get(f"{base}/summary").content == stored("summary/summary.json")
    bad = client.put(f"{base}/speakers", json={"SPEAKER_3": "Nobody"})
    assert bad.status_code == 422 and "SPEAKER_1, SPEAKER_2" in bad.json()["detail"]


@pytest.mark.parametrize("from_stage", ["assemble", "summarize"])
async def test_a_stored_job_replays_from_its_stored_artifacts(stack: Stack, from_stage: str) -> None:
    job_id = await load_stored_job(stack)
    client, base = stack.client, f"/v1/jobs/{job_id}"
    reply = client.post(f"{base}/replay", json={"from": from_stage})
    assert reply.status_code == 202, reply.text
    assert reply.json()["generation"] == 2
    job = wait_until_finished(client, job_id, 2)
    assert job["status"] == "completed", job["error"]
    assert job["run_from"] == from_stage and job["history"][0]["status"] == "completed"
    for stage in ("transcode", "diarize", "transcribe"):  # reused, not redone
        assert job["stages"][stage]["status"] == "done", stage
    assert client.get(f"{base}/transcript").content == stored("transcript/transcript.json")
    assert client.get(f"{base}/transcript", params={"format": "srt"}).content == exported(
        "transcript/transcript.srt"
    )
    summary = client.get(f"{base}/summary").json()
    assert unranked(summary) == unranked(stored_summary())
    assert summary["title"] and summary["overview"].startswith("A 1 min recording with 2 speaker(s)")


@pytest.mark.parametrize("from_stage", ["assemble", "summarize"])
async def test_a_renamed_stored_job_keeps_its_names_through_a_replay(stack: Stack, from_stage: str) -> None:
    job_id = await load_stored_job(stack)
    client, base = stack.client, f"/v1/jobs/{job_id}"
    assert client.put(f"{base}/speakers", json=NAMES).status_code == 200
    assert client.post(f"{base}/replay", json={"from": from_stage}).status_code == 202
    job = wait_until_finished(client, job_id, 2)
    assert job["status"] == "completed", job["error"]
    assert job["speaker_names"] == NAMES
    assert client.get(f"{base}/transcript").json()["speakers"] == list(NAMES.values())
    # the stored exports too (assemble and summarize apply the names, run after run)
    stored_srt = client.get(f"{base}/outputs/transcript_srt").text
    assert all(name in stored_srt for name in NAMES.values()) and "SPEAKER_" not in stored_srt
    named = unranked(renamed_summary(stored_summary(), NAMES))
    assert unranked(client.get(f"{base}/summary").json()) == named
    assert unranked(client.get(f"{base}/outputs/summary_json").json()) == named  # summarize wrote the names
    assert client.put(f"{base}/speakers", json={}).status_code == 200
    assert client.get(f"{base}/transcript").content == stored("transcript/transcript.json")
    assert unranked(client.get(f"{base}/summary").json()) == unranked(stored_summary())
