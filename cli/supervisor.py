"""Keeps the embedded default's processes running: restart with back-off, stop on a crash loop.

A process that exits while the stack runs is started again after a back-off that doubles with each
exit (1 s, 2 s, 4 s... up to 30 s) and resets once it has run for a minute. Five exits within a
minute is a crash loop: the supervisor gives up, names the process and its log, and the stack stops.
Jobs survive a restart because JetStream redelivers what the dead process had not acknowledged.
What it did is written to a JSON file (see `state_file`) that the API's /healthz serves.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Supervised(Protocol):
    """A process the supervisor can watch and start again."""

    name: str
    log_file: Path

    def exit_code(self) -> int | None:
        """None while it runs, else its exit status (negative: killed by that signal)."""

    def pid(self) -> int | None:
        """Its process id while it runs."""

    def restart(self) -> None:
        """Start it again (raising if it cannot)."""


@dataclass(frozen=True)
class RestartPolicy:
    """How quickly a process is started again, and when restarting is pointless."""

    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    crash_loop_exits: int = 5  # this many exits...
    crash_loop_window_s: float = 60.0  # ...within this many seconds stops the stack
    stable_after_s: float = 60.0  # a process up this long starts its back-off afresh


def describe_exit(code: int) -> str:
    """'exit code 1', or 'SIGKILL' with the usual reason for it."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    return f"{name} (killed, e.g. by the kernel's out-of-memory killer)" if name == "SIGKILL" else name


@dataclass
class _Record:
    process: Supervised
    started_at: float
    restarts: int = 0
    delay_s: float = 0.0
    exits: deque[float] = field(default_factory=deque)
    last_exit: str | None = None
    restart_at: float | None = None  # set while it waits out its back-off


class CrashLoop(RuntimeError):
    """A process kept exiting; the message names it and its log."""


class Supervisor:
    """Polls its processes from a thread of its own; `report` gets one line per restart."""

    def __init__(
        self,
        processes: list[Supervised],
        state_file: Path,
        report: Callable[[str], None],
        policy: RestartPolicy | None = None,
        on_failure: Callable[[str], None] | None = None,
        poll_s: float = 0.2,
    ) -> None:
        now = time.monotonic()
        self.policy = policy or RestartPolicy()
        self.records = {p.name: _Record(p, now) for p in processes}
        self.state_file, self.report, self.on_failure, self.poll_s = state_file, report, on_failure, poll_s
        self.failure: str | None = None
        self._halt = threading.Event()
        self._lock = threading.Lock()  # held while a process is being restarted, so stop() waits
        self._thread = threading.Thread(target=self._run, name="aodio-supervisor", daemon=True)
        self._since = time.time()

    def start(self) -> None:
        self._write_state()
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the stack stops its processes, so none is restarted mid-stop)."""
        self._halt.set()
        with self._lock:
            pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._halt.wait(self.poll_s):
            try:
                with self._lock:
                    if self._halt.is_set():
                        return
                    self.check(time.monotonic())
            except CrashLoop as exc:
                self.failure = str(exc)
                self._write_state()
                log.error("%s", exc)
                if self.on_failure is not None:
                    self.on_failure(self.failure)
                return

    def check(self, now: float) -> None:
        """Notice exits and restart what is due; raises CrashLoop when one keeps exiting."""
        changed = False
        for record in self.records.values():
            if record.restart_at is None and (code := record.process.exit_code()) is not None:
                self._exited(record, code, now)
                changed = True
            if record.restart_at is not None and now >= record.restart_at:
                self._restart(record, now)
                changed = True
        if changed:
            self._write_state()

    def _exited(self, record: _Record, code: int, now: float) -> None:
        policy, name = self.policy, record.process.name
        record.last_exit = describe_exit(code)
        record.exits.append(now)
        while record.exits and now - record.exits[0] > policy.crash_loop_window_s:
            record.exits.popleft()
        if len(record.exits) >= policy.crash_loop_exits:
            raise CrashLoop(
                f"{name} exited {len(record.exits)} times in {policy.crash_loop_window_s:.0f} s "
                f"(last: {record.last_exit}); stopping the stack. Its log: {record.process.log_file}"
            )
        stable = now - record.started_at >= policy.stable_after_s
        first, most = policy.first_delay_s, policy.max_delay_s
        record.delay_s = first if stable or not record.delay_s else min(most, record.delay_s * 2)
        record.restart_at = now + record.delay_s
        self.report(
            f"{name} exited ({record.last_exit}); restarting it in {record.delay_s:.0f} s "
            f"(log {record.process.log_file})"
        )

    def _restart(self, record: _Record, now: float) -> None:
        name = record.process.name
        try:
            record.process.restart()
        except Exception as exc:  # counted like an exit: a process that cannot start is crash-looping
            log.warning("%s did not start again: %s", name, exc)
            record.restart_at = None
            self._exited(record, 1, now)
            return
        record.restart_at, record.started_at = None, now
        record.restarts += 1
        self.report(f"{name} restarted (pid {record.process.pid()}; restart {record.restarts})")

    def snapshot(self) -> dict[str, Any]:
        """What /healthz shows: each process's pid, restarts, last exit, and whether it is waiting."""
        processes = {}
        now = time.monotonic()
        for name, record in self.records.items():
            processes[name] = {
                "pid": record.process.pid(),
                "running": record.restart_at is None and record.process.exit_code() is None,
                "restarts": record.restarts,
                "last_exit": record.last_exit,
                "restarting_in_s": (
                    None if record.restart_at is None else round(max(0.0, record.restart_at - now), 1)
                ),
                "log": str(record.process.log_file),
            }
        return {
            "since": self._since,
            "updated_at": time.time(),
            "restarts": sum(r.restarts for r in self.records.values()),
            "failure": self.failure,
            "processes": processes,
        }

    def _write_state(self) -> None:
        temporary = self.state_file.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            temporary.write_text(json.dumps(self.snapshot(), indent=1))
            os.replace(temporary, self.state_file)
