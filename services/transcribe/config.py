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
    beam_size: int = Field(default=1, ge=1, le=10)  # 5 costs ~2x the time on CPU for no WER gain here
    batched: bool = False  # BatchedInferencePipeline: pays on a GPU, not on a 1-thread CPU
    batch_size: int = Field(default=8, ge=1, le=64)
    language_windows: int = Field(default=5, ge=1, le=20)  # 30 s speech windows voted on per chunk
    concurrency: int = Field(default=1, ge=1, le=16)
