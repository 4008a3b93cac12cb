"""The whole pipeline up to the transcript, as real processes: the right speaker on every turn."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from tests.test_pipeline import submit

pytest.importorskip("faster_whisper")
pytest.importorskip("pyannote.metrics")
CONVERSATIONS = Path(__file__).parent / "fixtures" / "conversations"
STAGES = ("ingest", "transcode", "diarize", "transcribe", "assemble")


def reference_turns(rttm: Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in rttm.read_text().splitlines():
        fields = line.split()
        start, duration = float(fields[3]), float(fields[4])
        turns.append((start, start + duration, fields[7]))
    return turns


def test_transcript_has_a_speaker_on_every_word_and_speakers_follow_the_turns(nats_server, tmp_path):
    env = {"AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10], "AODIO_TRANSCRIBE_MODEL": "tiny.en"}
    with LocalStack(
        tmp_path / "stack",
        api_port=0,
        nats_url=nats_server.url,
        extra_env=env,
        replicas={"transcribe": 1},
        stages=STAGES,
    ) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, CONVERSATIONS / "two_voices.mp3")
            deadline = time.monotonic() + 300
            while (job := client.get(f"/v1/jobs/{job_id}").json())["stages"].get("assemble", {}).get(
                "status"
            ) != "done":
                assert job["status"] != "failed", job["error"]
                assert time.monotonic() < deadline, job
                time.sleep(0.3)
            transcript = client.get(f"/v1/jobs/{job_id}/outputs/transcript_json").json()
            vtt = client.get(f"/v1/jobs/{job_id}/outputs/transcript_vtt").text
    assert job["stages"]["diarize"]["status"] == "done" and len(transcript["speakers"]) == 2
    words = [w for segment in transcript["segments"] for w in segment["words"]]
    assert words and all(w["speaker"] for w in words)
    pairs = Counter()
    for word in words:
        middle = (word["start"] + word["end"]) / 2
        truth = next(
            (
                who
                for start, end, who in reference_turns(CONVERSATIONS / "two_voices.rttm")
                if start - 0.3 <= middle <= end + 0.3
            ),
            None,
        )
        if truth is not None:
            pairs[(truth, word["speaker"])] += 1
    mapping = {truth: max((c, hyp) for (t, hyp), c in pairs.items() if t == truth)[1] for truth, _ in pairs}
    assert len(set(mapping.values())) == 2  # one label per voice
    agreeing = sum(c for (truth, hyp), c in pairs.items() if mapping[truth] == hyp)
    assert agreeing / sum(pairs.values()) > 0.9
    assert "<v SPEAKER_1>" in vtt and "<v SPEAKER_2>" in vtt


def test_whole_pipeline_ends_with_a_summary_and_a_completed_job(nats_server, tmp_path):
    pytest.importorskip("litellm")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_MODEL": "local/smollm2-135m",  # plumbing; test_summarize covers the default Qwen
        # The 135M model under the JSON grammar can write to its token limit, twice (the repair call):
        # 2000 tokens each took 164 s of this test on a 2-core machine; 400 still reach the model.
        "AODIO_SUMMARIZE_MAX_OUTPUT_TOKENS": "400",
    }
    with LocalStack(
        tmp_path / "stack", api_port=0, nats_url=nats_server.url, extra_env=env, replicas={"transcribe": 1}
    ) as stack:
        assert stack.llm is None  # one summarize replica starts its own server when a summary needs it
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, CONVERSATIONS / "two_voices.mp3")
            deadline = time.monotonic() + 400
            while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
                assert job["status"] != "failed", job["error"]
                assert time.monotonic() < deadline, job
                time.sleep(0.5)
            summary = client.get(f"/v1/jobs/{job_id}/outputs/summary_json").json()
            markdown = client.get(f"/v1/jobs/{job_id}/outputs/summary_md").text
    assert summary["method"] in ("llm", "extractive") and summary["language"] == "en"
    assert summary["method"] == "llm" or "smollm2" in (summary.get("note") or "")  # the model was reached
    assert markdown.startswith("#") and job["stages"]["summarize"]["status"] == "done"
