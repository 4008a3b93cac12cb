"""50 short jobs submitted beside a 4 h 15 one: all complete, and the short ones pass the long one.

The long recording goes to the long lane (AODIO_TRANSCODE_LONG_JOB_S, default 30 min); every stage
serves both lanes at once, so a diarize or transcribe process busy with hours of audio still takes the
short jobs' messages. What is asserted is an order, never a time: every short job is completed while
the long job is still running, and then the long job completes too. The figures are printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from bench.run import DEFAULT_FILE, ensure_recording
from tests.faultkit import fault_env, log_tail, make_stack, stage_status, submit, wait_until

pytest.importorskip("faster_whisper")
pytestmark = pytest.mark.slow

AUDIO = Path(__file__).parent / "fixtures" / "audio"
ALL_STAGES = ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize")
SHORT_JOBS = 50


def test_fifty_short_jobs_are_not_stuck_behind_a_long_one(nats_server, tmp_path):
    ensure_recording(DEFAULT_FILE)  # the generated 4 h 15 recording (bench/generate_long.py), made once
    env = fault_env(AODIO_NATS_ACK_WAIT_S="30")
    with (
        make_stack(tmp_path / "stack", nats_server.url, ALL_STAGES, extra_env=env) as stack,
        httpx.Client(base_url=stack.api_url, timeout=120) as client,
    ):
        started = time.monotonic()
        long_id = submit(client, DEFAULT_FILE)
        long_job = wait_until(
            client, long_id, lambda j: stage_status(j, "transcode") == "done", 600, "transcoded"
        )
        assert long_job["lane"] == "long", long_job
        # The worst moment for the short jobs: diarize and transcribe have the long job's work queued.
        shorts = [submit(client, AUDIO / "en_two_voices.mp3") for _ in range(SHORT_JOBS)]
        pending, finished_at = set(shorts), {}
        deadline = time.monotonic() + 1800
        while pending and time.monotonic() < deadline:
            for job_id in sorted(pending):
                job = client.get(f"/v1/jobs/{job_id}").json()
                assert job["status"] != "failed", f"{job_id} failed: {job['error']}"
                if job["status"] == "completed":
                    pending.discard(job_id)
                    finished_at[job_id] = time.monotonic() - started
            time.sleep(1)
        assert not pending, f"{len(pending)} short jobs not completed:\n{log_tail(stack.data_dir)}"
        long_now = client.get(f"/v1/jobs/{long_id}").json()
        print(
            f"\n{SHORT_JOBS} short jobs completed {max(finished_at.values()):.0f} s after the long upload; "
            f"the long job then: {long_now['status']}, "
            + ", ".join(f"{s} {v['status']}" for s, v in long_now["stages"].items())
        )
        assert long_now["status"] == "running", "the long job finished first: short jobs waited behind it"
        for job_id in shorts:
            assert client.get(f"/v1/jobs/{job_id}").json()["lane"] == "standard"
            text = client.get(f"/v1/jobs/{job_id}/transcript", params={"format": "txt"}).text
            assert "good morning" in text.lower(), (job_id, text[:200])

        done = wait_until(client, long_id, lambda j: j["status"] == "completed", 2400, "completed")
        print(f"long job completed {time.monotonic() - started:.0f} s after its upload")
        assert done["chunks_total"] == len(done["chunks_done"])
