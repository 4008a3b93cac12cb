"""Settings of the assemble stage."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AssembleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_ASSEMBLE_", extra="ignore", env_ignore_empty=True)

    # Wait for speaker turns before assembling. Off only where no diarize service is deployed:
    # the transcript then has no speakers.
    require_diarization: bool = True
    concurrency: int = Field(default=1, ge=1, le=16)
