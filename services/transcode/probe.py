"""Read an upload's container and audio stream facts with ffprobe."""

from __future__ import annotations

import json
import logging
import re
import subprocess
from pathlib import Path

import msgspec

from services.transcode.errors import MediaError

__all__ = ["ProbeResult", "format_hours", "probe"]

log = logging.getLogger(__name__)

DEFAULT_MAX_DURATION_S = 8 * 3600.0
PROBE_TIMEOUT_S = 60.0
_CONTEXT_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*")


class ProbeResult(msgspec.Struct, frozen=True, kw_only=True):
    """What ffprobe says about an upload's first audio stream and its container."""

    duration_s: float
    has_audio: bool
    codec: str
    sample_rate: int
    channels: int
    format_name: str
    bit_rate: int | None = None


def format_hours(seconds: float) -> str:
    """Render a duration as '10 h 02 min'."""
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _run_ffprobe(path: Path, timeout_s: float) -> dict:
    """Run ffprobe and return its JSON, or raise MediaError with its first error line."""
    argv = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    try:
        done = subprocess.run([*argv, str(path)], capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"upload could not be inspected: ffprobe took over {timeout_s:.0f} s") from exc
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        first = stderr.splitlines()[0] if stderr else f"ffprobe exited with {done.returncode}"
        # Drop what means nothing to the user: our temp path and "[mp3 @ 0x55...] ".
        first = _CONTEXT_PREFIX.sub("", first.replace(f"{path}: ", "")).strip()
        raise MediaError(f"upload is not a readable audio or video file: {first}")
    return json.loads(done.stdout or b"{}")


def _to_float(value: object) -> float:
    """Parse ffprobe's numeric strings ('N/A' and missing become 0.0)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def probe(
    path: Path,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> ProbeResult:
    """Probe an upload; raise MediaError when it is empty, unreadable, not audio or too long."""
    if path.stat().st_size == 0:
        raise MediaError("upload is empty: 0 bytes")
    info = _run_ffprobe(path, timeout_s)
    fmt = info.get("format", {})
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise MediaError("upload is not audio: ffprobe found no audio stream")
    stream = audio[0]
    duration_s = _to_float(stream.get("duration")) or _to_float(fmt.get("duration"))
    if duration_s <= 0:
        raise MediaError("upload has no measurable duration: ffprobe reports 0 s or none")
    if duration_s > max_duration_s:
        raise MediaError(
            f"recording is {format_hours(duration_s)} long; the limit is "
            f"{format_hours(max_duration_s)} (AODIO_TRANSCODE_MAX_DURATION_S)"
        )
    bit_rate = _to_float(stream.get("bit_rate")) or _to_float(fmt.get("bit_rate"))
    result = ProbeResult(
        duration_s=duration_s,
        has_audio=True,
        codec=str(stream.get("codec_name", "unknown")),
        sample_rate=int(_to_float(stream.get("sample_rate"))),
        channels=int(stream.get("channels", 0)),
        format_name=str(fmt.get("format_name", "unknown")),
        bit_rate=int(bit_rate) or None,
    )
    log.debug("probed upload path=%s result=%s", path, result)
    return result
