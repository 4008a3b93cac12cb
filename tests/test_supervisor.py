"""The supervisor and the data-folder lock on real child processes (no Aodio service runs here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli.datalock import DataFolderBusy, DataLock, read_holder
from cli.supervisor import CrashLoop, RestartPolicy, Supervisor, describe_exit


class Sleeper:
    """A real process (python sleeping) that can be killed and started again."""

    def __init__(self, name: str, log_file: Path) -> None:
        self.name, self.log_file = name, log_file
        self.proc = self._spawn()
        self.starts = 1

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])

    def exit_code(self) -> int | None:
        return self.proc.poll()

    def pid(self) -> int | None:
        return self.proc.pid

    def restart(self) -> None:
        self.proc = self._spawn()
        self.starts += 1

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture
def sleepers(tmp_path: Path):
    made = [Sleeper(name, tmp_path / f"{name}.log") for name in ("transcribe.1", "nats-server")]
    yield made
    for sleeper in made:
        sleeper.close()


def test_an_exit_is_restarted_after_a_growing_back_off(sleepers, tmp_path: Path):
    lines: list[str] = []
    state = tmp_path / "supervisor.json"
    supervisor = Supervisor(sleepers, state, lines.append, RestartPolicy(first_delay_s=1, max_delay_s=4))
    worker, nats = sleepers
    delays = []
    for now in (100.0, 110.0, 120.0, 130.0):  # exits 10 s apart: 4 in the window, not yet a loop
        worker.kill()
        supervisor.check(now)
        delays.append(supervisor.records["transcribe.1"].delay_s)
        supervisor.check(now + 0.5)
        assert worker.starts == len(delays)  # not restarted before its back-off is over
        supervisor.check(now + delays[-1])
        assert worker.exit_code() is None and worker.starts == len(delays) + 1
    assert delays == [1, 2, 4, 4]  # doubles, capped
    assert nats.starts == 1  # the other process was left alone
    assert (
        lines[0] == f"transcribe.1 exited ({describe_exit(-9)}); restarting it in 1 s (log {worker.log_file})"
    )
    assert lines[1].startswith("transcribe.1 restarted (pid ") and lines[1].endswith("; restart 1)")
    report = json.loads(state.read_text())
    assert report["restarts"] == 4 and report["processes"]["transcribe.1"]["restarts"] == 4
    assert report["processes"]["transcribe.1"]["last_exit"].startswith("SIGKILL")
    assert (
        report["processes"]["nats-server"]["restarts"] == 0 and report["processes"]["nats-server"]["running"]
    )


def test_a_process_that_ran_a_while_starts_its_back_off_afresh(sleepers, tmp_path: Path):
    supervisor = Supervisor(sleepers, tmp_path / "s.json", lambda _: None, RestartPolicy(first_delay_s=1))
    worker = sleepers[0]
    for now in (0.0, 3.0):
        worker.kill()
        supervisor.check(now)
        supervisor.check(now + 2.5)
    assert supervisor.records["transcribe.1"].delay_s == 2
    worker.kill()
    supervisor.check(200.0)  # it had run 195 s
    assert supervisor.records["transcribe.1"].delay_s == 1


def test_five_exits_in_a_minute_is_a_crash_loop_naming_the_process_and_its_log(sleepers, tmp_path):
    supervisor = Supervisor(sleepers, tmp_path / "s.json", lambda _: None, RestartPolicy(first_delay_s=1))
    worker = sleepers[0]
    with pytest.raises(CrashLoop) as raised:
        for now in (0.0, 10.0, 20.0, 30.0, 40.0):
            worker.kill()
            supervisor.check(now)
            supervisor.check(now + 9)
    assert str(raised.value) == (
        "transcribe.1 exited 5 times in 60 s (last: SIGKILL (killed, e.g. by the kernel's "
        f"out-of-memory killer)); stopping the stack. Its log: {worker.log_file}"
    )
    assert worker.starts == 5  # the fifth exit was not restarted


def test_the_supervisor_thread_restarts_a_killed_process_and_reports_a_crash_loop(sleepers, tmp_path):
    lines: list[str] = []
    failures: list[str] = []
    policy = RestartPolicy(first_delay_s=0.05, max_delay_s=0.05, crash_loop_exits=3)
    supervisor = Supervisor(sleepers, tmp_path / "s.json", lines.append, policy, failures.append, 0.02)
    supervisor.start()
    worker = sleepers[0]
    try:
        for kills in range(1, 4):
            pid = worker.pid()
            os.kill(pid, signal.SIGKILL)
            while worker.starts == kills and not failures:
                supervisor._halt.wait(0.01)
    finally:
        supervisor.stop()
    assert failures and failures[0].startswith("transcribe.1 exited 3 times in 60 s")
    assert supervisor.failure == failures[0]
    assert sum("restarted" in line for line in lines) == 2
    assert json.loads((tmp_path / "s.json").read_text())["failure"] == failures[0]


def test_exits_are_described_for_a_person():
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(-15) == "SIGTERM"
    assert describe_exit(-9).startswith("SIGKILL (killed, e.g. by the kernel's out-of-memory killer")


def test_a_second_stack_on_a_folder_is_refused_with_the_first_ones_address(tmp_path: Path):
    first = DataLock(tmp_path)
    assert first.acquire("http://127.0.0.1:8123") is None
    holder = read_holder(tmp_path)
    assert holder is not None and holder.pid == os.getpid() and not holder.ready
    first.mark_ready("http://127.0.0.1:8123")
    with pytest.raises(DataFolderBusy) as refused:
        DataLock(tmp_path).acquire("http://127.0.0.1:9999")
    assert refused.value.holder is not None and refused.value.holder.api_url == "http://127.0.0.1:8123"
    assert refused.value.holder.ready
    first.release()
    assert read_holder(tmp_path) is None
    second = DataLock(tmp_path)
    assert second.acquire("http://127.0.0.1:9999") is None  # a clean release leaves nothing stale
    second.release()


def test_a_lock_left_by_a_killed_holder_is_stale_and_taken_over(tmp_path: Path):
    script = (
        "import sys, time; from pathlib import Path; from cli.datalock import DataLock; "
        "lock = DataLock(Path(sys.argv[1])); lock.acquire('http://127.0.0.1:8555'); "
        "print('held', flush=True); "
        "time.sleep(600)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        seen = read_holder(tmp_path)
        assert seen is not None and seen.pid == holder.pid
        with pytest.raises(DataFolderBusy):
            DataLock(tmp_path).acquire("http://127.0.0.1:9000")
    finally:
        holder.kill()
        holder.wait()
    assert read_holder(tmp_path) is None  # the file still names it, but nobody holds the lock
    lock = DataLock(tmp_path)
    stale = lock.acquire("http://127.0.0.1:9000")
    assert stale is not None and stale.pid == holder.pid and stale.api_url == "http://127.0.0.1:8555"
    lock.release()
