"""Settings of the ingest API."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_INGEST_", extra="ignore", env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1)
    # "name:sha256hex,..." (aodio key new NAME); empty: the API is open and listens on loopback only.
    api_keys: str = ""
    # Listen beyond loopback with no key: only behind a proxy that authenticates for us.
    allow_open: bool = False
    # Fetching a recording from a URL (POST /v1/jobs/from-url).
    fetch_timeout_s: float = Field(default=3600.0, gt=0)
    # Presigned S3 multipart uploads (POST /v1/uploads): part size and how long the URLs live.
    upload_part_bytes: int = Field(default=64 * 1024**2, ge=5 * 1024**2)
    upload_url_expiry_s: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)
    # The S3 endpoint as clients reach it, when it differs from the one the services use.
    public_s3_endpoint: str = ""
