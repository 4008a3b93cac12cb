"""Ingest and transcode as real processes over real nats-server, ffmpeg and storage (directory and S3)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from tests.audio import looped

AUDIO = Path(__file__).parent / "fixtures" / "audio"


def start_stack(nats_url: str, data: Path, s3: bool = False) -> LocalStack:
    env = {"AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10], "AODIO_NATS_ACK_WAIT_S": "5"}
    return LocalStack(
        data, api_port=0, nats_url=nats_url, extra_env=env, s3=s3, stages=("ingest", "transcode")
    )


@pytest.fixture(scope="module")
def api(nats_server, tmp_path_factory) -> Iterator[httpx.Client]:
    with start_stack(nats_server.url, tmp_path_factory.mktemp("pipeline")) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            yield client


def submit(client: httpx.Client, path: Path, options: dict | None = None) -> str:
    with path.open("rb") as handle:
        reply = client.post(
            "/v1/jobs", files={"file": (path.name, handle)}, data={"options": json.dumps(options or {})}
        )
    assert reply.status_code == 202, reply.text
    return reply.json()["job_id"]


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] == "failed" or job["stages"].get("transcode", {}).get("status") == "done":
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish transcode: {job}")


def check_transcoded(client: httpx.Client, job_id: str, expected_s: float, tmp_path: Path) -> dict:
    job = wait_job(client, job_id)
    assert job["status"] == "running" and job["error"] is None, job
    assert abs(job["duration_s"] - expected_s) < 0.2
    flac = tmp_path / "normalized.flac"
    flac.write_bytes(client.get(f"/v1/jobs/{job_id}/outputs/normalized_audio").content)
    from services.transcode.probe import probe

    info = probe(flac)
    assert (info.sample_rate, info.channels, info.codec) == (16000, 1, "flac")
    plan = client.get(f"/v1/jobs/{job_id}/outputs/chunk_plan").json()
    chunks = plan["chunks"]
    assert len(chunks) == job["chunks_total"] >= 1
    assert chunks[0]["start_s"] == 0 and abs(chunks[-1]["end_s"] - job["duration_s"]) < 0.01
    assert all(a["end_s"] == b["start_s"] for a, b in pairwise(chunks))
    for stage in ("diarize", "transcribe", "assemble", "summarize"):
        assert job["stages"][stage]["status"] == "pending"
    return job


def test_recording_is_normalised_and_planned_into_chunks(api, tmp_path):
    truth = json.loads((AUDIO / "en_two_voices.json").read_text())
    job_id = submit(api, AUDIO / "en_two_voices.mp3", {"chunk_seconds": 30})
    job = check_transcoded(api, job_id, truth["duration_s"], tmp_path)
    assert job["chunks_total"] >= 1
    assert job["stages"]["transcode"]["cpu_s"] > 0 and job["stages"]["transcode"]["attempts"] == 1
    silences = api.get(f"/v1/jobs/{job_id}/outputs/chunk_plan").json()["silences"]
    gaps = [(a["end"], b["start"]) for a, b in pairwise(truth["segments"])]
    # every pause between two spoken sentences is found as a silence
    assert all(
        any(s <= g0 + 0.35 and e >= g1 - 0.35 for s, e in silences) for g0, g1 in gaps if g1 - g0 > 0.6
    )


def test_video_with_an_audio_track_is_accepted(api, tmp_path):
    job_id = submit(api, AUDIO / "video_with_audio.mp4")
    assert wait_job(api, job_id)["status"] == "running"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("not_audio.txt", "not a readable audio or video file"),
        ("corrupt_header.mp3", "not a readable audio or video file"),
        ("video_no_audio.mp4", "upload is not audio: ffprobe found no audio stream"),
        ("truncated.mp3", "truncated"),
    ],
)
def test_bad_media_fails_the_job_with_a_reason_and_keeps_the_upload(api, name, reason):
    job_id = submit(api, AUDIO / name)
    job = wait_job(api, job_id)
    assert job["status"] == "failed" and job["failed_stage"] == "transcode"
    assert reason in job["error"], job["error"]
    assert job["stages"]["transcode"]["attempts"] == 1  # permanent: not retried
    source = api.get(f"/v1/jobs/{job_id}/outputs/source")
    assert source.status_code == 200 and source.content == (AUDIO / name).read_bytes()


def test_pipeline_on_s3_storage(nats_server, tmp_path):
    with start_stack(nats_server.url, tmp_path / "stack", s3=True) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            truth = json.loads((AUDIO / "fr_one_voice.json").read_text())
            job_id = submit(client, AUDIO / "fr_one_voice.mp3", {"language": "fr"})
            check_transcoded(client, job_id, truth["duration_s"], tmp_path)


def test_transcode_killed_mid_job_is_redelivered_and_the_job_finishes_once(nats_server, tmp_path):
    long_mp3 = looped(AUDIO / "en_two_voices.mp3", 41, tmp_path / "long.mp3")  # about 22 minutes
    with start_stack(nats_server.url, tmp_path / "stack") as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, long_mp3, {"chunk_seconds": 300})
            deadline = time.monotonic() + 60
            while (
                client.get(f"/v1/jobs/{job_id}").json()["stages"].get("transcode", {}).get("status")
                != "running"
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            stack.kill("transcode")
            assert client.get(f"/v1/jobs/{job_id}").json()["stages"]["transcode"]["status"] == "running"
            stack.spawn("transcode")  # a fresh replica; the message comes back after the ack wait
            job = wait_job(client, job_id)
            assert job["status"] == "running" and job["stages"]["transcode"]["attempts"] == 2
            plan = client.get(f"/v1/jobs/{job_id}/outputs/chunk_plan").json()["chunks"]
            assert len(plan) == job["chunks_total"] >= 4
            events = asyncio.run(
                _count_events(nats_server.url, stack.environment()["AODIO_NATS_NAMESPACE"], job_id)
            )
            assert events == {"audio.normalized": 1, "chunk.planned": job["chunks_total"]}


async def _count_events(url: str, namespace: str, job_id: str) -> dict[str, int]:
    from nats.js import api as js_api

    from contracts.events import decode_event
    from runtime.bus import connect
    from runtime.settings import NatsSettings

    settings = NatsSettings(url=url, namespace=namespace)
    nc = await connect(settings)
    counts: dict[str, int] = {}
    try:
        sub = await nc.jetstream().subscribe(
            f"{settings.topology.prefix}.>", ordered_consumer=True, deliver_policy=js_api.DeliverPolicy.ALL
        )
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except Exception:
                break
            if ".dead_letter." in msg.subject or b'"type"' not in msg.data:
                continue
            event = decode_event(msg.data)
            if event.job_id == job_id and not msg.subject.endswith("job.submitted"):
                tag = type(event).__struct_config__.tag
                counts[tag] = counts.get(tag, 0) + 1
    finally:
        await nc.close()
    return counts
