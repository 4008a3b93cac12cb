"""Run a built image's command as its own user, with buildah (no container engine needed).

`buildah run` does not pass SIGTERM on (it kills its child), so a service is stopped the way a
container runtime stops PID 1: SIGTERM to the image's own command, found among buildah's children.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


def image_config(image: str) -> dict[str, Any]:
    """The image's Docker config: Cmd, User, Env, Healthcheck, WorkingDir."""
    out = subprocess.run(
        ["buildah", "inspect", "--type", "image", image], capture_output=True, text=True, check=True
    ).stdout
    config: dict[str, Any] = json.loads(out)["Docker"]["config"]
    return config


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def is_command(argv: list[str], command: list[str]) -> bool:
    """Whether a process's argv runs the image's command, as exec resolved it.

    The kernel shows the resolved program (`/opt/venv/bin/python` for `python`), and buildah's
    own helpers (`buildah-chroot-exec`, the `buildah run` itself) carry the command as arguments:
    only the process whose program is the command's is it.
    """
    if not argv or not command or len(argv) != len(command):
        return False
    program = os.path.basename(argv[0])
    if program.startswith("buildah"):
        return False
    return program == os.path.basename(command[0]) and argv[1:] == command[1:]


def _descendants(pid: int) -> list[int]:
    queue, seen = [pid], []
    while queue:
        current = queue.pop()
        for child in _children(current):
            seen.append(child)
            queue.append(child)
    return seen


@dataclass
class Container:
    """One working container of an image, and the image's command running in it."""

    name: str
    image: str
    env: dict[str, str]
    log_path: Path
    config: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    _log: IO[bytes] | None = None

    def create(self) -> None:
        subprocess.run(["buildah", "rm", self.name], capture_output=True, check=False)
        subprocess.run(
            ["buildah", "from", "--pull-never", "--name", self.name, self.image],
            capture_output=True,
            check=True,
        )
        self.config = image_config(self.image)

    def _run_argv(self, command: list[str]) -> list[str]:
        envs = [f"--env={k}={v}" for k, v in self.env.items()]
        user = str(self.config.get("User") or "0:0")
        return ["buildah", "run", "--isolation", "chroot", "--user", user, *envs, self.name, "--", *command]

    @property
    def command(self) -> list[str]:
        return list(self.config.get("Cmd") or [])  # type: ignore[call-overload]

    def start(self) -> None:
        """Start the image's own command (its CMD), stdout and stderr to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self._run_argv(self.command), stdout=self._log, stderr=subprocess.STDOUT
        )

    def healthcheck(self, timeout_s: float = 30.0) -> tuple[bool, str]:
        """Run the image's HEALTHCHECK command in this container; (passed, what it printed)."""
        check = dict(self.config.get("Healthcheck") or {})  # type: ignore[call-overload]
        test = list(check.get("Test") or [])
        if not test or test[0] not in ("CMD", "CMD-SHELL"):
            return False, f"no HEALTHCHECK CMD in {self.image}"
        command = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
        try:
            done = subprocess.run(self._run_argv(command), capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False, "health check timed out"
        return done.returncode == 0, (done.stdout + done.stderr).strip()[-300:]

    def main_pid(self) -> int | None:
        """The process of the image's command, among buildah's descendants."""
        if self.process is None:
            return None
        for pid in _descendants(self.process.pid):
            if is_command(_cmdline(pid), self.command):
                return pid
        return None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, grace_s: float) -> tuple[float | None, int | None]:
        """SIGTERM the command and wait up to grace_s: (seconds it took, exit code), or (None, None)."""
        pid = self.main_pid()
        if pid is None or self.process is None:
            return None, self.process.poll() if self.process else None
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        try:
            code = self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            return None, None
        return round(time.monotonic() - started, 2), code

    def remove(self) -> None:
        """Kill whatever is left, then remove the working container."""
        if self.process is not None and self.process.poll() is None:
            for pid in reversed(_descendants(self.process.pid)):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.process.kill()
            self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        subprocess.run(["buildah", "rm", self.name], capture_output=True, check=False)
