"""Test doubles of *handlers* (not of servers): small stages that run in the real consume loop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

from contracts.events import AudioNormalized, JobSubmitted, PipelineEvent
from contracts.state import JobState
from runtime.bus import connect, provision
from runtime.errors import PermanentError, RetryableError
from runtime.jobs import JobStore
from runtime.settings import NatsSettings
from runtime.stage import Outcome, StageContext
from runtime.storage.directory import DirectoryStorage
from runtime.worker import Worker


def test_settings(url: str, **overrides: object) -> NatsSettings:
    """Settings on a unique namespace with short timings, so tests are isolated and quick."""
    values: dict[str, object] = {
        "url": url,
        "namespace": "t" + uuid.uuid4().hex[:10],
        "ack_wait_s": 2.0,
        "max_deliver": 3,
        "retry_backoff_s": [0.2],
        "drain_timeout_s": 10.0,
    }
    values.update(overrides)
    return NatsSettings(**values)  # type: ignore[arg-type]


def new_job_state(job_id: str | None = None) -> JobState:
    return JobState(job_id=job_id or f"job-{uuid.uuid4().hex[:12]}", created_at=time.time())


def submitted(job_id: str) -> JobSubmitted:
    return JobSubmitted(
        job_id=job_id, source_key=f"jobs/{job_id}/source/a.mp3", original_name="a.mp3", size_bytes=1
    )


def normalized(job_id: str) -> AudioNormalized:
    return AudioNormalized(
        job_id=job_id,
        normalized_key=f"jobs/{job_id}/audio/normalized.flac",
        duration_s=1.0,
        chunk_count=1,
    )


class ScriptedHandler:
    """Acts on the transcode subject: behaviour per attempt is scripted by the test."""

    stage = "transcode"

    def __init__(self, script: list[str], sleep_s: float = 0.0) -> None:
        self.script, self.sleep_s = script, sleep_s
        self.calls: list[int] = []

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        self.calls.append(ctx.attempt)
        action = self.script[min(len(self.calls), len(self.script)) - 1]
        if self.sleep_s:
            await asyncio.to_thread(time.sleep, self.sleep_s)
        ctx.progress(1.0, 2.0, "s", "half way")
        if action == "retry":
            raise RetryableError("the dependency is down")
        if action == "permanent":
            raise PermanentError("upload is not audio: ffprobe found no audio stream")
        if action == "crash":
            raise RuntimeError("unexpected bug")
        return Outcome(events=[normalized(event.job_id)])


async def run_worker_process(url: str, namespace: str, data_dir: str, sleep_s: float) -> None:
    """Entry point for a worker in its own process (killed with SIGKILL by a test)."""
    settings = test_settings(url, namespace=namespace)
    nc = await connect(settings)
    js = nc.jetstream()
    await provision(js, settings, settings.topology)
    jobs = await JobStore.open(js, settings.topology.jobs_bucket)
    worker = Worker(
        ScriptedHandler(["ok"], sleep_s=sleep_s),
        nc=nc,
        settings=settings,
        storage=DirectoryStorage(Path(data_dir)),
        jobs=jobs,
        scratch_dir=Path(data_dir),
    )
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, worker.stop)
    print("ready", flush=True)
    await worker.run()
    await nc.drain()


async def serve_process(url: str, namespace: str, data_dir: str, sleep_s: float) -> None:
    """The same handler run as services run their stage (runtime.service), with a 1 s drain."""
    from runtime.service import serve_stage
    from runtime.settings import StorageSettings

    settings = test_settings(url, namespace=namespace, drain_timeout_s=1.0)
    storage = StorageSettings(directory=Path(data_dir), scratch_dir=Path(data_dir) / "scratch")
    await serve_stage(ScriptedHandler(["ok"], sleep_s=sleep_s), settings, storage)


if __name__ == "__main__":
    url, namespace, data_dir, sleep_s = sys.argv[1:5]
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    entry = serve_process if sys.argv[5:] == ["serve"] else run_worker_process
    asyncio.run(entry(url, namespace, data_dir, float(sleep_s)))
