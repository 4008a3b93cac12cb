"""Cut the normalized FLAC into sample-exact chunk files, a few ffmpeg processes in parallel."""

from __future__ import annotations

import logging
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from services.transcode.chunking import Chunk

__all__ = ["cut_chunks", "to_sample"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
CUT_TIMEOUT_S = 1800.0


def to_sample(t: float, sample_rate: int = SAMPLE_RATE) -> int:
    """The sample index a chunk boundary falls on."""
    return round(t * sample_rate)


def chunk_path(out_dir: Path, index: int) -> Path:
    """Where chunk index is written: out_dir/00000.flac."""
    return out_dir / f"{index:05d}.flac"


def _group_argv(flac: Path, group: Sequence[Chunk], out_dir: Path, last: bool, sample_rate: int) -> list[str]:
    """One ffmpeg: seek to the group's first sample, split with asegment, encode each chunk."""
    first = to_sample(group[0].start_s, sample_rate)
    end = to_sample(group[-1].end_s, sample_rate)
    # The seek lands on an exact sample (FLAC is sample-indexed and the decoder trims to it);
    # asegment and atrim then count samples from there, so every cut is sample-exact.
    inputs: dict[str, str] = {"ss": f"{first / sample_rate:.7f}"} if first else {}
    if not last:
        inputs["t"] = f"{(end - first) / sample_rate + 1.0:.7f}"
    audio = ffmpeg.input(f"file:{flac}", **inputs)["a:0"]
    audio = audio.filter("atrim", end_sample=end - first)
    cuts = [to_sample(c.start_s, sample_rate) - first for c in group[1:]]
    streams = [audio] if not cuts else audio.filter_multi_output("asegment", samples="|".join(map(str, cuts)))
    outputs = [
        ffmpeg.output(streams[i], f"file:{chunk_path(out_dir, c.index)}", acodec="flac")
        for i, c in enumerate(group)
    ]
    compiled = ffmpeg.merge_outputs(*outputs).overwrite_output().compile()
    return ["ffmpeg", "-nostdin", "-loglevel", "error", *compiled[1:]]


def _groups(chunks: Sequence[Chunk], workers: int) -> list[list[Chunk]]:
    """Split chunks into at most `workers` contiguous groups of about equal duration."""
    total = chunks[-1].end_s - chunks[0].start_s
    groups: list[list[Chunk]] = [[]]
    for chunk in chunks:
        share = total * len(groups) / workers
        if groups[-1] and chunk.start_s - chunks[0].start_s >= share and len(groups) < workers:
            groups.append([])
        groups[-1].append(chunk)
    return groups


def cut_chunks(
    normalized_flac: Path,
    chunks: Sequence[Chunk],
    out_dir: Path,
    workers: int = 2,
    sample_rate: int = SAMPLE_RATE,
) -> list[Path]:
    """Write each chunk to out_dir/NNNNN.flac; the files concatenate to the input exactly."""
    if not chunks:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = _groups(chunks, max(1, workers))
    procs = []
    with tempfile.TemporaryFile() as stderr:
        for i, group in enumerate(groups):
            argv = _group_argv(normalized_flac, group, out_dir, i == len(groups) - 1, sample_rate)
            log.debug("cutting chunks=%d..%d argv=%s", group[0].index, group[-1].index, argv)
            procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr))
        codes = [proc.wait(timeout=CUT_TIMEOUT_S) for proc in procs]
        if any(codes):
            stderr.seek(0)
            reason = stderr.read().decode("utf-8", "replace").strip()[-500:]
            raise RuntimeError(f"cutting chunks failed (exit {codes}): {reason}")
    log.info("cut chunks=%d groups=%d", len(chunks), len(groups))
    return [chunk_path(out_dir, c.index) for c in chunks]
