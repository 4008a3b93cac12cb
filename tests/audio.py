"""Longer test recordings made from the committed clips, with ffmpeg (no re-encoding)."""

from __future__ import annotations

import subprocess
from pathlib import Path

AUDIO = Path(__file__).parent / "fixtures" / "audio"


def looped(clip: Path, times: int, dest: Path) -> Path:
    """The clip played `times` times in a row, as one file."""
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            str(times - 1),
            "-i",
            str(clip),
            "-c",
            "copy",
            str(dest),
        ],
        check=True,
    )
    return dest
