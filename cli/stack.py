"""The embedded default on one machine: nats-server, optional local S3, every built service, the API."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.embedded import NatsServer, WeedMini, free_ports
from services.registry import SERVICE_MODULES

if TYPE_CHECKING:
    from services.summarize.llm_server import LlamaServer

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    """The local stack could not start; the message says what to do."""


def check_tools() -> None:
    """Fail early, with the fix, when ffmpeg is missing."""
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        raise StackError(f"{' and '.join(missing)} not found: run `make setup` (installs Debian's ffmpeg)")


def default_replicas() -> dict[str, int]:
    """One transcribe process per core (each runs one model thread), one of everything else."""
    return {"transcribe": max(1, min(4, os.cpu_count() or 1))}


class LocalStack:
    """Starts everything in one process tree and stops all of it, in reverse order."""

    def __init__(
        self,
        data_dir: Path,
        api_port: int = 8000,
        s3: bool = False,
        host: str = "127.0.0.1",
        nats_url: str | None = None,
        extra_env: dict[str, str] | None = None,
        stages: tuple[str, ...] | None = None,
        replicas: dict[str, int] | None = None,
    ) -> None:
        self.stages = stages or tuple(SERVICE_MODULES)
        self.replicas = {**default_replicas(), **(replicas or {})}
        self.data_dir = data_dir.resolve()
        self.api_port = api_port or free_ports(1)[0]
        self.host, self.s3 = host, s3
        self.external_nats_url, self.extra_env = nats_url, extra_env or {}
        self.nats = NatsServer(self.data_dir / "nats", log_file=self.data_dir / "logs" / "nats-server.log")
        self.weed: WeedMini | None = None
        self.llm: LlamaServer | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            AODIO_NATS_URL=self.external_nats_url or self.nats.url,
            AODIO_INGEST_HOST=self.host,
            AODIO_INGEST_PORT=str(self.api_port),
            AODIO_STORAGE_SCRATCH_DIR=str(self.data_dir / "scratch"),
            PYTHONUNBUFFERED="1",
        )
        if self.weed is not None:
            env.update(
                AODIO_STORAGE_BACKEND="s3",
                AODIO_STORAGE_S3_ENDPOINT=self.weed.endpoint,
                AODIO_STORAGE_S3_ACCESS_KEY=self.weed.access_key,
                AODIO_STORAGE_S3_SECRET_KEY=self.weed.secret_key,
            )
        else:
            env.setdefault("AODIO_STORAGE_BACKEND", "directory")
            env.setdefault("AODIO_STORAGE_DIRECTORY", str(self.data_dir / "artifacts"))
        # Until a diarize service is deployed, transcripts are assembled without speakers.
        env.setdefault("AODIO_ASSEMBLE_REQUIRE_DIARIZATION", str("diarize" in self.stages).lower())
        env.update(self.extra_env)
        if self.llm is not None:
            env["AODIO_SUMMARIZE_LOCAL_SERVER_URL"] = self.llm.address
        return env

    def _start_local_llm(self) -> None:
        """One llama.cpp server shared by several summarize replicas, when the summary model is local.

        With one replica (the default) the summarize process starts its own server when a summary
        needs it and stops it when idle, so its ~2 GiB are not held while the other stages work.
        """
        model = self.extra_env.get("AODIO_SUMMARIZE_MODEL") or os.environ.get("AODIO_SUMMARIZE_MODEL")
        already = self.extra_env.get("AODIO_SUMMARIZE_LOCAL_SERVER_URL") or os.environ.get(
            "AODIO_SUMMARIZE_LOCAL_SERVER_URL"
        )
        if "summarize" not in self.stages or already or self.replicas.get("summarize", 1) < 2:
            return
        from services.summarize.config import SummarizeSettings
        from services.summarize.llm_server import LlamaServer
        from services.summarize.models import resolve_gguf

        settings = SummarizeSettings(model=model) if model else SummarizeSettings()
        if not settings.model.startswith("local/"):
            return  # a hosted provider: nothing to start
        name = settings.model.split("/", 1)[1]
        gguf = resolve_gguf(name, settings.model_cache_dir)
        self.llm = LlamaServer(
            gguf, name, n_ctx=settings.local_n_ctx, log_file=self.data_dir / "logs" / "llama-server.log"
        )
        self.llm.start()

    def start(self, timeout_s: float = 60.0) -> None:
        check_tools()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        if self.external_nats_url is None:
            self.nats.start()
        if self.s3:
            self.weed = WeedMini(self.data_dir / "s3", log_file=self.data_dir / "logs" / "weed.log")
            self.weed.start()
        self._start_local_llm()
        for stage in self.stages:
            count = self.replicas.get(stage, 1)
            for replica in range(1, count + 1):
                self.spawn(stage if count == 1 else f"{stage}.{replica}")
        self._wait_healthy(timeout_s)

    def spawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start (or restart) one service process ("transcribe.2": a replica), logging to logs/<name>.log."""
        stage = name.split(".")[0]
        with (self.data_dir / "logs" / f"{name}.log").open("ab") as logfile:
            child = subprocess.Popen(
                [sys.executable, "-m", SERVICE_MODULES[stage]],
                env=self.environment(),
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )
        self.children[name] = child
        return child

    def kill(self, name: str) -> None:
        """SIGKILL one service process (a crash, for tests)."""
        child = self.children[name]
        child.kill()
        child.wait()

    def _wait_healthy(self, timeout_s: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for stage, child in self.children.items():
                if child.poll() is not None:
                    raise StackError(f"{stage} exited at start-up: see {self.data_dir}/logs/{stage}.log")
            try:
                if httpx.get(f"{self.api_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise StackError(f"the API did not become healthy in {timeout_s:.0f} s: see {self.data_dir}/logs")

    def dead_children(self) -> list[str]:
        return [stage for stage, child in self.children.items() if child.poll() is not None]

    def stop(self, grace_s: float = 15.0) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in self.children.values():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()
        if self.llm is not None:
            self.llm.stop()
        if self.weed is not None:
            self.weed.stop()
        if self.external_nats_url is None:
            self.nats.stop()

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
