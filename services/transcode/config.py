"""Settings of the transcode stage."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TranscodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_TRANSCODE_", extra="ignore", env_ignore_empty=True)

    chunk_seconds: float = Field(default=600.0, ge=30, le=3600)  # a job may override it
    max_duration_s: float = Field(default=12 * 3600.0, gt=0)
    # The first chunk of a recording longer than one chunk aims at this length (0: like the others),
    # so its text is readable seconds after the upload instead of after a whole chunk: 30 s is one
    # pass of Whisper's encoder.
    first_chunk_s: float = Field(default=30.0, ge=0, le=3600)
    # Publish that first chunk as soon as its seconds are decoded, while the rest of the recording
    # still is (about 35 s sooner on a 4 h file); the chunk count then comes from ffprobe's duration.
    # Off: every chunk is published after the whole file is decoded, planned from its exact length.
    early_first_chunk: bool = True
    # With early_first_chunk, up to this many chunks go out mid-decode, each once its own stretch is
    # decoded (and only in the first half of the probed duration), so more transcribers start while the
    # decode goes on. 1 (chunk 0 only) where the cores are few: on 2 cores, 3 slowed the decode the
    # diarizer waits for from 36 to 57 s and the transcript came 53 s later. Raise it where there are
    # cores to spare. Memory: one chunk's PCM (19 MB at 600 s).
    early_chunks: int = Field(default=1, ge=1, le=16)
    # Recordings longer than this go to the long lane: every stage serves both lanes at once, so short
    # jobs pass long ones instead of queueing behind hours of audio.
    long_job_s: float = Field(default=1800.0, gt=0)
    concurrency: int = Field(default=1, ge=1, le=16)
