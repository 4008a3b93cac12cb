"""Transcode publishes chunk 0 mid-decode, through the real consume loop on a real nats-server.

The upload of the normalized audio (after the whole decode) is held by a gate in the storage, so the
test looks at the stream while the transcode message is still unacked, without any timing.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from contracts import keys
from contracts.events import AudioNormalized, ChunkPlanned, Event, JobSubmitted, decode_event
from runtime.publish import publish_event
from runtime.replay import plan_replay, start_run
from runtime.storage.base import StorageUnavailable
from runtime.storage.directory import DirectoryStorage
from runtime.worker import Worker
from services.transcode.config import TranscodeSettings
from services.transcode.handler import TranscodeHandler
from tests.audio import AUDIO, looped
from tests.stagekit import new_job_state
from tests.test_worker import publish, stored_messages, wait_for

SETTINGS = TranscodeSettings(chunk_seconds=60, first_chunk_s=20)  # 163 s: chunk 0 of ~20 s, then 2


class GatedStorage(DirectoryStorage):
    """Directory storage whose upload of the normalized audio waits for the test (or fails, once)."""

    def __init__(self, root: Path, fail_first: bool = False) -> None:
        super().__init__(root)
        self.reached, self.gate, self.fail_first = threading.Event(), threading.Event(), fail_first

    def put_file(self, key: str, path: Path) -> int:
        if key.endswith("/audio/normalized.flac"):
            if self.fail_first:
                self.fail_first = False
                raise StorageUnavailable("storage is unreachable (the test's gate)")
            self.reached.set()
            self.gate.wait(timeout=120)
        return super().put_file(key, path)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return looped(AUDIO / "en_two_voices.mp3", 5, tmp_path_factory.mktemp("early") / "five.mp3")


async def stored(bus) -> list[tuple[int, Event]]:
    """(stream sequence, event) of every event on the stream, in order."""
    messages = await stored_messages(bus, f"{bus.settings.topology.prefix}.>")
    return [
        (msg.metadata.sequence.stream, decode_event(msg.data))
        for msg in messages
        if ".dead_letter." not in msg.subject
    ]


async def start(bus, storage: DirectoryStorage, recording: Path, tmp_path: Path):
    """A job whose upload is stored and submitted, and a transcode worker running on it."""
    job = new_job_state()
    await bus.jobs.create(job)
    source_key = f"jobs/{job.job_id}/source/five.mp3"
    storage.put_file(source_key, recording)
    submitted = JobSubmitted(job_id=job.job_id, source_key=source_key, original_name="five.mp3", size_bytes=1)
    await publish(bus, submitted)
    worker = Worker(
        TranscodeHandler(SETTINGS),
        nc=bus.nc,
        settings=bus.settings,
        storage=storage,
        jobs=bus.jobs,
        scratch_dir=tmp_path / "scratch",
        fetch_timeout_s=0.3,
    )
    return job.job_id, worker, asyncio.create_task(worker.run())


async def transcoded(bus, job_id: str):
    state = await bus.jobs.get(job_id)
    stage = state.stages.get("transcode")
    return state if stage is not None and stage.status == "done" else None


def chunks_of(events: list[tuple[int, Event]]) -> list[ChunkPlanned]:
    return [e for _, e in events if isinstance(e, ChunkPlanned)]


async def test_chunk_0_is_on_the_stream_before_the_transcode_is_acked(bus, recording, tmp_path):
    storage = GatedStorage(tmp_path / "artifacts")
    job_id, worker, task = await start(bus, storage, recording, tmp_path)
    try:
        assert await asyncio.to_thread(storage.reached.wait, 120)  # the decode is done, nothing acked
        early = await stored(bus)
        (first,) = chunks_of(early)
        assert (first.index, first.count, first.start_s) == (0, 3, 0.0)
        assert not any(isinstance(e, AudioNormalized) for _, e in early)
        info = await bus.js.consumer_info(bus.settings.topology.stream, "transcode")
        assert info.num_ack_pending == 1  # the transcode message is still in flight
        state = await bus.jobs.get(job_id)
        assert state.chunks_total == 3 and state.stages["transcode"].status == "running"
        assert storage.exists(keys.chunk_audio_key(job_id, 0))

        storage.gate.set()
        state = await wait_for(lambda: transcoded(bus, job_id), timeout=60)
        assert state.chunks_total == 3 and state.stages["transcode"].attempts == 1
        events = await stored(bus)
        assert [c.index for c in chunks_of(events)] == [0, 1, 2]  # chunk 0 once, then the others
        assert chunks_of(events)[0] == first and chunks_of(events)[1].start_s == first.end_s
        normalized_seq = next(seq for seq, e in events if isinstance(e, AudioNormalized))
        assert events[1][0] < normalized_seq  # events[0] is the job.submitted
        info = await bus.js.consumer_info(bus.settings.topology.stream, "transcode")
        assert info.num_ack_pending == 0 and info.num_pending == 0
    finally:
        storage.gate.set()
        worker.stop()
        await asyncio.wait_for(task, 30)


async def test_a_retry_after_chunk_0_went_out_publishes_it_once(bus, recording, tmp_path):
    """Attempt 1 fails after the early publish; attempt 2 cuts the same chunk 0, JetStream drops it."""
    storage = GatedStorage(tmp_path / "artifacts", fail_first=True)
    storage.gate.set()
    job_id, worker, task = await start(bus, storage, recording, tmp_path)
    try:
        state = await wait_for(lambda: transcoded(bus, job_id), timeout=90)
        assert state.stages["transcode"].attempts == 2 and state.chunks_total == 3
        chunks = chunks_of(await stored(bus))
        assert [c.index for c in chunks] == [0, 1, 2]
        assert chunks[1].start_s == chunks[0].end_s  # the second run cut chunk 0 where the first did
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)


async def test_a_replay_from_transcode_announces_its_own_count(bus, recording, tmp_path):
    """The new run's chunk 0 goes out with the new count, and the state says it, not the old one."""
    storage = GatedStorage(tmp_path / "artifacts")
    storage.gate.set()
    job_id, worker, task = await start(bus, storage, recording, tmp_path)
    try:
        await wait_for(lambda: transcoded(bus, job_id), timeout=60)

        def finished(state):  # as if the rest of the pipeline had run (this test runs transcode only)
            state.status, state.original_name = "completed", "five.mp3"
            state.outputs["source"] = f"jobs/{job_id}/source/five.mp3"

        state = await bus.jobs.update(job_id, finished)
        assert state.chunks_total == 3
        plan = plan_replay(state, "transcode", {"chunk_seconds": 30}, storage)
        restarted = await bus.jobs.update(job_id, lambda s: start_run(s, plan))
        assert restarted.chunks_total is None  # the old run's count is not the new one's
        storage.reached.clear()
        storage.gate.clear()
        for event in plan.events:
            await publish_event(bus.js, bus.settings.topology, event)
        assert await asyncio.to_thread(storage.reached.wait, 120)
        state = await bus.jobs.get(job_id)
        assert state.generation == 2 and state.chunks_total == 6  # 143 s after chunk 0, in 30 s chunks
        early = [c for c in chunks_of(await stored(bus)) if c.generation == 2]  # out before the FLAC
        assert [(c.index, c.count) for c in early] == [(i, 6) for i in range(len(early))] and len(early) < 6
        storage.gate.set()
        state = await wait_for(lambda: transcoded(bus, job_id), timeout=60)
        again = [c for c in chunks_of(await stored(bus)) if c.generation == 2]
        assert [c.index for c in again] == list(range(6)) and state.chunks_total == 6
    finally:
        storage.gate.set()
        worker.stop()
        await asyncio.wait_for(task, 30)


async def test_waiting_on_the_loop_works_from_a_thread_and_is_refused_on_the_loop():
    """StageContext.publish and the early job update block on the loop (runtime.stage.wait_on_loop)."""
    from runtime.stage import wait_on_loop

    loop = asyncio.get_running_loop()

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert await asyncio.to_thread(wait_on_loop, answer(), loop, 5) == 42
    with pytest.raises(RuntimeError, match="handler's thread"):
        wait_on_loop(answer(), loop, 5)  # here, on the loop: waiting would never end
    with pytest.raises(TimeoutError):
        await asyncio.to_thread(wait_on_loop, asyncio.sleep(30), loop, 0.2)
