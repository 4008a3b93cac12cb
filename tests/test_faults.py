"""Faults injected into a stack of real processes: NATS and S3 going away, workers killed, a full disk.

Every test runs its own stack (its own namespace, and where the fault needs it its own nats-server or
SeaweedFS) and watches the job through the API, so what is asserted is what a user would see.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.word_errors import word_error_rate
from cli.stack import LocalStack
from runtime.embedded import NatsServer, WeedMini
from tests.audio import looped
from tests.faultkit import (
    HungLlm,
    fault_env,
    handled,
    log_tail,
    make_stack,
    stage_status,
    submit,
    transcript_text,
    transcript_words,
    try_job,
    wait_assembled,
    wait_completed,
    wait_until,
)

pytest.importorskip("faster_whisper")
AUDIO = Path(__file__).parent / "fixtures" / "audio"
CONVERSATIONS = Path(__file__).parent / "fixtures" / "conversations"
TRANSCRIPT_STAGES = ("ingest", "transcode", "transcribe", "assemble")
ALL_STAGES = ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize")
LOOPS = 3  # en_two_voices.mp3 three times: ~98 s, four 30-s chunks to transcribe


def meeting(tmp_path: Path) -> Path:
    return looped(AUDIO / "en_two_voices.mp3", LOOPS, tmp_path / "meeting.mp3")


def assert_meeting_heard(text: str) -> None:
    """Every loop of the meeting is in the transcript, once: no chunk lost or doubled."""
    assert text.lower().count("good morning") == LOOPS, text
    assert text.lower().count("release date") == LOOPS, text


def assert_all_alive(stack: LocalStack) -> None:
    dead = stack.dead_children()
    assert not dead, f"{dead} exited:\n{log_tail(stack.data_dir)}"


# --- 1. nats-server stopped and restarted, its store on disk ------------------------------------------


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server this test may stop and restart (same port, same store directory)."""
    server = NatsServer(tmp_path / "jetstream", log_file=tmp_path / "nats-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def restart(
    server: NatsServer, down_s: float, data: Path, stage: str, job_id: str, crash: bool = False
) -> int:
    """Stop (or SIGKILL) the server, start it again down_s later; returns what the stage had handled."""
    if crash:
        server.kill()  # no clean shutdown: the store is recovered from disk as it was
    else:
        server.stop()
    handled_at_stop = handled(data, stage, job_id)
    time.sleep(down_s)
    server.start()
    return handled_at_stop


@pytest.mark.parametrize("crash", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["stop", "kill"])
def test_nats_restarted_while_transcribing_and_the_job_still_completes(own_nats, tmp_path, crash):
    with make_stack(tmp_path / "stack", own_nats.url, TRANSCRIPT_STAGES, replicas={"transcribe": 1}) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, meeting(tmp_path), '{"chunk_seconds": 30}')
            wait_until(
                client, job_id, lambda j: stage_status(j, "transcribe") == "running", 120, "transcribing"
            )
            done_at_stop = restart(own_nats, 5, stack.data_dir, "transcribe", job_id, crash)
            job = wait_assembled(client, job_id, timeout_s=300)
            assert_meeting_heard(transcript_text(client, job_id))
            after = submit(client, AUDIO / "en_short.wav")  # and the API takes new work
            wait_assembled(client, after, timeout_s=300)
            assert "quarterly report" in transcript_text(client, after).lower()
            assert_all_alive(stack)
    assert job["chunks_done"] == list(range(job["chunks_total"]))
    assert done_at_stop < job["chunks_total"]  # NATS went away with chunks still to transcribe


def test_nats_restarted_while_transcoding_and_the_job_still_completes(own_nats, tmp_path):
    long_mp3 = looped(AUDIO / "en_two_voices.mp3", 30, tmp_path / "long.mp3")  # ~16 minutes
    with make_stack(tmp_path / "stack", own_nats.url, ("ingest", "transcode")) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, long_mp3, '{"chunk_seconds": 300}')
            wait_until(
                client, job_id, lambda j: stage_status(j, "transcode") == "running", 120, "transcoding"
            )
            done_at_stop = restart(own_nats, 5, stack.data_dir, "transcode", job_id)
            job = wait_until(
                client, job_id, lambda j: stage_status(j, "transcode") == "done", 300, "transcoded"
            )
            plan = client.get(f"/v1/jobs/{job_id}/outputs/chunk_plan").json()["chunks"]
            assert_all_alive(stack)
    assert done_at_stop == 0  # NATS went away while the recording was being transcoded
    assert len(plan) == job["chunks_total"] >= 3
    assert abs(plan[-1]["end_s"] - job["duration_s"]) < 0.01


# --- 2. S3 unreachable for a while ---------------------------------------------------------------------


@pytest.fixture
def own_weed(tmp_path: Path) -> Iterator[WeedMini]:
    """A SeaweedFS S3 this test may stop and restart (same ports, same data directory)."""
    server = WeedMini(tmp_path / "weed", log_file=tmp_path / "weed.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def s3_env(server: WeedMini) -> dict[str, str]:
    # Back-off 2, 4, then 8 s: 20 deliveries wait out ~140 s, well over the outage (the stop, the
    # pause, and weed's own restart, which took ~18 s on a 2-core machine).
    return fault_env(
        AODIO_NATS_MAX_DELIVER="20",
        AODIO_STORAGE_BACKEND="s3",
        AODIO_STORAGE_S3_ENDPOINT=server.endpoint,
        AODIO_STORAGE_S3_ACCESS_KEY=server.access_key,
        AODIO_STORAGE_S3_SECRET_KEY=server.secret_key,
        AODIO_STORAGE_S3_BUCKET=f"fault-{uuid.uuid4().hex[:8]}",
    )


def test_s3_down_mid_job_and_the_job_still_completes(nats_server, own_weed, tmp_path):
    with make_stack(
        tmp_path / "stack",
        nats_server.url,
        TRANSCRIPT_STAGES,
        extra_env=s3_env(own_weed),
        replicas={"transcribe": 1},
    ) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            job_id = submit(client, meeting(tmp_path), '{"chunk_seconds": 30}')
            wait_until(
                client, job_id, lambda j: stage_status(j, "transcribe") == "running", 120, "transcribing"
            )
            own_weed.stop()
            done_at_stop = handled(stack.data_dir, "transcribe", job_id)
            time.sleep(15)  # down ~35 s in all: the stop (3 s), this pause, weed's restart
            down = try_job(client, job_id)
            own_weed.start()
            job = wait_assembled(client, job_id, timeout_s=300)
            assert_meeting_heard(transcript_text(client, job_id))
            assert_all_alive(stack)
    assert down is not None and stage_status(down, "assemble") != "done"  # the outage held the job up
    assert job["stages"]["transcribe"]["attempts"] >= 2  # a chunk was retried after the outage
    assert done_at_stop < job["chunks_total"]


# --- 3. each worker SIGKILLed mid-job; a fresh replica picks the message up -----------------------------


class FullStack:
    def __init__(self, stack: LocalStack, client: httpx.Client, llm: HungLlm, reference: list[str]) -> None:
        self.stack, self.client, self.llm, self.reference = stack, client, llm, reference


@pytest.fixture(scope="module")
def full_stack(nats_server, tmp_path_factory) -> Iterator[FullStack]:
    """Every stage, one process each, and the words of an undisturbed run of two_voices.mp3.

    Summaries go to a fake LLM endpoint that refuses (so the extractive summary is written) or,
    while a test wants a summary in flight, hangs.
    """
    data = tmp_path_factory.mktemp("kills")
    llm = HungLlm()
    env = fault_env(**llm.env())
    try:
        with make_stack(
            data / "stack", nats_server.url, ALL_STAGES, extra_env=env, replicas={"transcribe": 1}
        ) as stack:
            with httpx.Client(base_url=stack.api_url, timeout=30) as client:
                job_id = submit(client, CONVERSATIONS / "two_voices.mp3")
                wait_completed(client, job_id, timeout_s=600)
                yield FullStack(stack, client, llm, transcript_words(client, job_id))
    finally:
        llm.close()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["transcode", "diarize", "transcribe", "assemble", "summarize"])
def test_worker_killed_mid_job_and_a_fresh_one_finishes_it_with_the_same_transcript(full_stack, stage):
    stack, client = full_stack.stack, full_stack.client
    # An extractive summary takes milliseconds: to kill summarize mid-message, hold an LLM call open.
    full_stack.llm.hang = stage == "summarize"
    job_id = submit(client, CONVERSATIONS / "two_voices.mp3")
    deadline = time.monotonic() + 600
    while stage_status(job := try_job(client, job_id), stage) != "running":
        assert job is None or job["status"] != "failed", job
        assert time.monotonic() < deadline, f"{stage} never ran: {job}"
        time.sleep(0.02)
    stack.kill(stage)
    full_stack.llm.hang = False
    killed = try_job(client, job_id)
    assert stage_status(killed, stage) == "running"  # killed before it finished
    stack.spawn(stage)  # unacked, its message comes back to the new process after the ack wait (5 s)
    job = wait_completed(client, job_id, timeout_s=600)
    words = transcript_words(client, job_id)
    if stage == "assemble":
        # Assemble handles each input in milliseconds and is "running" while it waits for the rest:
        # it was killed holding part of the fan-in, which the new process must pick up.
        assert stage_status(killed, "assemble") != "done"
    else:
        assert job["stages"][stage]["attempts"] >= 2  # the message was redelivered
    assert (
        words == full_stack.reference
        or word_error_rate(" ".join(full_stack.reference), " ".join(words)) < 0.05
    )
    assert_all_alive(stack)


# --- 4. the artifact volume full -----------------------------------------------------------------------


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs mounted for the test (needs root); skipped where mount is not permitted."""
    mount = tmp_path / "artifacts"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_artifact_volume_fails_the_job_with_a_reason_and_spares_the_next_one(
    nats_server, small_volume, tmp_path
):
    # Ingest's room check would answer 507 before any stage ran (tests/test_limits.py covers it): off
    # here, so the disk fills where it does when something else took the room, in transcode.
    env = fault_env(
        AODIO_STORAGE_BACKEND="directory",
        AODIO_STORAGE_DIRECTORY=str(small_volume),
        AODIO_INGEST_DISK_SPACE_FACTOR="0",
        AODIO_INGEST_MIN_FREE_BYTES="0",
    )
    big = looped(AUDIO / "en_two_voices.mp3", 5, tmp_path / "big.mp3")  # 2.6 MB: its FLAC will not fit
    with make_stack(tmp_path / "stack", nats_server.url, ("ingest", "transcode"), extra_env=env) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            with big.open("rb") as handle:
                reply = client.post("/v1/jobs", files={"file": (big.name, handle)}, data={"options": "{}"})
            if reply.status_code == 202:
                job_id = reply.json()["job_id"]
                failed = wait_until(client, job_id, lambda j: j["status"] == "failed", 120, "failed", True)
                reason = failed["error"]
                assert failed["failed_stage"] == "transcode", failed
                assert failed["stages"]["transcode"]["attempts"] == 1  # storage full: not retried
            else:
                reason = reply.json().get("detail", reply.text)
                assert reply.status_code in (413, 507), reply.text
            small = submit(client, AUDIO / "en_short.wav")
            ok = wait_until(
                client, small, lambda j: stage_status(j, "transcode") == "done", 120, "transcoded"
            )
            assert_all_alive(stack)
    assert "full" in reason.lower() or "no space" in reason.lower(), reason
    assert ok["status"] != "failed" and ok["chunks_total"] >= 1
