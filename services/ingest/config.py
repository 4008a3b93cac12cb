"""Settings of the ingest API."""

from __future__ import annotations

from pydantic import ByteSize, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.voices import MATCH_THRESHOLD
from services.ingest.apikeys import KeyConfigError, parse_keys
from services.ingest.limits import Limits, parse_key_limits


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
    # Set by `aodio up`: the file where its supervisor records restarts, shown by /healthz.
    supervisor_file: str = ""
    # Disk a job fills per byte uploaded: the recording, its normalized 16 kHz FLAC (1 to 2.5x a
    # compressed source) and the chunks cut from it; an upload without that room gets 507 (S3: x1, the spool).
    disk_space_factor: float = Field(default=4.0, ge=0)
    # Left free beyond that for everything else on the volume (the embedded NATS store, logs); "1GiB".
    min_free_bytes: ByteSize = Field(default=ByteSize(1024**3), ge=0)
    # Jobs one API key (or the open API's one caller) may have uploading, queued or running; 0: no limit.
    max_jobs_per_key: int = Field(default=0, ge=0)
    # Bytes one API key may upload in any rolling 24 h ("10GiB"); over it: 429 and Retry-After; 0: no limit.
    max_daily_bytes_per_key: ByteSize = Field(default=ByteSize(0), ge=0)
    # Per-key overrides of the two limits, e.g. "alice:jobs=2:bytes=10GiB,ci:jobs=1" (0: no limit).
    key_limits: str = ""
    # A job admitted under a limit whose upload has not finished holds its place at most this long,
    # so one whose replica died mid-upload frees it.
    limits_hold_s: float = Field(default=3600.0, gt=0)
    # Voice profiles: the match threshold a replay from summarize identifies speakers with (assemble
    # does it for every other run, with AODIO_ASSEMBLE_VOICE_MATCH_THRESHOLD: keep the two the same).
    voice_match_threshold: float = Field(default=MATCH_THRESHOLD, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _key_limits_name_keys(self) -> IngestSettings:
        default = Limits(self.max_jobs_per_key, int(self.max_daily_bytes_per_key))
        named = parse_key_limits(self.key_limits, default)
        try:
            known = set(parse_keys(self.api_keys).values())
        except KeyConfigError:  # reported by main with its own message
            return self
        unknown = sorted(set(named) - known)
        if unknown:
            raise ValueError(
                f"AODIO_INGEST_KEY_LIMITS names {', '.join(unknown)}, not in AODIO_INGEST_API_KEYS"
            )
        return self
