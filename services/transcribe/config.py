"""Settings of the transcribe stage."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TranscribeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_TRANSCRIBE_", extra="ignore", env_ignore_empty=True)

    model: str = "base"  # "base", "tiny.en", a local CTranslate2 directory, or a hub name; a job may override
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "auto"  # auto: int8 on cpu, float16 on cuda
    cpu_threads: int = Field(default=1, ge=1, le=64)
    model_cache_dir: Path = Path("data/models")
    # measured on 10 min of the bench recording, base int8, 1 thread (services/transcribe/bench_chunk.py):
    # batched beam 5: RTF 0.078, WER 0.12; batched beam 1: 0.066, 0.14; sequential beam 1: 0.10, 0.18
    beam_size: int = Field(default=5, ge=1, le=10)
    batched: bool = True  # BatchedInferencePipeline: faster even on one CPU thread, and no window skips
    batch_size: int = Field(default=4, ge=1, le=64)
    language_windows: int = Field(default=5, ge=1, le=20)  # 30 s speech windows voted on per chunk
    concurrency: int = Field(default=1, ge=1, le=16)
