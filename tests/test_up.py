"""The real `aodio up`, as a user runs it: its supervisor, its data-folder lock, `aodio process` beside it.

Each stack here is the CLI in a process of its own (`python -m cli.main up`), with its own embedded
nats-server and data folder, so what is killed and restarted is exactly what a user's would be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stack import LocalStack
from runtime.embedded import free_ports
from tests.audio import looped
from tests.faultkit import FAST_MODELS, stage_status, submit, transcript_text, wait_completed, wait_until

pytest.importorskip("faster_whisper")
AUDIO = Path(__file__).parent / "fixtures" / "audio"
LOOPS = 3  # en_two_voices.mp3 three times: ~98 s, four 30-s chunks for the two transcribe replicas


def cli(data: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "--data", str(data), *argv]


def up_env() -> dict[str, str]:
    """The fast models, and a short ack wait so a killed worker's message comes back quickly."""
    return {
        **os.environ,
        **FAST_MODELS,
        "AODIO_NATS_ACK_WAIT_S": "5",
        "AODIO_NATS_MAX_DELIVER": "10",
    }


class Up:
    """A running `aodio up` on a data folder of its own."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = data.parent / f"{data.name}-up.stderr"
        with self.stderr_path.open("ab") as stderr:
            self.proc = subprocess.Popen(
                cli(data, "up", "--port", str(self.port), "--replicas", "transcribe=2"),
                env=up_env(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith(f"Aodio is up: {self.url}"), f"{line!r}\n{self.stderr()}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def supervisor(self) -> dict[str, Any]:
        return json.loads((self.data / "supervisor.json").read_text())

    def pid_of(self, name: str) -> int:
        pid = self.supervisor()["processes"][name]["pid"]
        assert pid, self.supervisor()
        return int(pid)

    def wait_restarted(self, name: str, old_pid: int, timeout_s: float = 120) -> int:
        """The new pid once the supervisor has started `name` again."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            process = self.supervisor()["processes"][name]
            if process["running"] and process["pid"] not in (None, old_pid):
                return int(process["pid"])
            assert self.proc.poll() is None, self.stderr()
            time.sleep(0.1)
        raise AssertionError(f"{name} was not restarted in {timeout_s:.0f} s:\n{self.stderr()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting to be reaped does not)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def nats_servers_on(data: Path) -> list[int]:
    """The pids of nats-server processes whose store is this data folder's."""
    store = str(data.resolve() / "nats")
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"nats-server") and store.encode() in argv:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    stack = Up(tmp_path_factory.mktemp("up") / "data")
    try:
        yield stack
    finally:
        stack.stop()


def test_a_worker_killed_under_aodio_up_is_restarted_and_the_job_keeps_every_word(up, tmp_path):
    meeting = looped(AUDIO / "en_two_voices.mp3", LOOPS, tmp_path / "meeting.mp3")
    with httpx.Client(base_url=up.url, timeout=30) as client:
        job_id = submit(client, meeting, '{"chunk_seconds": 30}')
        wait_until(client, job_id, lambda j: stage_status(j, "transcribe") == "running", 300, "transcribing")
        victim = up.pid_of("transcribe.1")
        os.kill(victim, signal.SIGKILL)  # what the kernel's OOM killer does
        at_kill = client.get(f"/v1/jobs/{job_id}").json()
        restarted = up.wait_restarted("transcribe.1", victim)
        job = wait_completed(client, job_id, timeout_s=600)
        assert transcript_text(client, job_id).lower().count("good morning") == LOOPS
        assert transcript_text(client, job_id).lower().count("release date") == LOOPS
        health = client.get("/healthz")
    assert len(at_kill["chunks_done"]) < job["chunks_total"]  # killed with chunks still to do
    assert job["chunks_done"] == list(range(job["chunks_total"]))
    assert health.status_code == 200, health.text
    process = health.json()["supervisor"]["processes"]["transcribe.1"]
    assert process["restarts"] >= 1 and process["pid"] == restarted and process["running"]
    assert process["last_exit"].startswith("SIGKILL")
    assert "aodio: transcribe.1 exited (SIGKILL" in up.stderr()
    assert f"aodio: transcribe.1 restarted (pid {restarted}; restart 1)" in up.stderr()
    assert up.proc.poll() is None  # the stack went on


def test_process_beside_up_sends_its_job_to_the_running_stack_even_after_nats_restarted(up, tmp_path):
    nats = up.pid_of("nats-server")
    os.kill(nats, signal.SIGKILL)
    up.wait_restarted("nats-server", nats)
    out = tmp_path / "out"
    done = subprocess.run(
        cli(up.data, "process", str(AUDIO / "en_short.wav"), "--out", str(out)),
        env=up_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert f"sending the job to the stack already running on {up.data} at {up.url}" in done.stderr
    assert "quarterly report" in (out / "transcript.txt").read_text().lower()
    assert nats_servers_on(up.data) == [up.pid_of("nats-server")]  # no second server on the store
    with httpx.Client(base_url=up.url, timeout=30) as client:
        jobs = client.get("/v1/jobs").json()["jobs"]
    assert any(j["original_name"] == "en_short.wav" and j["status"] == "completed" for j in jobs)


def test_a_second_up_on_the_same_folder_refuses_with_the_running_url(up):
    other = free_ports(1)[0]
    done = subprocess.run(
        cli(up.data, "up", "--port", str(other)), env=up_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"aodio: a stack is already running on {up.data.resolve()} at {up.url} (pid {up.proc.pid}): "
    ), done.stderr
    assert nats_servers_on(up.data) == [up.pid_of("nats-server")]


def test_a_killed_stack_leaves_a_stale_lock_the_next_clears_and_a_crash_loop_stops_it(tmp_path):
    first = Up(tmp_path / "data")
    children = [p["pid"] for p in first.supervisor()["processes"].values()]
    first.proc.kill()  # SIGKILL: no clean-up at all
    first.proc.wait()
    deadline = time.monotonic() + 90
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)]  # its servers and workers went with it
    second = Up(tmp_path / "data")
    try:
        assert f"cleared the lock on {(tmp_path / 'data').resolve()} left by a stack" in second.stderr()
        assert f"(pid {first.proc.pid}, {first.url})" in second.stderr()
        pid = second.pid_of("notify")
        for _ in range(4):
            os.kill(pid, signal.SIGKILL)
            pid = second.wait_restarted("notify", pid)
        os.kill(pid, signal.SIGKILL)
        code = second.proc.wait(120)
    finally:
        second.stop()
    assert code == 1
    log = (tmp_path / "data").resolve() / "logs" / "notify.log"
    assert (
        "aodio: notify exited 5 times in 60 s (last: SIGKILL (killed, e.g. by the kernel's "
        f"out-of-memory killer)); stopping the stack. Its log: {log}\n"
    ) in second.stderr()
    assert not nats_servers_on(tmp_path / "data")


def test_the_local_s3_is_restarted_like_any_process_and_uploads_go_on(tmp_path):
    """`aodio up --s3`'s SeaweedFS, SIGKILLed: started again on its ports; the API stores again."""
    lines: list[str] = []
    stack = LocalStack(
        tmp_path / "data", api_port=0, s3=True, stages=("ingest",), supervise=True, report=lines.append
    )
    with stack, httpx.Client(base_url=stack.api_url, timeout=30) as client:
        assert stack.weed is not None
        endpoint, victim = stack.weed.endpoint, stack.weed.pid
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while not any(line.startswith("weed restarted") for line in lines):
            assert time.monotonic() < deadline, lines
            time.sleep(0.1)
        assert stack.weed.endpoint == endpoint and stack.weed.pid != victim
        job_id = submit(client, AUDIO / "en_short.wav")  # stored in the restarted S3
        assert (
            client.get(f"/v1/jobs/{job_id}/outputs/source").content == (AUDIO / "en_short.wav").read_bytes()
        )
        health = client.get("/healthz").json()
    assert health["ok"] and health["supervisor"]["processes"]["weed"]["restarts"] == 1
    assert lines[0].startswith("weed exited (SIGKILL")
