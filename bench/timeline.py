"""Where the cores waited during a job: its run split at every stage's start and end, with the idle
core-seconds of each stretch (the cores times its wall time, less the CPU seconds every process of
the pipeline spent in it).

The CPU figures come from bench.memory.PeakSampler's timeline (one reading every two seconds,
interpolated at the stage boundaries), the boundaries from the job's stage records.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import pairwise
from typing import Any


def cpu_at(timeline: Sequence[tuple[float, float]], at: float) -> float:
    """CPU seconds so far at wall-clock time `at`, interpolated between the two readings around it."""
    if not timeline:
        return 0.0
    times = [t for t, _ in timeline]
    i = bisect_left(times, at)
    if i == 0:
        return timeline[0][1]
    if i == len(timeline):
        return timeline[-1][1]
    (t0, c0), (t1, c1) = timeline[i - 1], timeline[i]
    return c0 + (c1 - c0) * (at - t0) / (t1 - t0) if t1 > t0 else c1


def stretches(
    stages: dict[str, dict[str, Any]],
    timeline: Sequence[tuple[float, float]],
    start: float,
    end: float,
    cores: int,
) -> list[dict[str, Any]]:
    """The run from `start` to `end` cut at each stage's start and end; consecutive stretches with
    the same stages at work are merged. Each: its offset and wall seconds, the stages at work, the CPU
    seconds spent and the idle core-seconds."""
    spans = {
        name: (record["started_at"], record["finished_at"])
        for name, record in stages.items()
        if record.get("started_at") and record.get("finished_at")
    }
    cuts = sorted({start, end, *(t for span in spans.values() for t in span if start < t < end)})
    out: list[dict[str, Any]] = []
    for a, b in pairwise(cuts):
        working = [name for name, (s, f) in spans.items() if s <= a and f >= b]
        cpu = cpu_at(timeline, b) - cpu_at(timeline, a)
        if out and out[-1]["stages"] == working:
            last = out[-1]
            last["wall_s"] += b - a
            last["cpu_s"] += cpu
            continue
        out.append({"from_s": a - start, "wall_s": b - a, "stages": working, "cpu_s": cpu})
    for stretch in out:
        stretch["idle_core_s"] = round(max(cores * stretch["wall_s"] - stretch["cpu_s"], 0.0), 1)
        stretch.update(
            from_s=round(stretch["from_s"], 1),
            wall_s=round(stretch["wall_s"], 1),
            cpu_s=round(stretch["cpu_s"], 1),
        )
    return out


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The stretches as a Markdown table."""
    lines = [
        "| from (s) | wall (s) | stages at work | CPU-s | idle core-s |",
        "|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['from_s']:.0f} | {row['wall_s']:.1f} | {', '.join(row['stages']) or '(none)'} "
            f"| {row['cpu_s']:.0f} | {row['idle_core_s']:.0f} |"
        )
    return lines
