"""Soak: hundreds of short jobs through a real `aodio up` while a random worker is killed now and then.

    .venv/bin/python -m bench.soak [--jobs 300] [--in-flight 6] [--kill-every 20] [--file F]

Prints, and writes to bench/out/soak-<time>.json: jobs completed, failed and lost (accepted but never
finished), the kills and restarts, each process's RSS and open file descriptors at the start and the
end with their slope per 100 jobs (over the samples of one pid: a restarted process starts a new
series), and the sizes of the JetStream stream, the jobs bucket and the artifact folder.
The models are the fast ones the tests use (tiny.en, extractive summary): this measures the stack's
own health over time, not the models' speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from runtime.embedded import free_ports

MIB = 1024 * 1024
FAST_MODELS = {
    "AODIO_TRANSCRIBE_MODEL": "tiny.en",
    "AODIO_SUMMARIZE_METHOD": "extractive",
    "AODIO_SUMMARIZE_MODEL": "openai/not-used",
}
NOT_KILLED = ("ingest", "nats-server")  # the API (a cut upload is the client's to retry) and the bus


def _proc_figures(pid: int) -> tuple[int, int] | None:
    """(RSS bytes, open file descriptors) of a process, or None when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    rss = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return rss, fds


@dataclass
class Series:
    """One process's samples while it kept one pid: (jobs finished, RSS bytes, fds)."""

    pid: int
    samples: list[tuple[int, int, int]] = field(default_factory=list)

    def slope(self, column: int) -> float | None:
        """Least-squares change per 100 jobs; None with fewer than three samples."""
        if len(self.samples) < 3:
            return None
        xs = [s[0] for s in self.samples]
        ys = [s[column] for s in self.samples]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if not spread:
            return None
        return 100 * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


class Soak:
    def __init__(self, data: Path, args: argparse.Namespace) -> None:
        self.data, self.args = data, args
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.series: dict[str, list[Series]] = {}
        self.kills: list[dict[str, Any]] = []
        self.finished = 0
        self._stop = threading.Event()

    def supervisor(self) -> dict[str, Any]:
        return json.loads((self.data / "supervisor.json").read_text())

    def start(self) -> subprocess.Popen[str]:
        env = {**os.environ, **FAST_MODELS}
        argv = [sys.executable, "-m", "cli.main", "--data", str(self.data), "up", "--port", str(self.port)]
        stderr = (self.data.parent / "up.stderr").open("a")
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("Aodio is up"):
            raise SystemExit(
                f"aodio up did not start: {(self.data.parent / 'up.stderr').read_text()[-3000:]}"
            )
        return proc

    def sample(self) -> None:
        for name, process in self.supervisor()["processes"].items():
            pid = process.get("pid")
            figures = _proc_figures(pid) if pid else None
            if figures is None:
                continue
            runs = self.series.setdefault(name, [])
            if not runs or runs[-1].pid != pid:
                runs.append(Series(pid))
            runs[-1].samples.append((self.finished, *figures))

    def killer(self) -> None:
        if not self.args.kill_every:
            return  # --kill-every 0: a run without kills, for clean slopes
        rng = random.Random(self.args.seed)
        while not self._stop.wait(self.args.kill_every):
            processes = self.supervisor()["processes"]
            names = [n for n, p in processes.items() if p["running"] and n.split(".")[0] not in NOT_KILLED]
            if not names:
                continue
            name = rng.choice(names)
            try:
                os.kill(processes[name]["pid"], signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.kills.append({"process": name, "after_jobs": self.finished, "at": time.time()})

    def submit(self, client: httpx.Client) -> str:
        path, last = Path(self.args.file), ""
        for _ in range(30):
            try:
                with path.open("rb") as handle:
                    reply = client.post("/v1/jobs", files={"file": (path.name, handle)})
                if reply.status_code == 202:
                    return str(reply.json()["job_id"])
                last = f"HTTP {reply.status_code}: {reply.text[:300]}"
            except httpx.TransportError as exc:
                last = str(exc)
            time.sleep(1)
        raise SystemExit(f"the API refused new jobs for 30 s: {last}")

    def run_jobs(self, client: httpx.Client) -> dict[str, dict[str, Any]]:
        outcomes: dict[str, dict[str, Any]] = {}
        in_flight: list[str] = []
        submitted = 0
        deadline: float | None = None
        while submitted < self.args.jobs or in_flight:
            while submitted < self.args.jobs and len(in_flight) < self.args.in_flight:
                in_flight.append(self.submit(client))
                submitted += 1
            if submitted == self.args.jobs and deadline is None:
                deadline = time.monotonic() + self.args.drain_s
            time.sleep(0.5)
            for job_id in list(in_flight):
                try:
                    job = client.get(f"/v1/jobs/{job_id}").json()
                except (httpx.TransportError, ValueError):
                    continue
                if job["status"] in ("completed", "failed"):
                    in_flight.remove(job_id)
                    outcomes[job_id] = {"status": job["status"], "error": job.get("error")}
                    self.finished += 1
                    if self.finished % self.args.sample_every == 0:
                        self.sample()
                        print(f"{self.finished} jobs finished, {len(self.kills)} kills", flush=True)
            if deadline is not None and time.monotonic() > deadline:
                break
        for job_id in in_flight:
            outcomes[job_id] = {"status": "lost", "error": "not finished when the soak ended"}
        return outcomes


async def _bus_sizes(nats_port: int) -> dict[str, Any]:
    import nats

    from runtime.settings import NatsSettings

    topology = NatsSettings().topology
    nc = await nats.connect(f"nats://127.0.0.1:{nats_port}")
    try:
        js = nc.jetstream()
        stream = await js.stream_info(topology.stream)
        bucket = await js.stream_info(f"KV_{topology.jobs_bucket}")
        return {
            "stream_messages": stream.state.messages,
            "stream_mib": round(stream.state.bytes / MIB, 2),
            "jobs_bucket_values": bucket.state.messages,
            "jobs_bucket_mib": round(bucket.state.bytes / MIB, 2),
        }
    finally:
        await nc.close()


def _folder_mib(folder: Path) -> float:
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return round(total / MIB, 1)


def _nats_port(pid: int) -> int:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return int(argv[argv.index(b"-p") + 1])


def _process_rows(soak: Soak) -> list[dict[str, Any]]:
    rows = []
    for name, runs in sorted(soak.series.items()):
        first, last = runs[0].samples[0], runs[-1].samples[-1]
        # A restarted process's first sample was taken while it loaded its models: its series starts
        # at the second one, so the slope measures growth, not warm-up.
        trimmed = [runs[0]] + [Series(r.pid, r.samples[1:]) for r in runs[1:]]
        longest = max(trimmed, key=lambda r: len(r.samples))
        rss_slope, fd_slope = longest.slope(1), longest.slope(2)
        rows.append(
            {
                "process": name,
                "pids": len(runs),
                "samples_in_slope": len(longest.samples),
                "rss_mib_start": round(first[1] / MIB, 1),
                "rss_mib_end": round(last[1] / MIB, 1),
                "rss_mib_per_100_jobs": None if rss_slope is None else round(rss_slope / MIB, 2),
                "fds_start": first[2],
                "fds_end": last[2],
                "fds_per_100_jobs": None if fd_slope is None else round(fd_slope, 2),
            }
        )
    return rows


def run(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    soak = Soak(data, args)
    started = time.monotonic()
    proc = soak.start()
    try:
        with httpx.Client(base_url=soak.url, timeout=30) as client:
            # As many jobs as will run at once, so every replica has loaded its models before the
            # first sample and the slopes measure growth, not warm-up.
            warm = [soak.submit(client) for _ in range(args.in_flight)]
            for job_id in warm:
                while client.get(f"/v1/jobs/{job_id}").json()["status"] not in ("completed", "failed"):
                    time.sleep(0.5)
            soak.sample()
            killer = threading.Thread(target=soak.killer, daemon=True)
            killer.start()
            outcomes = soak.run_jobs(client)
            soak._stop.set()
            killer.join()
            time.sleep(5)  # let the last killed process come back before the final sample
            soak.sample()
            health = client.get("/healthz").json()
        sizes = asyncio.run(_bus_sizes(_nats_port(soak.supervisor()["processes"]["nats-server"]["pid"])))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(120)
    statuses = [o["status"] for o in outcomes.values()]
    return {
        "jobs": args.jobs,
        "file": args.file,
        "completed": statuses.count("completed"),
        "failed": statuses.count("failed"),
        "lost": statuses.count("lost"),
        "errors": sorted({o["error"] for o in outcomes.values() if o["error"]}),
        "kills": len(soak.kills),
        "killed": sorted({k["process"] for k in soak.kills}),
        "restarts": health["supervisor"]["restarts"],
        "stack_exit_code": proc.returncode,
        "wall_s": round(time.monotonic() - started),
        "processes": _process_rows(soak),
        **sizes,
        "artifacts_mib": _folder_mib(data / "artifacts"),
    }


def _print(report: dict[str, Any]) -> None:
    print(
        f"\n{report['completed']} of {report['jobs']} jobs completed, {report['failed']} failed, "
        f"{report['lost']} lost; {report['kills']} kills, {report['restarts']} restarts; "
        f"{report['wall_s']} s"
    )
    print(f"{'process':<14} {'pids':>4} {'RSS MiB':>15} {'/100 jobs':>9} {'fds':>9} {'/100 jobs':>9}")
    for row in report["processes"]:
        print(
            f"{row['process']:<14} {row['pids']:>4} {row['rss_mib_start']:>7}->{row['rss_mib_end']:<7} "
            f"{row['rss_mib_per_100_jobs']!s:>9} {row['fds_start']:>4}->{row['fds_end']:<4} "
            f"{row['fds_per_100_jobs']!s:>9}"
        )
    print(
        f"stream: {report['stream_messages']} messages, {report['stream_mib']} MiB; jobs bucket: "
        f"{report['jobs_bucket_values']} values, {report['jobs_bucket_mib']} MiB; artifacts: "
        f"{report['artifacts_mib']} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--in-flight", type=int, default=6, help="jobs submitted but not finished at once")
    parser.add_argument("--kill-every", type=float, default=20.0, help="seconds between two kills (0: none)")
    parser.add_argument("--sample-every", type=int, default=25, help="jobs between two RSS/fd samples")
    parser.add_argument("--drain-s", type=float, default=600.0, help="how long the last jobs may take")
    parser.add_argument("--file", default="tests/fixtures/audio/en_short.wav")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aodio-soak-") as tmp:
        report = run(args, Path(tmp) / "data")
    _print(report)
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    path = out / time.strftime("soak-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
