"""One streaming ffmpeg pass: 16 kHz mono FLAC to disk, PCM to Python for silences and progress.

A PrefixHook sees stretches of the recording while the rest still decodes: the PCM of whole blocks
and their frame levels, the same samples the FLAC gets (transcode cuts its first chunks there).
"""

from __future__ import annotations

import fcntl
import logging
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import ffmpeg
import msgspec
import numpy as np

from services.transcode.errors import MediaError

__all__ = [
    "NormalizeResult",
    "PrefixHook",
    "Progress",
    "find_silences",
    "normalize",
    "quiet_points",
    "write_flac",
]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 480  # 30 ms
BLOCK_FRAMES = 100  # 3 s of PCM per read
PIPE_BYTES = 1 << 20  # 32 s of PCM in flight per pipe
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
LEVEL_STEP_DB = 0.5  # frame levels are stored as one byte: 0.5 dB steps from -100 dB
QUIET_SPAN_FRAMES = 100  # one quietest point per 3 s, for cutting where there is no silence
ALWAYS_SILENT_DB = -80.0
PROGRESS_EVERY_S = 1.5
TRUNCATED_RATIO = 0.5

Progress = Callable[[float, float], None]
FLAC_TIMEOUT_S = 120.0


Span = tuple[float, float]  # (start_s, end_s) of the decoded audio a hook wants next


@dataclass(frozen=True)
class PrefixHook:
    """Called mid-decode, as often as it asks, with stretches of int16 PCM and their frame levels.

    The first stretch is the opening `seconds`; on_prefix(pcm, levels, start) gets the samples from
    `start` on and answers with the next span it wants, or None. Spans are widened to whole 3 s blocks
    and must move forward; one the recording does not reach is never handed over. What on_prefix raises
    fails normalize.

    The spans are fixed numbers of samples, whatever the pipe reads returned, so a second decode of the
    same upload hands the hook the same arrays (as long as the hook answers the same to the same PCM).
    """

    seconds: float
    on_prefix: Callable[[np.ndarray, np.ndarray, int], Span | None]

    @property
    def samples(self) -> int:
        return _block_ceil(self.seconds)


def _block_ceil(seconds: float) -> int:
    """Samples up to the first whole 3 s block boundary at or past `seconds` (at least one block)."""
    block = BLOCK_FRAMES * FRAME_SAMPLES
    return max(1, -(-round(seconds * SAMPLE_RATE) // block)) * block


def _block_floor(seconds: float) -> int:
    block = BLOCK_FRAMES * FRAME_SAMPLES
    return max(0, round(seconds * SAMPLE_RATE) // block) * block


class NormalizeResult(msgspec.Struct, frozen=True, kw_only=True):
    """Decoded length, silent spans and quietest points of the normalized audio."""

    duration_s: float
    silences: list[tuple[float, float]]
    quiet_points: list[tuple[float, float]] = []  # (time_s, level_db): one per 3 s
    sample_rate: int = SAMPLE_RATE


def _decoder_argv(source: Path) -> list[str]:
    """Build the decoder: first audio stream to 16 kHz mono s16le PCM on stdout."""
    audio = ffmpeg.input(f"file:{source}")["a:0"]
    mono = audio.filter("aresample", SAMPLE_RATE, ochl="mono", osf="s16", resampler="soxr")
    compiled = ffmpeg.output(mono, "pipe:1", format="s16le", acodec="pcm_s16le").compile()
    return ["ffmpeg", "-nostdin", "-threads", "0", "-loglevel", "error", *compiled[1:]]


def _encoder_argv(dest: Path, flac_level: int) -> list[str]:
    """Build the encoder: s16le PCM on stdin to a FLAC file."""
    pcm = ffmpeg.input("pipe:0", format="s16le", ar=SAMPLE_RATE, ac=1)
    flac = ffmpeg.output(pcm, f"file:{dest}", acodec="flac", compression_level=flac_level)
    compiled = flac.overwrite_output().compile()
    return ["ffmpeg", "-nostdin", "-loglevel", "error", *compiled[1:]]


def _frame_levels(block: np.ndarray) -> np.ndarray:
    """Quantize each 30 ms frame's RMS level (dBFS, floor -100) to one byte."""
    whole = block.size - block.size % FRAME_SAMPLES
    frames = block[:whole].reshape(-1, FRAME_SAMPLES)
    energy = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / FRAME_SAMPLES
    if whole < block.size:
        tail = block[whole:].astype(np.float64)
        energy = np.append(energy, np.mean(tail * tail))
    db = 10.0 * np.log10(energy / 32768.0**2 + 1e-10)
    return np.clip(np.round((db + 100.0) / LEVEL_STEP_DB), 0, 255).astype(np.uint8)


def find_silences(
    levels: np.ndarray, total_samples: int, min_silence_s: float = 0.3
) -> list[tuple[float, float]]:
    """Find runs of frames below an adaptive threshold lasting at least min_silence_s."""
    if levels.size == 0:
        return []
    db = levels.astype(np.float32) * LEVEL_STEP_DB - 100.0
    floor, loud = np.percentile(db, [2, 95])
    # Quiet relative to this recording: a quarter of the way from its floor to its speech level,
    # yet clearly below speech (a recording with no pauses has none), or quiet in absolute terms.
    relative = min(floor + max(6.0, 0.25 * (loud - floor)), loud - 10.0)
    threshold = max(relative, ALWAYS_SILENT_DB)
    quiet = np.concatenate(([False], db <= threshold, [False]))
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    keep = (ends - starts) * FRAME_SAMPLES >= min_silence_s * SAMPLE_RATE
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    total_s = total_samples / SAMPLE_RATE
    return [
        (round(float(s) * frame_s, 3), round(min(float(e) * frame_s, total_s), 3))
        for s, e in zip(starts[keep], ends[keep], strict=True)
    ]


def quiet_points(levels: np.ndarray) -> list[tuple[float, float]]:
    """Return (time, dBFS) of the quietest frame in each span, for cuts where no silence is."""
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    points = []
    for first in range(0, levels.size, QUIET_SPAN_FRAMES):
        frame = first + int(np.argmin(levels[first : first + QUIET_SPAN_FRAMES]))
        level_db = float(levels[frame]) * LEVEL_STEP_DB - 100.0
        points.append((round((frame + 0.5) * frame_s, 3), level_db))
    return points


class _Prefix:
    """Keeps the PCM blocks from the span a hook wants next until the decode has reached its end."""

    def __init__(self, hook: PrefixHook | None) -> None:
        self.on_prefix = hook.on_prefix if hook is not None else None
        self.start, self.end = 0, hook.samples if hook is not None else 0
        self.kept_from = 0  # the first sample of blocks[0]
        self.blocks: list[np.ndarray] = []
        self.levels: list[np.ndarray] = []

    def add(self, block: np.ndarray, total_samples: int, levels: np.ndarray) -> None:
        if self.on_prefix is None:
            return
        self.blocks.append(block)
        self.levels.append(levels)
        self._trim()
        while self.on_prefix is not None and total_samples >= self.end:
            # every block but the last of the decode is whole, so these are whole 30 ms frames
            a, b = self.start - self.kept_from, self.end - self.kept_from
            pcm = np.concatenate(self.blocks)[a:b]
            frames = np.concatenate(self.levels)[a // FRAME_SAMPLES : b // FRAME_SAMPLES]
            try:
                wanted = self.on_prefix(pcm, frames, self.start)
            except BrokenPipeError as exc:  # not the encoder's pipe: _transcode must not take it for one
                raise RuntimeError(f"the prefix hook failed: {exc}") from exc
            self._next(wanted)

    def _next(self, wanted: Span | None) -> None:
        if wanted is None:
            self.on_prefix, self.blocks, self.levels = None, [], []
            return
        start, end = _block_floor(wanted[0]), _block_ceil(wanted[1])
        if start < self.start or end <= self.end:
            raise RuntimeError(f"the prefix hook asked for {wanted}, behind what it has seen")
        self.start, self.end = start, end
        self._trim()

    def _trim(self) -> None:
        """Drops the blocks that end before the wanted span starts (they may not all be here yet)."""
        while self.blocks and self.kept_from + self.blocks[0].size <= self.start:
            self.kept_from += self.blocks[0].size
            del self.blocks[0], self.levels[0]


def _pump_pcm(
    decoded: IO[bytes],
    encoder: IO[bytes],
    expected_s: float,
    progress: Progress | None,
    prefix: PrefixHook | None = None,
) -> tuple[int, np.ndarray]:
    """Forward PCM from decoder to encoder in blocks; return sample count and frame levels."""
    # Buffered pipes: read(n) returns n bytes until EOF, so blocks hold whole 30 ms frames.
    block_bytes = BLOCK_FRAMES * FRAME_SAMPLES * 2
    total_samples = 0
    levels: list[np.ndarray] = []
    opening = _Prefix(prefix)
    last_report = time.monotonic()
    while data := decoded.read(block_bytes):
        encoder.write(data)
        block = np.frombuffer(data, dtype=np.int16)
        levels.append(_frame_levels(block.astype(np.float32)))
        total_samples += block.size
        opening.add(block, total_samples, levels[-1])
        now = time.monotonic()
        if progress is not None and now - last_report >= PROGRESS_EVERY_S:
            progress(total_samples / SAMPLE_RATE, expected_s)
            last_report = now
    if progress is not None:
        progress(total_samples / SAMPLE_RATE, expected_s)
    return total_samples, np.concatenate(levels) if levels else np.zeros(0, np.uint8)


def _stderr_tail(stderr: IO[bytes], lines: int = 3) -> str:
    """Return ffmpeg's last few stderr lines, joined for a person to read."""
    stderr.seek(0)
    text = stderr.read().decode("utf-8", "replace").strip().splitlines()
    return "; ".join(line.strip() for line in text[-lines:]) or "ffmpeg gave no reason"


def _widen_pipes(*pipes: IO[bytes]) -> None:
    """Grow pipe buffers so decoder, Python and encoder overlap instead of taking turns."""
    for pipe in pipes:
        try:
            fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # not Linux, or above /proc/sys/fs/pipe-max-size: the default works
            log.debug("could not widen pipe to %d bytes", PIPE_BYTES)


def _transcode(
    source: Path,
    dest: Path,
    expected_s: float,
    progress: Progress | None,
    flac_level: int,
    prefix: PrefixHook | None = None,
) -> tuple[int, np.ndarray]:
    """Run decoder and FLAC encoder side by side (one core each); raise on either failing."""
    # stderr goes to files so a chatty ffmpeg can never block on a full pipe.
    with tempfile.TemporaryFile() as dec_err, tempfile.TemporaryFile() as enc_err:
        decoder = subprocess.Popen(_decoder_argv(source), stdout=subprocess.PIPE, stderr=dec_err)
        encoder = subprocess.Popen(_encoder_argv(dest, flac_level), stdin=subprocess.PIPE, stderr=enc_err)
        assert decoder.stdout is not None and encoder.stdin is not None
        _widen_pipes(decoder.stdout, encoder.stdin)
        try:
            result = _pump_pcm(decoder.stdout, encoder.stdin, expected_s, progress, prefix)
        except BrokenPipeError:
            result = (0, np.zeros(0, np.uint8))
        finally:
            decoder.stdout.close()
            encoder.stdin.close()
            decoder_rc, encoder_rc = decoder.wait(), encoder.wait()
        if decoder_rc != 0:
            raise MediaError(f"audio could not be decoded: {_stderr_tail(dec_err)}")
        if encoder_rc != 0:
            # Not the upload's fault (disk full, bad destination): let the caller retry.
            raise RuntimeError(f"FLAC encoder failed: {_stderr_tail(enc_err)}")
    return result


def normalize(
    source: Path,
    dest: Path,
    expected_duration_s: float = 0.0,
    progress: Progress | None = None,
    min_silence_s: float = 0.3,
    flac_level: int = 5,
    prefix: PrefixHook | None = None,
) -> NormalizeResult:
    """Decode source once into 16 kHz mono FLAC at dest; measure duration and silences."""
    total_samples, levels = _transcode(source, dest, expected_duration_s, progress, flac_level, prefix)
    duration_s = total_samples / SAMPLE_RATE
    if total_samples == 0:
        raise MediaError("upload contains no audio samples")
    if expected_duration_s > 0 and duration_s < TRUNCATED_RATIO * expected_duration_s:
        raise MediaError(
            f"upload looks truncated: header says {expected_duration_s:.1f} s, "
            f"only {duration_s:.1f} s could be decoded"
        )
    silences = find_silences(levels, total_samples, min_silence_s)
    log.info("normalized source=%s duration_s=%.3f silences=%d", source, duration_s, len(silences))
    return NormalizeResult(duration_s=duration_s, silences=silences, quiet_points=quiet_points(levels))


def write_flac(pcm: np.ndarray, dest: Path, flac_level: int = 5) -> Path:
    """Encode 16 kHz mono int16 PCM to a FLAC file, sample for sample."""
    done = subprocess.run(
        _encoder_argv(dest, flac_level),
        input=np.ascontiguousarray(pcm, dtype="<i2").tobytes(),
        capture_output=True,
        timeout=FLAC_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip()[-300:] or "ffmpeg gave no reason"
        raise RuntimeError(f"FLAC encoder failed: {reason}")
    return dest
