"""faster-whisper behind two calls: load a model once per process, transcribe one chunk's audio."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from services.transcribe.models import ModelError, is_local_model, resolve_model

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

SAMPLE_RATE = 16000

# Guards for long recordings. Not conditioning on the previous text stops one hallucination from
# repeating through every window after it (the classic loop across long silences); the three
# thresholds send a window that looks like noise, or decodes as a repetition, to the temperature
# fallback, or drop it as silence.
DECODE_GUARDS: dict[str, Any] = {
    "task": "transcribe",
    "word_timestamps": True,
    "vad_filter": True,
    "condition_on_previous_text": False,
    "no_speech_threshold": 0.6,
    "compression_ratio_threshold": 2.4,
    "log_prob_threshold": -1.0,
    "temperature": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
}


def _looks_hallucinated(segment: Any) -> bool:
    """Whisper's own skip rules, applied after the fact: the batched pipeline decodes each VAD
    segment (<= 30 s) once, at temperature 0, with no fallback and no no-speech skip."""
    silent = (
        segment.no_speech_prob > DECODE_GUARDS["no_speech_threshold"]
        and segment.avg_logprob < DECODE_GUARDS["log_prob_threshold"]
    )
    return silent or segment.compression_ratio > DECODE_GUARDS["compression_ratio_threshold"]


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
        """The model called `name`, loading it on first use; raises ModelError."""
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
            raise ModelError(f"cannot load whisper model {name!r} ({path}): {exc}") from exc
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


def transcribe_audio(
    model: LoadedModel,
    audio: np.ndarray,
    *,
    language: str | None,
    beam_size: int,
    batch_size: int = 8,
    on_segment: Callable[[float], None] | None = None,
) -> list[dict[str, Any]]:
    """Segments with words, times relative to the audio's start; consumes the lazy generator here."""
    if not model.whisper.model.is_multilingual:
        language = "en"
    if model.batched is not None:
        segments, _ = model.batched.transcribe(
            audio, language=language, beam_size=beam_size, batch_size=batch_size, **DECODE_GUARDS
        )
    else:
        segments, _ = model.whisper.transcribe(audio, language=language, beam_size=beam_size, **DECODE_GUARDS)
    out = []
    for segment in segments:
        if model.batched is not None and _looks_hallucinated(segment):
            continue
        out.append(
            {
                "start": segment.start,
                "end": segment.end,
                "text": segment.text.strip(),
                "avg_logprob": segment.avg_logprob,
                "no_speech_prob": segment.no_speech_prob,
                "words": [
                    {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                    for w in segment.words or ()
                ],
            }
        )
        if on_segment is not None:
            on_segment(segment.end)
    return out
