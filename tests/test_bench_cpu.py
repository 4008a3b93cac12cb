"""bench/memory.py's CPU accounting: a process tree's work, reaped children included, counted once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.memory import PeakSampler, _children_map, cpu_by_tree, tree_cpu_s
from bench.timeline import cpu_at, stretches, table

BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"
# a parent that runs a child burning CPU, waits for it (so it is reaped), burns some itself, then waits
PARENT = (
    "import subprocess, sys, time\n"
    f"subprocess.run([sys.executable, '-c', {BURN.format(s=0.6)!r}], check=True)\n"
    + BURN.format(s=0.3)
    + "print('ready', flush=True)\ntime.sleep(30)\n"
)


def test_a_tree_counts_its_reaped_children_and_itself_once() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        spent = tree_cpu_s(parent.pid, _children_map())
        # 0.6 s in the reaped child (in the parent's cutime) + 0.3 s in the parent + its start-up
        assert 0.85 <= spent < 5.0, spent
        everything = cpu_by_tree({"parent": parent.pid}, os.getpid())
        assert everything["parent"] >= 0.85 and everything["*"] >= everything["parent"]
    finally:
        parent.kill()
        parent.wait()


def test_a_skipped_process_and_its_subtree_are_left_out() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN.format(s=0.3) + "import time; time.sleep(30)"])
    try:
        time.sleep(0.1)
        while tree_cpu_s(child.pid, _children_map()) < 0.3:
            time.sleep(0.05)
        name = open(f"/proc/{child.pid}/comm").read().strip()
        assert tree_cpu_s(child.pid, _children_map(), skip=(name,)) == 0.0
    finally:
        child.kill()
        child.wait()


def test_the_sampler_records_the_cpu_its_children_spend() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN.format(s=0.6) + "import time; time.sleep(30)"])
    try:
        with PeakSampler({"child": child.pid}, interval_s=0.05, pss_every=2) as sampler:
            while tree_cpu_s(child.pid, _children_map()) < 0.6:
                time.sleep(0.05)
            time.sleep(0.3)
        times = [t for t, _ in sampler.cpu_timeline]
        spent = [c for _, c in sampler.cpu_timeline]
        assert times == sorted(times) and spent == sorted(spent)
        assert spent[-1] >= 0.6
    finally:
        child.kill()
        child.wait()


def test_stretches_cut_the_run_at_stage_boundaries_and_count_idle_cores() -> None:
    # two cores; CPU rises 2 s per second from 0 to 10, then 1 s per second to 20
    timeline = [(100.0 + t, 2.0 * t if t <= 10 else 20.0 + (t - 10)) for t in range(0, 21)]
    stages = {
        "transcribe": {"started_at": 100.0, "finished_at": 110.0},
        "diarize": {"started_at": 100.0, "finished_at": 110.0},
        "summarize": {"started_at": 110.0, "finished_at": 120.0},
        "notify": {"status": "pending"},
    }
    rows = stretches(stages, timeline, 100.0, 120.0, cores=2)
    assert [r["stages"] for r in rows] == [["transcribe", "diarize"], ["summarize"]]
    assert [r["wall_s"] for r in rows] == [10.0, 10.0]
    assert [r["idle_core_s"] for r in rows] == [0.0, 10.0]
    assert rows[1]["from_s"] == 10.0
    assert "| 10 | 10.0 | summarize | 10 | 10 |" in table(rows)


def test_cpu_between_readings_is_interpolated() -> None:
    timeline = [(0.0, 0.0), (2.0, 4.0)]
    assert cpu_at(timeline, 1.0) == 2.0
    assert cpu_at(timeline, -1.0) == 0.0 and cpu_at(timeline, 5.0) == 4.0
    assert cpu_at([], 1.0) == 0.0
