"""The ingest API as a real process over a real nats-server: uploads, job state, clear 4xx errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack

LIMIT = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def api(nats_server, tmp_path_factory) -> Iterator[tuple[httpx.Client, Path]]:
    data = tmp_path_factory.mktemp("ingest")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_INGEST_MAX_UPLOAD_BYTES": str(LIMIT),
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            yield client, data / "artifacts"


def stored_jobs(artifacts: Path) -> set[str]:
    return {p.name for p in (artifacts / "jobs").iterdir()} if (artifacts / "jobs").exists() else set()


def test_health(api):
    client, _ = api
    assert client.get("/healthz").json() == {"ok": True, "problems": []}


def test_upload_is_stored_and_the_job_is_queued(api):
    client, artifacts = api
    body = b"ID3" + bytes(range(256)) * 4000
    reply = client.post(
        "/v1/jobs", files={"file": ("réunion 1.mp3", body)}, data={"options": '{"language": "fr"}'}
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    state = client.get(f"/v1/jobs/{job_id}").json()
    assert state["status"] in ("queued", "running", "failed")
    assert state["options"] == {"language": "fr"} and state["size_bytes"] == len(body)
    assert state["stages"]["ingest"]["status"] == "done"
    stored = artifacts / state["outputs"]["source"]
    assert stored.read_bytes() == body and stored.name == "r_union_1.mp3"
    download = client.get(f"/v1/jobs/{job_id}/outputs/source")
    assert download.status_code == 200 and download.content == body


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"files": {"options": (None, "{}")}}, 400, "no file"),
        ({"data": {"options": "{}"}}, 415, "multipart/form-data"),
        (
            {"content": b"raw bytes", "headers": {"content-type": "audio/mpeg"}},
            415,
            "multipart/form-data",
        ),
        ({"files": {"file": ("empty.mp3", b"")}}, 400, "upload is empty"),
        (
            {"files": {"file": ("a.mp3", b"x" * 100)}, "data": {"options": "{bad"}},
            422,
            "bad options",
        ),
        (
            {"files": {"file": ("a.mp3", b"x" * 100)}, "data": {"options": '{"speakers": 0}'}},
            422,
            "speakers",
        ),
        (
            {"files": {"file": ("a.mp3", b"x" * 100)}, "data": {"options": '{"shoe": 1}'}},
            422,
            "shoe",
        ),
        ({"files": {"file": ("big.mp3", b"x" * (LIMIT + 10))}}, 413, "larger than the limit"),
    ],
    ids=[
        "no-file",
        "urlencoded",
        "not-multipart",
        "empty",
        "malformed-options",
        "bad-speakers",
        "unknown-option",
        "too-big",
    ],
)
def test_bad_uploads_get_a_clear_error_and_leave_nothing(api, kwargs, status, reason):
    client, artifacts = api
    before = stored_jobs(artifacts)
    reply = client.post("/v1/jobs", **kwargs)
    assert reply.status_code == status, reply.text
    assert reason in reply.json()["detail"]
    assert stored_jobs(artifacts) == before


def test_oversized_upload_without_content_length_is_cut_off(api):
    client, artifacts = api
    before = stored_jobs(artifacts)

    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n'
        for _ in range(LIMIT // 65536 + 10):
            yield b"y" * 65536
        yield b"\r\n--b--\r\n"

    reply = client.post(
        "/v1/jobs", content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert reply.status_code == 413 and "larger than the limit" in reply.json()["detail"]
    assert stored_jobs(artifacts) == before


@pytest.mark.parametrize("job_id", ["20991231-000000-00000000", "NOT-A-JOB-ID", "x"])
def test_unknown_job_is_404(api, job_id):
    client, _ = api
    reply = client.get(f"/v1/jobs/{job_id}")
    assert reply.status_code == 404 and "unknown job" in reply.json()["detail"]


def test_unknown_output_lists_what_exists(api):
    client, _ = api
    job_id = client.post("/v1/jobs", files={"file": ("a.wav", b"RIFF" + b"0" * 64)}).json()["job_id"]
    reply = client.get(f"/v1/jobs/{job_id}/outputs/transcript_srt")
    assert reply.status_code == 404 and "source" in reply.json()["detail"]


def test_ingest_on_the_ipv6_wildcard_also_answers_ipv4_clients() -> None:
    """AODIO_INGEST_HOST="::" (Railway's private network) must still take 127.0.0.1, the health check's."""
    import threading
    import time

    import httpx
    import uvicorn

    from services.ingest.main import dual_stack_socket

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    assert dual_stack_socket("0.0.0.0", 0) is None  # other hosts: uvicorn opens its own socket
    sock = dual_stack_socket("::", 0)
    assert sock is not None
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="::", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        for url in (f"http://127.0.0.1:{port}/", f"http://[::1]:{port}/"):
            assert httpx.get(url, timeout=5).text == "ok", url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_ingest_stops_on_sigterm_with_exit_status_0(nats_server, tmp_path) -> None:
    """uvicorn re-raises the SIGTERM it shut down on: a clean stop must not read as a kill (143)."""
    import signal

    env = {"AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10]}
    stack = LocalStack(tmp_path, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",))
    with stack:
        child = stack.children["ingest"]
        assert httpx.get(f"{stack.api_url}/healthz", timeout=10).status_code == 200
        child.send_signal(signal.SIGTERM)
        assert child.wait(30) == 0
