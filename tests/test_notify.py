"""Webhooks: the notify stage in the real consume loop, POSTing to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from contracts import keys
from contracts.events import DeadLetter, JobFailed, SummaryCompleted
from contracts.options import JobOptions
from contracts.state import JobState
from contracts.subjects import message_id
from runtime.egress import EgressPolicy
from runtime.settings import EgressSettings
from runtime.storage.base import Storage
from runtime.worker import Worker
from services.notify.config import NotifySettings
from services.notify.handler import NotifyHandler
from services.notify.signing import sign, verify_signature
from tests.stagekit import new_job_state
from tests.test_worker import messages_on, publish, wait_for

SECRET = "whsec-test-0123456789"
# The receivers here listen on 127.0.0.1, which the egress guard refuses unless allowed (test_egress.py).
LOCAL_RECEIVERS = EgressPolicy.from_settings(EgressSettings(allow="127.0.0.1/32"))


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        return json.loads(self.body)


class Receiver:
    """A real webhook receiver on 127.0.0.1: records every request, answers per path from a script."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: dict[str, list[int]] = {}  # path -> status codes in turn; the last one repeats
        self._lock = threading.Lock()
        receiver = self

        class Handle(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.requests.append(Received(self.path, headers, body))
                    script = receiver.answers.get(self.path, [200])
                    status = script.pop(0) if len(script) > 1 else script[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


async def new_job(bus, status: str = "completed", webhook_url: str | None = None) -> JobState:
    job = new_job_state()
    job.status = status  # type: ignore[assignment]
    job.original_name, job.duration_s, job.language = "réunion du lundi.mp3", 3725.5, "fr"
    job.options = JobOptions(webhook_url=webhook_url)
    await bus.jobs.create(job)
    return job


def completed(job_id: str) -> SummaryCompleted:
    return SummaryCompleted(
        job_id=job_id,
        summary_key=keys.summary_key(job_id, "json"),
        markdown_key=keys.summary_key(job_id, "md"),
        method="extractive",
    )


def notify_settled(bus, job_id: str) -> Callable[[], Awaitable[JobState | None]]:
    async def check() -> JobState | None:
        state = await bus.jobs.get(job_id)
        stage = state.stages.get("notify")
        return state if stage is not None and stage.status in ("done", "failed") else None

    return check


async def run_notify(
    bus,
    storage: Storage,
    tmp_path: Path,
    settings: NotifySettings,
    until: Callable[[], Awaitable],
    egress: EgressPolicy = LOCAL_RECEIVERS,
):
    """Run the notify stage in the real consume loop until `until` returns something."""
    handler = NotifyHandler(settings, egress)
    worker = Worker(
        handler,
        nc=bus.nc,
        settings=bus.settings,
        storage=storage,
        jobs=bus.jobs,
        scratch_dir=tmp_path,
        fetch_timeout_s=0.3,
    )
    task = asyncio.create_task(worker.run())
    try:
        return await wait_for(until)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)
        await handler.aclose()


async def test_completed_job_is_posted_once_signed_with_its_fields_and_links(
    bus, dir_storage, tmp_path, receiver
):
    hook = receiver.url("/hooks/aodio?token=abc")
    job = await new_job(bus, webhook_url=hook)
    event = completed(job.job_id)
    await publish(bus, event)
    settings = NotifySettings(
        webhook_url=hook,  # the same URL as the job's: called once
        webhook_secret=SECRET,  # type: ignore[arg-type]
        public_url="https://aodio.example.com/",
    )
    state = await run_notify(bus, dir_storage, tmp_path, settings, notify_settled(bus, job.job_id))

    assert state.stages["notify"].status == "done"
    assert state.stages["notify"].message == f"delivered to {receiver.host} (HTTP 200)"
    assert state.status == "completed"
    [request] = receiver.requests
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-aodio-event"] == "job.completed"
    assert headers["x-aodio-delivery"] == f"{message_id(event)}.0"
    assert verify_signature(SECRET, headers["x-aodio-timestamp"], request.body, headers["x-aodio-signature"])
    body = request.json()
    base = f"https://aodio.example.com/v1/jobs/{job.job_id}"
    assert body == {
        "event": "job.completed",
        "job_id": job.job_id,
        "status": "completed",
        "original_name": "réunion du lundi.mp3",
        "duration_s": 3725.5,
        "language": "fr",
        "error": None,
        "failed_stage": None,
        "links": {
            "job": base,
            "transcript": f"{base}/transcript",
            "summary": f"{base}/summary",
            "events": f"{base}/events",
        },
        "sent_at": body["sent_at"],
    }
    assert isinstance(body["sent_at"], float)


async def test_failed_job_is_posted_as_job_failed_with_the_reason(bus, dir_storage, tmp_path, receiver):
    job = await new_job(bus, status="failed")
    reason = "upload is not audio: ffprobe found no audio stream"
    await publish(bus, JobFailed(job_id=job.job_id, stage="transcode", reason=reason))
    settings = NotifySettings(webhook_url=receiver.url("/all-jobs"))  # the deployment's URL only
    state = await run_notify(bus, dir_storage, tmp_path, settings, notify_settled(bus, job.job_id))

    assert state.stages["notify"].status == "done"
    assert state.status == "failed"
    [request] = receiver.requests
    assert request.headers["x-aodio-event"] == "job.failed"
    assert "x-aodio-signature" not in request.headers  # no secret set
    body = request.json()
    assert body["event"] == "job.failed" and body["status"] == "failed"
    assert body["error"] == reason and body["failed_stage"] == "transcode"
    assert body["links"]["job"] == f"/v1/jobs/{job.job_id}"  # no public URL: relative links
    assert body["links"]["transcript"] is None and body["links"]["summary"] is None


async def test_busy_receiver_is_retried_with_the_same_delivery_id_and_others_are_not_resent(
    bus, dir_storage, tmp_path, receiver
):
    receiver.answers["/busy"] = [503, 503, 200]
    job = await new_job(bus, webhook_url=receiver.url("/ok"))
    await publish(bus, completed(job.job_id))
    settings = NotifySettings(webhook_url=receiver.url("/busy"), webhook_secret=SECRET)  # type: ignore[arg-type]
    state = await run_notify(bus, dir_storage, tmp_path, settings, notify_settled(bus, job.job_id))

    assert state.stages["notify"].status == "done" and state.stages["notify"].attempts == 3
    busy = receiver.to("/busy")
    assert len(busy) == 3
    assert len({r.headers["x-aodio-delivery"] for r in busy}) == 1
    assert len(receiver.to("/ok")) == 1  # delivered on the first attempt, never resent
    assert receiver.to("/ok")[0].headers["x-aodio-delivery"] != busy[0].headers["x-aodio-delivery"]
    for request in busy:
        assert verify_signature(
            SECRET, request.headers["x-aodio-timestamp"], request.body, request.headers["x-aodio-signature"]
        )
    assert state.stages["notify"].message == (
        f"delivered to {receiver.host} (HTTP 200), {receiver.host} (HTTP 200)"
    )


async def test_refused_delivery_fails_only_the_notify_stage_and_is_dead_lettered(
    bus, dir_storage, tmp_path, receiver
):
    receiver.answers["/gone"] = [410]
    job = await new_job(bus, webhook_url=receiver.url("/gone"))
    await publish(bus, completed(job.job_id))
    topology = bus.settings.topology

    async def failed_and_lettered() -> JobState | None:
        state = await notify_settled(bus, job.job_id)()
        letters = await messages_on(bus, topology.dead_letter_subject("notify"))
        return state if state is not None and letters else None

    state = await run_notify(bus, dir_storage, tmp_path, NotifySettings(), failed_and_lettered)

    notify = state.stages["notify"]
    assert notify.status == "failed"
    assert notify.error == f"webhook http://{receiver.host}/... refused the delivery: HTTP 410 Gone"
    assert state.status == "completed" and state.error is None and state.failed_stage is None
    assert len(receiver.requests) == 1  # termed, not retried
    [letter] = [
        msgspec.json.decode(m, type=DeadLetter)
        for m in await messages_on(bus, topology.dead_letter_subject("notify"))
    ]
    assert letter.job_id == job.job_id and "HTTP 410 Gone" in letter.reason
    assert await messages_on(bus, topology.subject_for(JobFailed)) == []  # the job did not fail


async def test_unreachable_receiver_is_retried_then_the_stage_gives_up(bus, dir_storage, tmp_path):
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    job = await new_job(bus, webhook_url=f"http://127.0.0.1:{closed_port}/hook")
    await publish(bus, completed(job.job_id))
    state = await run_notify(bus, dir_storage, tmp_path, NotifySettings(), notify_settled(bus, job.job_id))

    notify = state.stages["notify"]
    assert notify.status == "failed" and notify.attempts == bus.settings.max_deliver
    assert notify.error is not None and "could not be reached" in notify.error
    assert state.status == "completed"


async def test_no_webhook_configured_sends_nothing_and_the_stage_is_done(
    bus, dir_storage, tmp_path, receiver
):
    job = await new_job(bus)
    await publish(bus, completed(job.job_id))
    state = await run_notify(bus, dir_storage, tmp_path, NotifySettings(), notify_settled(bus, job.job_id))

    assert state.stages["notify"].status == "done"
    assert state.stages["notify"].message == "no webhook configured"
    assert receiver.requests == []


def test_verify_signature_rejects_a_tampered_body_a_wrong_secret_and_a_stale_timestamp():
    body = b'{"event":"job.completed","job_id":"job-0123456789ab"}'
    now = int(time.time())
    header = sign(SECRET, now, body)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify_signature(SECRET, str(now), body, header)
    assert not verify_signature(SECRET, str(now), body.replace(b"completed", b"failed"), header)
    assert not verify_signature("another-secret", str(now), body, header)
    assert not verify_signature(SECRET, str(now + 1), body, header)  # the timestamp is signed too
    stale = now - 301
    assert not verify_signature(SECRET, str(stale), body, sign(SECRET, stale, body))
    assert verify_signature(SECRET, str(stale), body, sign(SECRET, stale, body), tolerance_s=600)
    assert not verify_signature(SECRET, "not-a-number", body, header)
    assert not verify_signature(SECRET, str(now), body, "")
