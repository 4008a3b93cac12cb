"""A recording through ingest, transcode, two transcribe replicas and assembly, all real processes."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bench.word_errors import word_error_rate
from cli.stack import LocalStack
from tests.audio import looped
from tests.test_pipeline import _count_events, submit

AUDIO = Path(__file__).parent / "fixtures" / "audio"
LOOPS = 6
pytest.importorskip("faster_whisper")


def wait_assembled(client: httpx.Client, job_id: str, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] != "failed", job["error"]
        if job["stages"].get("assemble", {}).get("status") == "done":
            return job
        time.sleep(0.3)
    raise AssertionError(f"no transcript in time: {job}")


def test_two_replicas_share_the_chunks_and_the_transcript_has_the_words_at_their_times(nats_server, tmp_path):
    truth = json.loads((AUDIO / "en_two_voices.json").read_text())
    recording = looped(AUDIO / "en_two_voices.mp3", LOOPS, tmp_path / "meeting.mp3")
    env = {"AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10], "AODIO_TRANSCRIBE_MODEL": "tiny.en"}
    stages = ("ingest", "transcode", "transcribe", "assemble")
    with LocalStack(
        tmp_path / "stack",
        api_port=0,
        nats_url=nats_server.url,
        extra_env=env,
        stages=stages,
        replicas={"transcribe": 2},
    ) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, recording, {"chunk_seconds": 30})
            job = wait_assembled(client, job_id)
            transcript = client.get(f"/v1/jobs/{job_id}/outputs/transcript_json").json()
            srt = client.get(f"/v1/jobs/{job_id}/outputs/transcript_srt").text
            partial = client.get(f"/v1/jobs/{job_id}/partial-transcript").json()
        namespace = env["AODIO_NATS_NAMESPACE"]
        events = asyncio.run(_count_events(nats_server.url, namespace, job_id))
    chunks = job["chunks_total"]
    assert chunks >= 5 and job["chunks_done"] == list(range(chunks))
    assert events["chunk.transcribed"] == chunks and events["transcript.assembled"] == 1
    handled = [
        len(re.findall(job_id, (tmp_path / "stack" / "logs" / f"transcribe.{r}.log").read_text()))
        for r in (1, 2)
    ]
    assert all(handled), f"both replicas should take chunks, got {handled} log lines"

    words = [w for segment in transcript["segments"] for w in segment["words"]]
    spoken = " ".join(s["text"] for s in truth["segments"])
    heard = "".join(w["text"] for w in words)
    assert word_error_rate(" ".join([spoken] * LOOPS), heard) < 0.35  # espeak voices and tiny.en
    # no chunk lost or doubled: the loop's opening words are heard exactly once per loop
    assert len(re.findall(r"good morning", heard.lower())) == LOOPS
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and starts[-1] <= job["duration_s"]
    for loop in range(LOOPS):  # each "Good morning" at its time in the recording, across chunk edges
        expected = loop * truth["duration_s"] + truth["segments"][0]["start"]
        assert any(
            w["text"].strip().lower().startswith("good") and abs(w["start"] - expected) < 1.0 for w in words
        ), f"no 'Good' near {expected:.1f} s"
    assert "-->" in srt and "release date" in srt.lower()
    assert partial["chunks_done"] == chunks and partial["text"] == heard.strip()
