"""The embedded default on one machine: nats-server, optional local S3, every built service, the API."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cli.datalock import DataLock
from cli.supervisor import Supervised, Supervisor
from runtime.embedded import NatsServer, WeedMini, _Process, die_with_parent, free_ports
from runtime.memory import tuned_environment
from runtime.registry import SERVICE_MODULES

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


class _ServiceProcess:
    """One service process of the stack, as the supervisor sees it."""

    def __init__(self, stack: LocalStack, name: str) -> None:
        self.stack, self.name = stack, name
        self.log_file = stack.log_file(name)

    def exit_code(self) -> int | None:
        return self.stack.children[self.name].poll()

    def pid(self) -> int | None:
        return self.stack.children[self.name].pid

    def restart(self) -> None:
        self.stack.spawn(self.name)


class _ServerProcess:
    """An embedded server (nats-server, S3, llama.cpp), as the supervisor sees it."""

    def __init__(self, server: _Process) -> None:
        self.server, self.name, self.log_file = server, server.name, server.log_file

    def exit_code(self) -> int | None:
        return self.server.exit_code()

    def pid(self) -> int | None:
        return self.server.pid

    def restart(self) -> None:
        self.server.kill()  # closes its log and, for weed, removes the sockets it left
        self.server.start()  # on the same ports and store, so clients reconnect to it


class LocalStack:
    """Starts everything in one process tree and stops all of it, in reverse order.

    It holds the data folder's lock while it runs (a second stack on the folder is refused), and
    with supervise=True restarts any process that exits (see cli/supervisor.py), telling `report`.
    """

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
        supervise: bool = False,
        report: Callable[[str], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.stages = stages or tuple(SERVICE_MODULES)
        self.replicas = {**default_replicas(), **(replicas or {})}
        self.data_dir = data_dir.resolve()
        self.api_port = api_port or free_ports(1)[0]
        self.host, self.s3 = host, s3
        self.external_nats_url, self.extra_env = nats_url, extra_env or {}
        self.nats = NatsServer(self.data_dir / "nats", log_file=self.data_dir / "logs" / "nats-server.log")
        self.nats.die_with_parent = True
        self.weed: WeedMini | None = None
        self.llm: LlamaServer | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = DataLock(self.data_dir)
        self.supervise, self.on_failure = supervise, on_failure
        self.report = report or (lambda line: log.warning("%s", line))
        self.supervisor: Supervisor | None = None

    @property
    def supervisor_file(self) -> Path:
        """Where the supervisor writes what it restarted (the API's /healthz reads it)."""
        return self.data_dir / "supervisor.json"

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
        if self.supervise:
            env["AODIO_INGEST_SUPERVISOR_FILE"] = str(self.supervisor_file)
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
        return tuned_environment(env)  # glibc's allocator tuned for the models (runtime/memory.py)

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
        self.llm.die_with_parent = True
        self.llm.start()

    def start(self, timeout_s: float = 60.0) -> None:
        """Take the data folder (DataFolderBusy if a stack runs on it), start everything, wait for the API."""
        check_tools()
        if stale := self.lock.acquire(self.api_url):
            self.report(
                f"cleared the lock on {self.data_dir} left by a stack that is no longer running "
                f"(pid {stale.pid}, {stale.api_url})"
            )
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.supervisor_file.unlink(missing_ok=True)
        if self.external_nats_url is None:
            self.nats.start()
        if self.s3:
            self.weed = WeedMini(self.data_dir / "s3", log_file=self.data_dir / "logs" / "weed.log")
            self.weed.die_with_parent = True
            self.weed.start()
        self._start_local_llm()
        for stage in self.stages:
            count = self.replicas.get(stage, 1)
            for replica in range(1, count + 1):
                self.spawn(stage if count == 1 else f"{stage}.{replica}")
        self._wait_healthy(timeout_s)
        self.lock.mark_ready(self.api_url)
        if self.supervise:
            self.supervisor = Supervisor(
                self._supervised(), self.supervisor_file, self.report, on_failure=self.on_failure
            )
            self.supervisor.start()

    def _supervised(self) -> list[Supervised]:
        servers: list[_Process] = [] if self.external_nats_url else [self.nats]
        servers += [server for server in (self.weed, self.llm) if server is not None]
        processes: list[Supervised] = [_ServerProcess(server) for server in servers]
        return processes + [_ServiceProcess(self, name) for name in self.children]

    def log_file(self, name: str) -> Path:
        """Where one service process ("transcribe.2") logs."""
        return self.data_dir / "logs" / f"{name}.log"

    def spawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start (or restart) one service process ("transcribe.2": a replica), logging to logs/<name>.log."""
        stage = name.split(".")[0]
        with self.log_file(name).open("ab") as logfile:
            child = subprocess.Popen(
                [sys.executable, "-m", SERVICE_MODULES[stage]],
                env=self.environment(),
                stdout=logfile,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # a stack killed with SIGKILL leaves no worker behind
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
                    raise StackError(f"{stage} exited at start-up: see {self.log_file(stage)}")
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
        if self.supervisor is not None:
            self.supervisor.stop()  # first, so that nothing stopped below is started again
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
        self.lock.release()

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
