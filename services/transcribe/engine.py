"""faster-whisper behind two calls: load a model once per process, transcribe one chunk's audio."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from services.transcribe import guards
from services.transcribe.guards import GuardReport
from services.transcribe.models import WhisperModelError, is_local_model, resolve_model
from services.transcribe.passes import (
    QUIET_BELOW_S,
    Decode,
    as_dict,
    batched_pass,
    quiet_pass,
    redecode,
    sequential_pass,
    without_echoes,
)
from services.transcribe.speech import QUIET_VAD_THRESHOLD, VAD_THRESHOLD, plan_windows
from services.transcribe.vocabulary import DecoderHint

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class LoadedModel:
    name: str
    path: str
    whisper: WhisperModel
    batched: BatchedInferencePipeline | None


@dataclass(frozen=True)
class EngineConfig:
    device: str = "cpu"
    compute_type: str = "auto"
    cpu_threads: int = 1
    cache_dir: Path = Path("data/models")
    batched: bool = False


class ModelCache:
    """One loaded model per name for the life of the process; thread-safe (loads run in threads)."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> LoadedModel:
        """The model called `name`, loading it on first use; raises WhisperModelError."""
        with self._lock:
            if name not in self._models:
                self._models[name] = self._load(name)
            return self._models[name]

    def _load(self, name: str) -> LoadedModel:
        path = resolve_model(name, self.config.cache_dir)
        if is_local_model(path):
            # set before faster_whisper (and so huggingface_hub) is first imported: it reads this once
            os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        device = _device(self.config.device)
        compute_type = self.config.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        try:
            whisper = WhisperModel(
                path,
                device=device,
                compute_type=compute_type,
                cpu_threads=self.config.cpu_threads,
                num_workers=1,
            )
        except Exception as exc:  # ctranslate2 and the hub raise many kinds; all mean "cannot load"
            raise WhisperModelError(f"cannot load whisper model {name!r} ({path}): {exc}") from exc
        batched = BatchedInferencePipeline(whisper) if self.config.batched else None
        return LoadedModel(name=name, path=path, whisper=whisper, batched=batched)


def _device(setting: str) -> str:
    if setting != "auto":
        return setting
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def decode_audio(path: Path) -> np.ndarray:
    """16 kHz mono float32 samples of an audio file."""
    from faster_whisper import decode_audio as fw_decode

    return fw_decode(str(path), sampling_rate=SAMPLE_RATE)


@dataclass(frozen=True)
class Transcription:
    segments: list[dict[str, Any]]  # times relative to the audio's start
    guards: GuardReport


def transcribe_audio(model: LoadedModel, audio: np.ndarray, **options: Any) -> list[dict[str, Any]]:
    """Segments with words, times relative to the audio's start (transcribe_chunk without the record)."""
    return transcribe_chunk(model, audio, **options).segments


def transcribe_chunk(
    model: LoadedModel,
    audio: np.ndarray,
    *,
    language: str | None,
    beam_size: int,
    batch_size: int = 8,
    vad_threshold: float = VAD_THRESHOLD,
    quiet_vad_threshold: float = QUIET_VAD_THRESHOLD,
    on_segment: Callable[[float], None] | None = None,
    hint: DecoderHint | None = None,
) -> Transcription:
    """Segments with words, and what the guards did; consumes faster-whisper's lazy generators here.

    VAD cuts the speech into windows of up to 30 s. The batched pipeline decodes them all at
    temperature 0; a window whose decode the guards flag (services/transcribe/guards.py) is decoded
    again alone the sequential way (temperature fallback, the no-speech rule), and a loop that
    survives is collapsed. A chunk where VAD hears (almost) nothing is listened to again at
    `quiet_vad_threshold`, and what that finds is decoded the sequential way. Without batching,
    faster-whisper's sequential transcribe decodes the whole chunk. Either way a window that ends
    with no words is recorded as dropped, with why.

    With a `hint` (the job's vocabulary) every decode gets its hotwords or prompt; a segment that
    reads as the vocabulary given back rather than heard (guards.vocabulary_echo) is decoded again
    without it, on the record.
    """
    if not model.whisper.model.is_multilingual:
        language = "en"
    report = GuardReport()
    decode = Decode(
        language,
        beam_size,
        batch_size,
        vad_threshold,
        hotwords=hint.hotwords if hint else None,
        initial_prompt=hint.prompt if hint else None,
    )
    segments = _decode_chunk(model, audio, decode, report, quiet_vad_threshold, on_segment)
    if hint is not None and hint.term_words:
        segments = without_echoes(model, audio, decode, segments, hint.term_words, report)
    return Transcription(segments, report)


def _decode_chunk(
    model: LoadedModel,
    audio: np.ndarray,
    decode: Decode,
    report: GuardReport,
    quiet_vad_threshold: float,
    on_segment: Callable[[float], None] | None,
) -> list[dict[str, Any]]:
    """The chunk's segments through the passes transcribe_chunk describes; decisions into `report`."""
    vad_threshold = decode.vad_threshold
    plan = plan_windows(audio, vad_threshold)
    if plan.speech_s < QUIET_BELOW_S and quiet_vad_threshold < vad_threshold:
        quiet = plan_windows(audio, quiet_vad_threshold)
        if quiet.speech_s > plan.speech_s:
            quieter = replace(decode, vad_threshold=quiet_vad_threshold)
            return quiet_pass(model, audio, quiet, quieter, report)
    report.windows, report.speech_s = len(plan.windows), plan.speech_s
    if not plan.windows:
        return []
    if model.batched is None:
        return sequential_pass(model, audio, plan, decode, report, on_segment)
    first_pass = batched_pass(model, plan, decode)
    out: list[dict[str, Any]] = []
    for index, segments in enumerate(first_pass):
        flag = guards.window_flag(segments) if segments else ("no_speech", "the first decode gave no words")
        if flag is None:
            placed = [plan.restore(as_dict(s)) for s in segments]
        else:
            placed = redecode(model, audio, plan, index, decode, segments, flag, report)
        out += placed
        if on_segment is not None and placed:
            on_segment(placed[-1]["end"])
    return out
