"""Settings of the assemble stage."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.voices import MATCH_THRESHOLD


class AssembleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_ASSEMBLE_", extra="ignore", env_ignore_empty=True)

    # Wait for speaker turns before assembling. Off only where no diarize service is deployed:
    # the transcript then has no speakers.
    require_diarization: bool = True
    concurrency: int = Field(default=1, ge=1, le=16)
    # A speaker is a voice profile's person when the cosine similarity of their voices is at least this
    # (the default is runtime/voices.py MATCH_THRESHOLD; ingest's AODIO_INGEST_VOICE_MATCH_THRESHOLD, for
    # replays from summarize, should be the same).
    voice_match_threshold: float = Field(default=MATCH_THRESHOLD, ge=0.0, le=1.0)
