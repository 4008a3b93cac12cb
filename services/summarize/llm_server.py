"""llama-cpp-python's OpenAI-compatible server as a child process, for the offline default and the tests.

The summarize stage speaks to it through litellm as ``openai/<alias>`` with ``api_base``, like any
OpenAI-compatible server. It binds 127.0.0.1 on a free port, logs to a file, and is ready once
``GET /v1/models`` lists the model. ``--logits_all False`` keeps the logits of the last token only
(otherwise n_ctx x vocabulary floats: twice the memory). The server is llama-cpp-python's, run
through services/summarize/llama_serve.py so that a JSON grammar checks the sampled token instead of
filtering the whole vocabulary every token (grammar_sampling.py). The wheel is built once by
``scripts/build_llama_wheel.sh`` (PyPI has only the source).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import httpx

from runtime.embedded import EmbeddedServerError, _Process, free_ports

__all__ = ["LlamaServer", "llama_server_missing"]

_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")


def llama_server_missing() -> str | None:
    """Why the llama.cpp server cannot run here, or None when it can."""
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        return (
            f"llama-cpp-python's server is not installed ({', '.join(missing)} missing): "
            "run scripts/build_llama_wheel.sh"
        )
    return None


class LlamaServer(_Process):
    """One GGUF model served on 127.0.0.1 by llama-cpp-python's server (``llama_serve``)."""

    name = "llama-server"
    default_timeout = 180.0  # a 1.1 GB model maps in seconds; a cold page cache takes longer
    stop_timeout = 5.0

    def __init__(
        self,
        model_path: Path,
        alias: str,
        *,
        n_ctx: int = 8192,
        threads: int = 0,
        port: int = 0,
        log_file: Path | None = None,
    ) -> None:
        super().__init__(log_file or Path("data/logs") / f"llama-server-{alias}.log")
        self.model_path = Path(model_path)
        self.alias = alias
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 1
        self.port = port

    @property
    def address(self) -> str:
        """The OpenAI-compatible base URL (what litellm calls api_base)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def peak_rss_bytes(self) -> int | None:
        """The server's peak resident memory so far (VmHWM), on Linux."""
        if self.pid is None:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def _has_ports(self) -> bool:
        return self.port != 0

    def _pick_ports(self) -> None:
        self.port = free_ports(1)[0]

    def _argv(self) -> list[str]:
        if not self.model_path.is_file():
            raise EmbeddedServerError(f"model file {self.model_path} does not exist")
        threads = str(self.threads)
        # OpenMP's idle threads spin by default: on a machine whose cores other stages also use, that
        # made a 60-token answer take 150 s instead of 1 s (2 threads, 2 busy cores). PASSIVE sleeps.
        return [
            "env", "OMP_WAIT_POLICY=PASSIVE",
            sys.executable, "-m", "services.summarize.llama_serve",
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_batch", "512",
            "--n_threads", threads,
            "--n_threads_batch", threads,
            "--logits_all", "False",
            "--verbose", "False",
        ]  # fmt: skip

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise self._fail("exited during start-up")
                try:
                    response = client.get(f"{self.address}/models")
                    if response.status_code == 200 and any(
                        m.get("id") == self.alias for m in response.json().get("data", [])
                    ):
                        return
                except (httpx.HTTPError, ValueError):
                    pass
                time.sleep(0.2)
        raise self._fail(f"not ready on port {self.port} after {timeout:.0f} s")
