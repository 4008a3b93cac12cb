"""Peak memory and CPU time of process trees, from /proc (no dependency): per service and all together."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    return children


def _stat(pid: int) -> tuple[str, float] | None:
    """A process's name and CPU seconds: its own user+system time and that of its reaped children."""
    try:
        text = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return name, sum(int(f) for f in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def tree_cpu_s(root: int, children: dict[int, list[int]], skip: tuple[str, ...] = ("py-spy",)) -> float:
    """CPU seconds of a process tree: each live process's own time plus its reaped children's.

    A child that ended and was waited for is in its parent's cutime/cstime (ffmpeg, a llama.cpp server
    stopped when idle), so nothing is counted twice. Subtrees of `skip` processes (the profiler) are
    left out: they measure, they are not the pipeline.
    """
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        found = _stat(pid)
        if found is None or found[0] in skip:
            continue
        total += found[1]
        stack.extend(children.get(pid, ()))
    return total


def descendants_cpu_s(root: int, children: dict[int, list[int]]) -> float:
    """CPU seconds so far of every descendant of `root`, itself left out."""
    return sum(tree_cpu_s(pid, children) for pid in children.get(root, ()))


def cpu_by_tree(roots: dict[str, int], everything: int) -> dict[str, float]:
    """CPU seconds so far of each named tree, and of every descendant of `everything` (itself left out)."""
    children = _children_map()
    figures = {name: tree_cpu_s(pid, children) for name, pid in roots.items()}
    figures["*"] = descendants_cpu_s(everything, children)
    return figures


def _rss_bytes(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages (libraries, a model mapped twice) split between sharers."""
    try:
        for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def tree_pids(root: int, children: dict[int, list[int]]) -> list[int]:
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def tree_rss(root: int, children: dict[int, list[int]]) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    return sum(_rss_bytes(pid) for pid in tree_pids(root, children))


class PeakSampler:
    """Samples the RSS of named process trees every `interval_s` in a thread; keeps the peaks.

    `peak_total` adds the RSS of every process (a shared library counts once per process that maps
    it: the cautious figure); `peak_total_pss` adds proportional sizes (each shared page once).
    `cpu_timeline` holds (wall clock, CPU seconds so far of every process this one started), read as
    often as PSS: where the cores waited (bench/timeline.py).
    """

    def __init__(self, roots: dict[str, int], interval_s: float = 0.5, pss_every: int = 4) -> None:
        self.roots, self.interval_s, self.pss_every = roots, interval_s, pss_every
        self.peaks: dict[str, int] = dict.fromkeys(roots, 0)
        self.peak_total = 0
        self.peak_total_pss = 0
        self.cpu_timeline: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        samples = 0
        while not self._stop.wait(self.interval_s):
            samples += 1
            children = _children_map()
            sizes = {name: tree_rss(pid, children) for name, pid in self.roots.items()}
            for name, size in sizes.items():
                self.peaks[name] = max(self.peaks[name], size)
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            if samples % self.pss_every:
                continue  # smaps_rollup walks every mapping: read it less often than statm
            self.cpu_timeline.append((time.time(), descendants_cpu_s(os.getpid(), children)))
            pids = [pid for root in self.roots.values() for pid in tree_pids(root, children)]
            self.peak_total_pss = max(self.peak_total_pss, sum(_pss_bytes(pid) for pid in pids))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
