"""The by-hand baseline: one Python process that transcribes, diarizes and summarises, one step after another.

    python -m bench.baseline [--file F] [--save DIR] [--out DIR] [--summary-model local/...]

Issue 9 asks for Aodio's end-to-end figures side by side with what people do by hand today: "a single
Python process that transcribes the whole file with faster-whisper, diarizes it with pyannote and
summarises with the same LLM, one after the other". This is that script, shaped like the ones users
write, so the comparison measures Aodio's architecture (chunks, stages running at once, bounded
memory) and not different models:

1. decode: ffmpeg once into 16 kHz mono float32 in memory, as ``whisperx.load_audio`` does;
2. transcribe: faster-whisper over the whole array (word timestamps, language detected), with the
   Whisper model and beam width Aodio's transcribe stage resolves for its settings (``base``, beam 2,
   offline), int8 on every core; ``--transcriber sequential`` (the default) is the plain
   ``WhisperModel.transcribe``, ``--transcriber batched`` faster-whisper's ``BatchedInferencePipeline``
   (VAD windows decoded in batches, what WhisperX does: the strongest by-hand peer), ``--batch-size``;
3. diarize: the same pyannote segmentation-3.0 + CAM++ models as Aodio's diarize stage, called once
   over the whole recording (one window, as a pipeline called once on a file), torch on every core;
4. attribute: each word takes the speaker whose turns overlap it most (the assemble stage's code);
5. summarise: Aodio's own summarize code and LLM (the local llama.cpp server with the Qwen GGUF),
   so this step differs from Aodio's only in what runs beside it.

Each step's time includes its imports and model loading, as a user pays them. The decoded array is
dropped once written to the WAV the diarizer reads, so the baseline holds no more than it must.
Memory is sampled from /proc over this process and its children (ffmpeg, the llama.cpp server).
Only the JSON goes to stdout (everything else, C libraries included, goes to stderr), so bench/run.py
can run this as a subprocess and parse it. Numbers only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import soundfile

from bench.memory import PeakSampler
from contracts.artifacts import Transcript, Word
from services.assemble.speakers import assign_speakers, build_segments, number_speakers
from services.transcribe.config import TranscribeSettings
from services.transcribe.models import resolve_model

if TYPE_CHECKING:
    from contracts.artifacts import Summary
    from services.diarize.pipeline import Diarization

# Not bench.run's: importing it would load the local stack's modules into the process measured here.
DEFAULT_FILE = Path("bench/audio/long_4h15.mp3")
SAMPLE_RATE = 16000
COMPUTE_TYPE = "int8"
MIB = 1024 * 1024

log = logging.getLogger("bench.baseline")


def ensure_recording(path: Path) -> None:
    """Generate the default 4 h 15 recording once, as bench/run.py does."""
    if path.exists() or path != DEFAULT_FILE:
        return
    log.info("generating %s (once)", path)
    command = [sys.executable, "-m", "bench.generate_long", "--out", str(path)]
    subprocess.run(command, check=True)


class Steps:
    """Wall seconds, CPU seconds (this process and its finished children) and peak RSS of each step."""

    def __init__(self) -> None:
        self.wall_s: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}
        self.peak_rss: dict[str, int] = {}
        self.peak_pss: dict[str, int] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        log.info("%s: started", name)
        wall, cpu = time.perf_counter(), _cpu_s()
        with PeakSampler({name: os.getpid()}) as sampler:
            yield
        self.wall_s[name] = round(time.perf_counter() - wall, 2)
        self.cpu_s[name] = round(_cpu_s() - cpu, 2)
        self.peak_rss[name], self.peak_pss[name] = sampler.peaks[name], sampler.peak_total_pss
        log.info("%s: %.1f s", name, self.wall_s[name])


def _cpu_s() -> float:
    # RUSAGE_CHILDREN counts children once reaped: ffmpeg at once, the llama server when stopped
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def decode(path: Path) -> np.ndarray:
    """16 kHz mono float32 samples of the whole file, decoded once by ffmpeg (whisperx.load_audio's way)."""
    command = ["ffmpeg", "-nostdin", "-threads", "0", "-i", str(path)]
    command += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise SystemExit(f"ffmpeg cannot decode {path}: {' '.join(tail) or f'exit {done.returncode}'}")
    return np.frombuffer(done.stdout, dtype=np.float32)


TRANSCRIBERS = ("sequential", "batched")


def transcribe(
    audio: np.ndarray,
    model_path: str,
    beam_size: int,
    threads: int,
    transcriber: str = "sequential",
    batch_size: int = 4,
) -> tuple[list[Word], str | None]:
    """Every word of the recording, by faster-whisper's sequential or batched API; and the language found."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type=COMPUTE_TYPE, cpu_threads=threads)
    if transcriber == "batched":
        pipeline = BatchedInferencePipeline(model)
        segments, info = pipeline.transcribe(
            audio, beam_size=beam_size, word_timestamps=True, language=None, batch_size=batch_size
        )
    else:
        segments, info = model.transcribe(audio, beam_size=beam_size, word_timestamps=True, language=None)
    words = [
        Word(float(w.start), float(max(w.start, w.end)), w.word, float(w.probability))  # numpy scalars
        for segment in segments  # a lazy generator: the decoding happens here
        for w in segment.words or ()
        if w.word.strip()
    ]
    return words, info.language


def diarize(wav: Path, threads: int) -> tuple[Diarization, dict[str, Any]]:
    """Speaker turns of the whole recording in one window, with Aodio's diarize models and thresholds."""
    from services.diarize import compat

    compat.prepare()  # before anything imports pyannote (torchaudio beside CPU torch)
    import torch

    from services.diarize.clustering import SpeakerBounds
    from services.diarize.config import DiarizeSettings
    from services.diarize.models import ModelNames, load_diarizer
    from services.diarize.pipeline import diarize_file

    torch.set_num_threads(threads)
    settings = DiarizeSettings()
    names = ModelNames(settings.segmentation_path(), settings.embedding_path())
    # pyannote's own pipeline embeds every chunk's speakers; Aodio's default embeds every other one
    diarizer = load_diarizer(names, replace(settings.window_tuning(), embed_stride=1))
    whole_file = replace(settings.global_tuning(), window_s=math.inf)
    found = diarize_file(wav, diarizer, SpeakerBounds(), whole_file)
    used = {"segmentation": names.segmentation, "embedding": names.embedding, "window_s": "whole file"}
    return found, used


def build_transcript(
    words: list[Word], language: str | None, duration_s: float, model_path: str, found: Diarization
) -> Transcript:
    """The structure Aodio's assemble stage writes (transcript.json), which the summarizer reads."""
    turns = [{"start": t.start, "end": t.end, "speaker": t.speaker} for t in found.turns]
    words, speaker_map = number_speakers(assign_speakers(words, turns))  # as the assemble stage does
    return Transcript(
        language=language,
        duration_s=duration_s,
        speakers=list(speaker_map.values()),
        segments=build_segments(words),
        model={"transcribe": model_path, "chunk_languages": {language: 1} if language else {}},
        diarization={
            "speaker_map": speaker_map,
            "turn_count": len(found.turns),
            "speakers_without_words": [s for s in found.speakers if s not in speaker_map],
        },
    )


def summarize(transcript: Transcript, model: str | None) -> tuple[Summary, dict[str, Any]]:
    """Aodio's summary of the transcript by its LLM; the llama.cpp server started here is stopped here."""
    from services.summarize.config import SummarizeSettings
    from services.summarize.handler import SummarizeHandler

    # always an LLM, on a server of this process's own (never one AODIO_SUMMARIZE_LOCAL_SERVER_URL names)
    settings = SummarizeSettings(method="llm", local_server_url=None)
    name = model or settings.model
    handler = SummarizeHandler(settings)
    try:
        summary = asyncio.run(handler.summarize(transcript, "llm", name))
    finally:
        handler.close()
    used = {
        "model": name,
        "strategy": settings.strategy,
        "llm_threads": settings.local_threads or os.cpu_count(),
        "llm_n_ctx": settings.local_n_ctx,
    }
    return summary, used


def run_baseline(
    path: Path,
    out_dir: Path | None = None,
    summary_model: str | None = None,
    transcriber: str = "sequential",
    batch_size: int = 4,
) -> dict[str, Any]:
    """Run the steps on one recording; figures as a JSON-ready dict (and outputs in out_dir)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # never a download; huggingface_hub reads it once, on import
    # OpenMP's idle threads spin by default; with its cores shared, torch at 2 threads took 334 s to
    # diarize 90 s (5 s with PASSIVE). Read when torch and CTranslate2 load, so set before both.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    threads = os.cpu_count() or 1
    whisper = TranscribeSettings()
    steps = Steps()
    started = time.perf_counter()
    with steps.timed("decode"):
        audio = decode(path)
    audio_s = len(audio) / SAMPLE_RATE
    with steps.timed("transcribe"):
        model_path = resolve_model(whisper.model, whisper.model_cache_dir)
        words, language = transcribe(audio, model_path, whisper.beam_size, threads, transcriber, batch_size)
    with steps.timed("diarize"), tempfile.TemporaryDirectory(prefix="aodio-baseline-") as tmp:
        wav = Path(tmp) / "audio.wav"
        soundfile.write(wav, audio, SAMPLE_RATE, subtype="PCM_16")  # the diarizer reads a file
        del audio
        found, diarize_used = diarize(wav, threads)
    with steps.timed("attribute"):
        transcript = build_transcript(words, language, audio_s, model_path, found)
    with steps.timed("summarize"):
        summary, summary_used = summarize(transcript, summary_model)
    total_s = time.perf_counter() - started
    if out_dir is not None:
        write_outputs(out_dir, transcript, summary)
    settings = {
        "whisper_model": whisper.model,
        "whisper_model_path": model_path,
        "whisper_api": (
            f"BatchedInferencePipeline.transcribe (batch_size {batch_size})"
            if transcriber == "batched"
            else "WhisperModel.transcribe (sequential)"
        ),
        "transcriber": transcriber,
        "beam_size": whisper.beam_size,
        "compute_type": COMPUTE_TYPE,
        "cpu_threads": threads,
        "torch_threads": threads,
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "diarize": diarize_used,
        "summarize": summary_used,
    }
    return report(path, audio_s, total_s, steps, transcript, summary, found) | {"settings": settings}


def report(
    path: Path,
    audio_s: float,
    total_s: float,
    steps: Steps,
    transcript: Transcript,
    summary: Summary,
    found: Diarization,
) -> dict[str, Any]:
    """The figures of one run, named as bench/run.py names its own where they mean the same."""
    return {
        "file": str(path),
        "audio_s": round(audio_s, 2),
        **{f"{name}_s": wall for name, wall in steps.wall_s.items()},
        "total_s": round(total_s, 2),
        "rtf": round(total_s / audio_s, 5) if audio_s else None,
        "speed_x": round(audio_s / total_s, 1) if total_s else None,
        "words": sum(len(s.words) for s in transcript.segments),
        "speakers": len(transcript.speakers),
        "turns": len(found.turns),
        "language": transcript.language,
        "summary": {"method": summary.method, "model": summary.model, "note": summary.note},
        "peak_rss_mib": round(max(steps.peak_rss.values()) / MIB, 1),
        "peak_pss_mib": round(max(steps.peak_pss.values()) / MIB, 1),
        "cpu_s": steps.cpu_s,
        "cpu_s_total": round(sum(steps.cpu_s.values()), 1),  # this process and its children (llama server)
        # None: the step ended before the sampler first looked
        "peak_rss_step_mib": {name: round(size / MIB, 1) or None for name, size in steps.peak_rss.items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def write_outputs(out_dir: Path, transcript: Transcript, summary: Summary) -> None:
    """transcript.json, summary.json and summary.md, for a look at what the baseline produced."""
    from exports.summary import to_json as summary_json
    from exports.summary import to_markdown
    from exports.transcript import to_json as transcript_json

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "transcript.json").write_bytes(transcript_json(transcript))
    (out_dir / "summary.json").write_bytes(summary_json(summary))
    (out_dir / "summary.md").write_text(to_markdown(summary))
    log.info("outputs in %s", out_dir)


def json_stdout() -> TextIO:
    """The real stdout, kept for the JSON alone: fd 1 goes to stderr from here on, so libraries, C code,
    children and exit hooks (litellm logs INFO to stdout, and flushes its queue at exit) cannot mix in."""
    sys.stdout.flush()
    real = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return real


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--save", type=Path, default=Path("bench/out"), help="folder for the JSON")
    parser.add_argument("--out", type=Path, default=None, help="also write transcript and summary here")
    parser.add_argument("--summary-model", default=None, help="default: AODIO_SUMMARIZE_MODEL's default")
    parser.add_argument("--transcriber", choices=TRANSCRIBERS, default="sequential")
    parser.add_argument("--batch-size", type=int, default=4, help="for --transcriber batched")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks still stop the llama server
    stdout = json_stdout()
    ensure_recording(args.file)
    result = run_baseline(args.file, args.out, args.summary_model, args.transcriber, args.batch_size)
    text = json.dumps(result, indent=2)
    stdout.write(text + "\n")
    stdout.flush()
    args.save.mkdir(parents=True, exist_ok=True)
    (args.save / time.strftime(f"baseline-{args.transcriber}-%Y%m%d-%H%M%S.json")).write_text(text + "\n")


if __name__ == "__main__":
    main()
