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
    # base int8, batched, 1 thread, 10 min of the bench recordings (services/transcribe/bench_chunk.py):
    # English beam 5: 60.1 s, WER 0.215; beam 3: 52.9 s, 0.225; beam 2: 45.4 s, 0.195; beam 1: 44.1 s, 0.223.
    # French beam 5: 76.6 s, WER 0.876; beam 3: 66.2 s, 0.864; beam 2: 60.4 s, 0.846.
    beam_size: int = Field(default=2, ge=1, le=10)
    batched: bool = True  # BatchedInferencePipeline: faster even on one CPU thread, and no window skips
    batch_size: int = Field(default=4, ge=1, le=64)
    language_windows: int = Field(default=5, ge=1, le=20)  # 30 s speech windows voted on per chunk
    concurrency: int = Field(default=1, ge=1, le=16)
