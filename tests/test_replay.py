"""Replay through the real pipeline: a job runs again from a stage with new options, reusing the rest."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stack import LocalStack
from contracts import keys

RECORDING = Path(__file__).parent / "fixtures" / "conversations" / "two_voices.mp3"


@pytest.fixture(scope="module")
def api(nats_server, tmp_path_factory) -> Iterator[tuple[httpx.Client, Path]]:
    data = tmp_path_factory.mktemp("replay")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_METHOD": "extractive",
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: no llama.cpp server is started
    }
    with (
        LocalStack(
            data, api_port=0, nats_url=nats_server.url, extra_env=env, replicas={"transcribe": 1}
        ) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as client,
    ):
        yield client, data / "artifacts"


def wait_until_finished(
    client: httpx.Client, job_id: str, generation: int, deadline_s: float = 300
) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["generation"] == generation and job["status"] in ("completed", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} generation {generation} did not finish: {job}")


@pytest.fixture(scope="module")
def finished_job(api) -> str:
    client, _ = api
    reply = client.post("/v1/jobs", files={"file": (RECORDING.name, RECORDING.read_bytes())})
    assert reply.status_code == 202, reply.text
    job_id = str(reply.json()["job_id"])
    job = wait_until_finished(client, job_id, 1)
    assert job["status"] == "completed", job
    return job_id


def test_replay_from_diarize_with_a_speaker_count_reuses_the_transcription(api, finished_job) -> None:
    client, _ = api
    before = client.get(f"/v1/jobs/{finished_job}").json()
    assert len(client.get(f"/v1/jobs/{finished_job}/transcript").json()["speakers"]) == 2
    reply = client.post(
        f"/v1/jobs/{finished_job}/replay", json={"from": "diarize", "options": {"speakers": 1}}
    )
    assert reply.status_code == 202, reply.text
    generation = reply.json()["generation"]
    assert generation == before["generation"] + 1
    job = wait_until_finished(client, finished_job, generation)
    assert job["status"] == "completed", job
    assert job["options"]["speakers"] == 1 and job["run_from"] == "diarize"
    assert client.get(f"/v1/jobs/{finished_job}/transcript").json()["speakers"] == ["SPEAKER_1"]
    # Upstream work was reused, not redone: transcode and transcribe kept their records.
    for stage in ("transcode", "transcribe"):
        assert job["stages"][stage]["finished_at"] == before["stages"][stage]["finished_at"], stage
    assert job["stages"]["diarize"]["finished_at"] > before["stages"]["diarize"]["finished_at"]
    earlier = job["history"][-1]
    assert earlier["generation"] == before["generation"] and earlier["status"] == "completed"
    assert "speakers" not in earlier.get("options", {})


def test_replay_from_summarize_with_another_method(api, finished_job) -> None:
    client, _ = api
    generation = client.get(f"/v1/jobs/{finished_job}").json()["generation"]
    reply = client.post(
        f"/v1/jobs/{finished_job}/replay", json={"from": "summarize", "options": {"summary_method": "none"}}
    )
    assert reply.status_code == 202, reply.text
    job = wait_until_finished(client, finished_job, generation + 1)
    assert job["status"] == "completed" and len(job["history"]) >= 1
    assert client.get(f"/v1/jobs/{finished_job}/summary").json()["method"] == "none"


def test_replays_that_cannot_run_say_why(api, finished_job) -> None:
    client, artifacts = api
    base = f"/v1/jobs/{finished_job}/replay"
    bad_stage = client.post(base, json={"from": "ingest"})
    assert bad_stage.status_code == 422 and "transcode" in bad_stage.json()["detail"]
    bad_options = client.post(base, json={"from": "summarize", "options": {"speakers": 0}})
    assert bad_options.status_code == 422 and "bad options" in bad_options.json()["detail"]
    assert (
        client.post("/v1/jobs/20260101-000000-deadbeef/replay", json={"from": "summarize"}).status_code == 404
    )
    turns = artifacts / keys.diarization_turns_key(finished_job)
    kept = turns.read_bytes()
    turns.unlink()
    try:
        gone = client.post(base, json={"from": "assemble"})
        assert gone.status_code == 409 and "replay from diarize" in gone.json()["detail"]
    finally:
        turns.write_bytes(kept)
    generation = client.get(f"/v1/jobs/{finished_job}").json()["generation"]
    assert client.post(base, json={"from": "summarize"}).status_code == 202
    running = client.post(base, json={"from": "summarize"})  # the first replay has not finished yet
    if running.status_code == 409:
        assert "replay it once" in running.json()["detail"]
    wait_until_finished(client, finished_job, generation + (2 if running.status_code == 202 else 1))


def test_the_cli_replays_and_follows_the_new_run(api, finished_job, capsys) -> None:
    from cli.main import main

    client, _ = api
    generation = client.get(f"/v1/jobs/{finished_job}").json()["generation"]
    wait_until_finished(client, finished_job, generation)
    url = str(client.base_url)
    code = main(
        [
            "replay",
            finished_job,
            "--from",
            "summarize",
            "--summary-method",
            "extractive",
            "--api",
            url,
            "--watch",
        ]
    )
    assert code == 0, capsys.readouterr().err
    job = client.get(f"/v1/jobs/{finished_job}").json()
    assert job["generation"] == generation + 1 and job["status"] == "completed"
    assert main(["replay", finished_job, "--from", "nowhere", "--api", url]) == 2
    assert main(["replay", finished_job, "--from", "summarize", "--option", "speakers=0", "--api", url]) == 1
    assert "bad options" in capsys.readouterr().err


def test_times_for_a_range_are_dates_or_ages() -> None:
    from cli.errors import UsageError
    from cli.replay import parse_time

    now = 1_800_000_000.0
    assert parse_time("7d", now) == now - 7 * 86400 and parse_time("90m", now) == now - 5400
    assert parse_time("2026-11-18T09:00:00+00:00") == 1_794_992_400.0
    with pytest.raises(UsageError, match="not a time"):
        parse_time("last tuesday")


def test_a_range_of_jobs_replays_through_one_stage_a_few_at_a_time(api, finished_job, capsys) -> None:
    from cli.main import main

    client, _ = api
    second = client.post("/v1/jobs", files={"file": (RECORDING.name, RECORDING.read_bytes())}).json()[
        "job_id"
    ]
    wait_until_finished(client, second, 1)
    wait_until_finished(client, finished_job, client.get(f"/v1/jobs/{finished_job}").json()["generation"])
    before = {j: client.get(f"/v1/jobs/{j}").json()["generation"] for j in (finished_job, second)}
    url = str(client.base_url)
    args = [
        "replay",
        "--from",
        "summarize",
        "--since",
        "1h",
        "--summary-method",
        "none",
        "--max-in-flight",
        "1",
    ]
    assert main([*args, "--api", url]) == 0, capsys.readouterr().err
    assert "2 completed, 0 failed" in capsys.readouterr().err
    for job_id, generation in before.items():
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["generation"] == generation + 1 and job["options"]["summary_method"] == "none"
    assert main(["replay", "--from", "summarize", "--api", url]) == 2  # neither a job nor a range
