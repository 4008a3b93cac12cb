"""bench/memory.py's CPU accounting: a process tree's work, reaped children included, counted once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.memory import _children_map, cpu_by_tree, tree_cpu_s

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
