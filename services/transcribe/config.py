"""Settings of the transcribe stage."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.transcribe.vocabulary import DEFAULT_TOKEN_BUDGET, VocabularyMode


class TranscribeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_TRANSCRIBE_", extra="ignore", env_ignore_empty=True)

    model: str = "base"  # "base", "tiny.en", a local CTranslate2 directory, or a hub name; a job may override
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "auto"  # auto: int8 on cpu, float16 on cuda
    cpu_threads: int = Field(default=1, ge=1, le=64)
    model_cache_dir: Path = Path("data/models")
    # base int8, batched, 1 thread, 10 min of the bench recordings (bench/transcribe_chunk.py):
    # English beam 5: 60.1 s, WER 0.215; beam 3: 52.9 s, 0.225; beam 2: 45.4 s, 0.195; beam 1: 44.1 s, 0.223.
    # French beam 5: 76.6 s, WER 0.876; beam 3: 66.2 s, 0.864; beam 2: 60.4 s, 0.846.
    beam_size: int = Field(default=2, ge=1, le=10)
    batched: bool = True  # BatchedInferencePipeline: faster even on one CPU thread, and no window skips
    batch_size: int = Field(default=4, ge=1, le=64)
    # Silero VAD's speech probability for a frame to count as speech (faster-whisper's default 0.5)
    vad_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    # a chunk where VAD hears under 1 s of speech is listened to again at this threshold (far-field,
    # very quiet speech); what it finds is decoded with the no-speech rule, so noise stays empty
    quiet_vad_threshold: float = Field(default=0.15, gt=0.0, lt=1.0)
    language_windows: int = Field(default=5, ge=1, le=20)  # 30 s speech windows voted on per chunk
    concurrency: int = Field(default=1, ge=1, le=16)
    # the languages this deployment expects, comma-separated ISO codes ("en,fr"); empty: any.
    # Detection chooses among them; a job's own language always wins.
    languages: str = ""
    # used when detection is unsure (below language_min_probability); unset: the best guess is kept
    default_language: str | None = None
    language_min_probability: float = Field(
        default=0.5, ge=0.0, le=1.0
    )  # a surer guess is the job's language
    # How a job's vocabulary reaches faster-whisper: hotwords, an initial prompt, both, or off
    # (services/transcribe/vocabulary.py). bench/vocabulary.py, batched, 30-term glossary, names
    # recall / WER of the name sentences / WER where no name is said: base off 0.06/0.66/0.239,
    # hotwords 0.61/0.42/0.241, prompt 0.61/0.42/0.248, both 0.55/0.45/0.253; tiny.en hotwords
    # 0.58/0.38, prompt 0.46/0.47. Hotwords also reach every window of the sequential path, where
    # a prompt reaches only the first window of each decode.
    vocabulary_mode: VocabularyMode = "hotwords"
    # tokens of vocabulary the decoder gets per window (both slots together); the rest is left out, said
    vocabulary_tokens: int = Field(default=DEFAULT_TOKEN_BUDGET, ge=16, le=220)

    @field_validator("languages", "default_language")
    @classmethod
    def _codes(cls, value: str | None) -> str | None:
        for code in (value or "").split(","):
            if code.strip() and not re.fullmatch(r"[a-z]{2,3}", code.strip()):
                raise ValueError(f"{code.strip()!r} is not an ISO 639-1 language code (en, fr, ...)")
        return value

    def expected_languages(self) -> tuple[str, ...]:
        """The languages detection may choose from; empty: any."""
        return tuple(code.strip() for code in self.languages.split(",") if code.strip())
