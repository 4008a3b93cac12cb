"""Helpers for fault tests: a stack on real processes, a job watched through the API while parts fail."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from cli.stack import LocalStack

# The fast models the other end-to-end tests use: tiny.en transcription, an extractive summary.
FAST_MODELS = {
    "AODIO_TRANSCRIBE_MODEL": "tiny.en",
    "AODIO_SUMMARIZE_METHOD": "extractive",
    "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: the stack starts no llama.cpp server
}


def fault_env(**overrides: str) -> dict[str, str]:
    """A fresh namespace, the fast models, and short delivery timers so redeliveries come quickly."""
    env = {
        "AODIO_NATS_NAMESPACE": "f" + uuid.uuid4().hex[:10],
        "AODIO_NATS_ACK_WAIT_S": "5",
        "AODIO_NATS_MAX_DELIVER": "10",
        "AODIO_NATS_RETRY_BACKOFF_S": "[2, 4, 8]",
        **FAST_MODELS,
    }
    env.update(overrides)
    return env


def make_stack(data: Path, nats_url: str, stages: tuple[str, ...], **kwargs: object) -> LocalStack:
    """A LocalStack on an external nats-server, the API on a free port, fault_env() unless given."""
    env = kwargs.pop("extra_env", None) or fault_env()
    return LocalStack(data, api_port=0, nats_url=nats_url, extra_env=env, stages=stages, **kwargs)  # type: ignore[arg-type]


def submit(client: httpx.Client, path: Path, options: str = "{}") -> str:
    with path.open("rb") as handle:
        reply = client.post("/v1/jobs", files={"file": (path.name, handle)}, data={"options": options})
    assert reply.status_code == 202, reply.text
    return reply.json()["job_id"]


def try_job(client: httpx.Client, job_id: str) -> dict | None:
    """The job as the API reports it, or None while the API cannot answer (its NATS is down)."""
    try:
        reply = client.get(f"/v1/jobs/{job_id}", timeout=5)
    except httpx.TransportError:
        return None
    return reply.json() if reply.status_code == 200 else None


def stage_status(job: dict | None, stage: str) -> str | None:
    return None if job is None else job["stages"].get(stage, {}).get("status")


def wait_until(
    client: httpx.Client,
    job_id: str,
    condition: Callable[[dict], bool],
    timeout_s: float,
    what: str,
    allow_failed: bool = False,
) -> dict:
    """Poll the job until condition holds; a failed job (unless allowed) or the deadline raises."""
    deadline = time.monotonic() + timeout_s
    job = None
    while time.monotonic() < deadline:
        seen = try_job(client, job_id)
        if seen is not None:
            job = seen
            if condition(job):
                return job
            assert allow_failed or job["status"] != "failed", f"job failed: {job['error']} ({job})"
        time.sleep(0.2)
    raise AssertionError(f"job {job_id}: {what} not reached in {timeout_s:.0f} s; last state {job}")


def wait_completed(client: httpx.Client, job_id: str, timeout_s: float = 600) -> dict:
    return wait_until(client, job_id, lambda j: j["status"] == "completed", timeout_s, "completed")


def wait_assembled(client: httpx.Client, job_id: str, timeout_s: float = 600) -> dict:
    return wait_until(client, job_id, lambda j: stage_status(j, "assemble") == "done", timeout_s, "assembled")


def transcript_words(client: httpx.Client, job_id: str) -> list[str]:
    """The transcript's words, lower-cased, punctuation dropped (for comparing two runs)."""
    transcript = client.get(f"/v1/jobs/{job_id}/outputs/transcript_json").json()
    text = " ".join(w["text"] for s in transcript["segments"] for w in s["words"])
    return re.findall(r"[a-z0-9']+", text.lower())


def transcript_text(client: httpx.Client, job_id: str) -> str:
    transcript = client.get(f"/v1/jobs/{job_id}/outputs/transcript_json").json()
    return "".join(w["text"] for s in transcript["segments"] for w in s["words"]).strip()


def handled(data: Path, stage: str, job_id: str) -> int:
    """How many of the job's messages the stage's processes logged as handled (acked) so far."""
    return sum(
        1
        for log in (data / "logs").glob(f"{stage}*.log")
        for line in log.read_text(errors="replace").splitlines()
        if job_id in line and " handled (attempt " in line
    )


def log_tail(data: Path, lines: int = 40) -> str:
    """The last lines of every log of a stack, for an assertion message."""
    parts = []
    for log in sorted((data / "logs").glob("*.log")):
        text = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"==== {log.name}\n" + "\n".join(text))
    return "\n".join(parts)


class HungLlm:
    """A FAKE OpenAI-compatible endpoint (no LLM can be reached from a test): it either hangs on
    every request (`hang = True`), so a summary is in flight for as long as a test needs, or
    refuses it with HTTP 400, which the summarize stage answers with its extractive summary."""

    def __init__(self) -> None:
        import socket
        import threading

        self.hang = False
        self._release = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        import threading

        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn) -> None:  # type: ignore[no-untyped-def]
        with conn:
            conn.settimeout(600)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                if self.hang:
                    self._release.wait(600)  # hold the request open; the caller is killed meanwhile
                    return
                body = b'{"error": {"message": "fake endpoint: no model", "type": "invalid_request_error"}}'
                head = (
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                )
                conn.sendall(head.encode() + body)
            except OSError:
                return

    def close(self) -> None:
        self._release.set()
        self._sock.close()

    def env(self) -> dict[str, str]:
        """Summarize settings that send every summary to this endpoint."""
        return {
            "AODIO_SUMMARIZE_METHOD": "llm",
            "AODIO_SUMMARIZE_MODEL": "openai/fault-fake",
            "AODIO_SUMMARIZE_API_BASE": self.api_base,
            "AODIO_SUMMARIZE_API_KEY": "fake",
            "AODIO_SUMMARIZE_REQUEST_TIMEOUT_S": "600",
        }
