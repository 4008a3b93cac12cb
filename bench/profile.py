"""Sampling profiles of running workers with py-spy, summarised as where each worker's time went.

`bench.run --profile DIR` attaches one `py-spy record` to each stage process for the whole run (20
samples a second, non-blocking, idle threads left out) and writes collapsed stacks to DIR/<stage>.txt;
`hot_frames` then adds the samples up per function, inclusive, and keeps the project's own frames and
the library calls they make, so a table says e.g. "diarize: 61 % in WindowDiarizer.embed".

    python -m bench.profile DIR/diarize.txt     (the table of one saved profile)
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PROJECT = ("services/", "runtime/", "bench/")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


class Profiler:
    """One py-spy recorder per process; stopped with SIGINT so each writes its file."""

    def __init__(self, pids: dict[str, int], out_dir: Path, rate: int = 20) -> None:
        self.pids, self.out_dir, self.rate = pids, out_dir, rate
        self.recorders: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Profiler:
        binary = py_spy()
        if binary is None:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            output = str(self.out_dir / f"{name}.txt")
            command = [binary, "record", "--pid", str(pid), "--rate", str(self.rate), "--nonblocking"]
            self.recorders[name] = subprocess.Popen(
                [*command, "--format", "raw", "--output", output],
                stdout=subprocess.DEVNULL,
                stderr=(self.out_dir / f"{name}.py-spy.log").open("wb"),
            )
        return self

    def __exit__(self, *exc: object) -> None:
        for recorder in self.recorders.values():
            recorder.send_signal(signal.SIGINT)
        for recorder in self.recorders.values():
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()


def hot_frames(path: Path, top: int = 8) -> list[tuple[str, float]]:
    """(function, share of samples) by inclusive samples, for project frames and their first callee."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        seen: set[str] = set()
        for position, frame in enumerate(frames):
            if not any(part in frame for part in PROJECT):
                continue
            picked = [frame]
            if position + 1 < len(frames) and not any(p in frames[position + 1] for p in PROJECT):
                picked.append(frames[position + 1])  # the library call the project frame makes
            for name in picked:
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += count
    if not total:
        return []
    ranked = [(name, n / total) for name, n in inclusive.most_common() if n / total < 0.995]
    return ranked[:top]


def summarise(out_dir: Path, top: int = 8) -> dict[str, list[dict[str, object]]]:
    """Every saved profile in out_dir, as {stage: [{frame, share}]}."""
    return {
        path.stem: [{"frame": frame, "share": round(share, 3)} for frame, share in hot_frames(path, top)]
        for path in sorted(out_dir.glob("*.txt"))
        if path.stat().st_size
    }


def main() -> None:
    for name in sys.argv[1:]:
        print(name)
        for frame, share in hot_frames(Path(name), top=15):
            print(f"  {share:6.1%}  {frame}")


if __name__ == "__main__":
    main()
