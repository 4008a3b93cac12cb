"""The consume loop against a real nats-server: ack, nak, term, dead letters, heartbeats, redelivery."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from nats.aio.msg import Msg
from nats.js import api

from contracts.events import DeadLetter, JobFailed, decode_event, encode
from contracts.subjects import message_id
from runtime.stage import Outcome
from runtime.worker import Worker
from tests.stagekit import ScriptedHandler, new_job_state, normalized, submitted


async def publish(bus, event) -> None:
    await bus.js.publish(
        bus.settings.topology.subject_for(event),
        encode(event),
        headers={"Nats-Msg-Id": message_id(event)},
    )


async def stored_messages(bus, subject: str) -> list[Msg]:
    """Every stored message on a subject (wildcards too), read with an ephemeral ordered consumer."""
    info = await bus.js.stream_info(bus.settings.topology.stream)
    found: list[Msg] = []
    if info.state.messages == 0:
        return found
    sub = await bus.js.subscribe(subject, ordered_consumer=True, deliver_policy=api.DeliverPolicy.ALL)
    try:
        while True:
            try:
                found.append(await sub.next_msg(timeout=0.5))
            except Exception:
                break
    finally:
        await sub.unsubscribe()
    return found


async def messages_on(bus, subject: str) -> list[bytes]:
    """The payload of every stored message on a subject."""
    return [msg.data for msg in await stored_messages(bus, subject)]


async def wait_for(predicate, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def run_until(bus, handler, tmp_path: Path, condition, timeout: float = 20.0):
    worker = Worker(
        handler,
        nc=bus.nc,
        settings=bus.settings,
        storage=None,
        jobs=bus.jobs,  # type: ignore[arg-type]
        scratch_dir=tmp_path,
        fetch_timeout_s=0.3,
    )
    task = asyncio.create_task(worker.run())
    try:
        return await wait_for(condition, timeout)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)


async def job_status(bus, job_id: str, status: str):
    state = await bus.jobs.get(job_id)
    return (
        state
        if state.status == status
        or (state.stages.get("transcode", None) and state.stages["transcode"].status == status)
        else None
    )


async def test_success_publishes_next_event_marks_stage_done_and_acks(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    state = await run_until(
        bus, ScriptedHandler(["ok"]), tmp_path, lambda: job_status(bus, job.job_id, "done")
    )
    assert state.stages["transcode"].attempts == 1
    out = await messages_on(bus, bus.settings.topology.subject_for(normalized_type()))
    assert [decode_event(m).job_id for m in out] == [job.job_id]
    info = await bus.js.consumer_info(bus.settings.topology.stream, "transcode")
    assert info.num_ack_pending == 0 and info.num_pending == 0


def normalized_type():
    from contracts.events import AudioNormalized

    return AudioNormalized


async def test_retryable_error_is_redelivered_then_succeeds(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    handler = ScriptedHandler(["retry", "ok"])
    state = await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "done"))
    assert handler.calls == [1, 2]
    assert state.stages["transcode"].attempts == 2 and state.stages["transcode"].error is None


async def test_permanent_error_fails_job_records_dead_letter_and_terms(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    handler = ScriptedHandler(["permanent"])
    state = await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "failed"))
    assert state.error == "upload is not audio: ffprobe found no audio stream"
    assert state.failed_stage == "transcode"
    assert handler.calls == [1]  # termed: never redelivered
    topology = bus.settings.topology
    letters = [
        msgspec.json.decode(m, type=DeadLetter)
        for m in await messages_on(bus, topology.dead_letter_subject("transcode"))
    ]
    assert len(letters) == 1 and letters[0].attempts == 1 and letters[0].job_id == job.job_id
    assert "ffprobe found no audio stream" in letters[0].reason
    failed = [decode_event(m) for m in await messages_on(bus, topology.subject_for(JobFailed))]
    assert len(failed) == 1 and failed[0].stage == "transcode"


async def test_retries_are_bounded_by_max_deliver(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    handler = ScriptedHandler(["crash"])
    state = await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "failed"))
    assert handler.calls == [1, 2, 3]
    assert state.error == "gave up after 3 attempts: unexpected bug"


async def test_malformed_event_is_dead_lettered_and_loop_keeps_running(bus, tmp_path):
    topology = bus.settings.topology
    await bus.js.publish(topology.subject_for(submitted_type()), b"{not json")
    await bus.js.publish(
        topology.subject_for(submitted_type()), b'{"type":"job.submitted","job_id":"../etc"}'
    )
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    await run_until(bus, ScriptedHandler(["ok"]), tmp_path, lambda: job_status(bus, job.job_id, "done"))
    letters = await messages_on(bus, topology.dead_letter_subject("transcode"))
    assert len(letters) == 2 and all(b"malformed event" in m for m in letters)


def submitted_type():
    from contracts.events import JobSubmitted

    return JobSubmitted


async def test_unknown_job_is_dead_lettered(bus, tmp_path):
    await publish(bus, submitted("job-doesnotexist"))

    async def lettered():
        return await messages_on(bus, bus.settings.topology.dead_letter_subject("transcode"))

    letters = await run_until(bus, ScriptedHandler(["ok"]), tmp_path, lettered)
    assert b"unknown job job-doesnotexist" in letters[0]


async def test_heartbeat_keeps_a_long_message_from_being_redelivered(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    handler = ScriptedHandler(["ok"], sleep_s=5.0)  # 2.5x the 2 s ack wait
    await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "done"))
    assert handler.calls == [1]


async def test_duplicate_publish_is_dropped_by_message_id(bus):
    event = submitted("job-duplicate1")
    await publish(bus, event)
    ack = await bus.js.publish(
        bus.settings.topology.subject_for(event),
        encode(event),
        headers={"Nats-Msg-Id": message_id(event)},
    )
    assert ack.duplicate
    assert len(await messages_on(bus, bus.settings.topology.subject_for(event))) == 1


async def test_progress_is_published_live(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    seen = []

    async def collect(msg):
        seen.append(msg.data)

    sub = await bus.nc.subscribe(bus.settings.topology.progress_subject(job.job_id), cb=collect)
    await publish(bus, submitted(job.job_id))
    await run_until(
        bus,
        ScriptedHandler(["ok"], sleep_s=0.2),
        tmp_path,
        lambda: job_status(bus, job.job_id, "done"),
    )
    await sub.unsubscribe()
    assert seen and b"half way" in seen[-1]


async def start_worker_process(
    bus, tmp_path, job_id: str, sleep_s: float, attempt: int = 1, serve: bool = False
) -> subprocess.Popen:
    """A stagekit worker in its own process, returned once it works on the job's message (that attempt).

    serve: run it as services run their stage (runtime.service.serve_stage), with a 1 s drain.
    """
    args = [
        sys.executable,
        "-m",
        "tests.stagekit",
        bus.settings.url,
        bus.settings.namespace,
        str(tmp_path),
        str(sleep_s),
        *(["serve"] if serve else []),
    ]
    worker = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=Path(__file__).parents[1])

    async def running():
        state = await bus.jobs.get(job_id)
        stage = state.stages.get("transcode")
        return stage and stage.status == "running" and stage.attempts >= attempt

    try:
        await wait_for(running, 30)
    except BaseException:
        worker.kill()
        raise
    return worker


async def test_killed_worker_message_is_redelivered_and_job_finishes_once(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    victim = await start_worker_process(bus, tmp_path, job.job_id, sleep_s=30)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    handler = ScriptedHandler(["ok"])
    state = await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "done"), 30)
    assert handler.calls == [2]  # the second delivery of the same message
    assert state.stages["transcode"].attempts == 2
    out = await messages_on(bus, bus.settings.topology.subject_for(normalized_type()))
    assert len(out) == 1


async def test_worker_dying_on_every_delivery_fails_the_job_instead_of_hanging(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    for attempt in range(1, bus.settings.max_deliver + 1):  # a job that kills its worker every time
        victim = await start_worker_process(bus, tmp_path, job.job_id, sleep_s=60, attempt=attempt)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
    handler = ScriptedHandler(["ok"])  # a healthy replica; it hears the server give up
    state = await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "failed"), 30)
    assert handler.calls == []
    assert "transcode worker stopped 3 times" in state.error and "out of memory" in state.error
    letters = await messages_on(bus, bus.settings.topology.dead_letter_subject("transcode"))
    assert len(letters) == 1 and job.job_id.encode() in letters[0]


async def test_sigterm_drains_the_message_in_flight(bus, tmp_path):
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    worker = await start_worker_process(bus, tmp_path, job.job_id, sleep_s=3)
    worker.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.wait, 20) == 0
    state = await bus.jobs.get(job.job_id)
    assert state.stages["transcode"].status == "done" and state.stages["transcode"].attempts == 1


async def test_a_service_exits_after_its_drain_though_a_handler_thread_still_works(bus, tmp_path):
    """The message the drain gave up on stays unacked (redelivered); the thread does not hold the exit."""
    job = new_job_state()
    await bus.jobs.create(job)
    await publish(bus, submitted(job.job_id))
    worker = await start_worker_process(bus, tmp_path, job.job_id, sleep_s=120, serve=True)
    worker.send_signal(signal.SIGTERM)
    try:
        assert await asyncio.to_thread(worker.wait, 30) == 0  # not after the thread's 120 s
    finally:
        worker.kill()
    state = await bus.jobs.get(job.job_id)
    assert state.stages["transcode"].status == "running"  # nothing acked: another replica takes it
    handler = ScriptedHandler(["ok"])
    state = await run_until(bus, handler, tmp_path, lambda: job_status(bus, job.job_id, "done"), 30)
    assert handler.calls == [2]


pytestmark = pytest.mark.timeout(120)


class LaneHandler:
    """Holds every long-lane message until released; records the order in which jobs finish."""

    stage = "transcode"

    def __init__(self) -> None:
        self.release_long = asyncio.Event()
        self.finished: list[str] = []

    async def handle(self, event, ctx):
        if event.lane == "long":
            await self.release_long.wait()
        self.finished.append(event.job_id)
        return Outcome(events=[normalized(event.job_id)])


async def test_short_jobs_pass_a_long_job_in_the_long_lane(bus, tmp_path):
    """One replica, concurrency 1: the long job holds its lane; short jobs queued after it still finish."""
    long_job, shorts = new_job_state(), [new_job_state() for _ in range(5)]
    for job in (long_job, *shorts):
        await bus.jobs.create(job)
    await publish(bus, msgspec.structs.replace(submitted(long_job.job_id), lane="long"))
    for job in shorts:
        await publish(bus, submitted(job.job_id))
    handler = LaneHandler()
    worker = Worker(
        handler, nc=bus.nc, settings=bus.settings, storage=None, jobs=bus.jobs, scratch_dir=tmp_path
    )
    task = asyncio.create_task(worker.run())
    try:
        short_ids = {job.job_id for job in shorts}
        await wait_for(lambda: _true(short_ids <= set(handler.finished)))
        assert long_job.job_id not in handler.finished  # still running: the shorts did not wait for it
        handler.release_long.set()
        await wait_for(lambda: job_status(bus, long_job.job_id, "done"))
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)
    # What the long job's message led to stays in the long lane, on its own subject.
    topology = bus.settings.topology
    out_long = await messages_on(bus, topology.subject_for(normalized_type(), "long"))
    assert [decode_event(m).lane for m in out_long] == ["long"]
    assert decode_event(out_long[0]).job_id == long_job.job_id
    out_standard = await messages_on(bus, topology.subject_for(normalized_type()))
    assert {decode_event(m).job_id for m in out_standard} == short_ids


async def _true(value: bool) -> bool:
    return value
