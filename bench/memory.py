"""Peak memory of process trees, sampled from /proc (no dependency): per service and all together."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


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


def _rss_bytes(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int, children: dict[int, list[int]]) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_bytes(pid)
        stack.extend(children.get(pid, ()))
    return total


class PeakSampler:
    """Samples the RSS of named process trees every `interval_s` in a thread; keeps the peaks."""

    def __init__(self, roots: dict[str, int], interval_s: float = 0.2) -> None:
        self.roots, self.interval_s = roots, interval_s
        self.peaks: dict[str, int] = dict.fromkeys(roots, 0)
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            children = _children_map()
            sizes = {name: tree_rss(pid, children) for name, pid in self.roots.items()}
            for name, size in sizes.items():
                self.peaks[name] = max(self.peaks[name], size)
            self.peak_total = max(self.peak_total, sum(sizes.values()))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
