"""Settings of the notify stage (webhooks)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_NOTIFY_", extra="ignore", env_ignore_empty=True)

    webhook_url: str | None = None  # called for every job, besides the job's own webhook_url
    webhook_secret: SecretStr | None = None  # signs every delivery (X-Aodio-Signature)
    public_url: str | None = None  # the API's base URL, e.g. https://aodio.example.com: absolute links
    timeout_s: float = Field(default=10.0, gt=0, le=300)  # one delivery, connect to answer
    concurrency: int = Field(default=4, ge=1, le=64)  # deliveries at once per replica

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("webhook_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value
