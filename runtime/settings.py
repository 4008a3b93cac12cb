"""Settings shared by every process: NATS, storage, delivery policy. One typed object, validated at start."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.subjects import Topology


def default_data_dir() -> Path:
    """The seed's rule: a mounted Railway volume when there is one, else ./data."""
    import os

    mount = os.environ.get("RAILWAY_VOLUME_MOUNT_PATH")
    if mount and Path(mount).is_dir():
        return Path(mount)
    return Path("data").resolve()


class NatsSettings(BaseSettings):
    """How to reach NATS JetStream, and the delivery policy every stage shares."""

    model_config = SettingsConfigDict(env_prefix="AODIO_NATS_", extra="ignore", env_ignore_empty=True)

    url: str = "nats://127.0.0.1:4222"
    namespace: str = ""  # lets several installs (or tests) share one NATS server
    user: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    creds_file: Path | None = None
    nkey_seed_file: Path | None = None
    # TLS: a CA to trust (tls:// URLs, or a server that requires TLS), and a client certificate for mTLS.
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    stream_max_age_days: float = Field(default=30.0, gt=0)
    stream_replicas: int = Field(default=1, ge=1, le=5)
    duplicate_window_s: float = Field(default=1200.0, gt=0)
    ack_wait_s: float = Field(default=60.0, ge=1)
    max_deliver: int = Field(default=5, ge=1)
    retry_backoff_s: list[float] = Field(default_factory=lambda: [5.0, 30.0, 120.0, 300.0])
    drain_timeout_s: float = Field(default=30.0, ge=0)

    @property
    def topology(self) -> Topology:
        return Topology(self.namespace)


class StorageSettings(BaseSettings):
    """Where artifacts live: a directory (local disk, Railway volume) or any S3 endpoint."""

    model_config = SettingsConfigDict(env_prefix="AODIO_STORAGE_", extra="ignore", env_ignore_empty=True)

    backend: Literal["directory", "s3"] = "directory"
    directory: Path = Field(default_factory=lambda: default_data_dir() / "artifacts")
    s3_endpoint: str | None = None  # host:port, e.g. 127.0.0.1:8333 or s3.amazonaws.com
    s3_bucket: str = "aodio"
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str | None = None
    s3_secure: bool = False
    s3_prefix: str = ""  # e.g. "prod/" to share a bucket between deployments
    scratch_dir: Path = Field(default_factory=lambda: default_data_dir() / "scratch")

    @model_validator(mode="after")
    def _s3_needs_endpoint(self) -> StorageSettings:
        if self.backend == "s3" and not self.s3_endpoint:
            raise ValueError("AODIO_STORAGE_S3_ENDPOINT is required when AODIO_STORAGE_BACKEND=s3")
        return self


_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class EgressSettings(BaseSettings):
    """Which private hosts and ranges outbound requests (from-url fetches, webhooks) may reach."""

    model_config = SettingsConfigDict(env_prefix="AODIO_EGRESS_", extra="ignore", env_ignore_empty=True)

    # Comma-separated host names and IP ranges (CIDR) that from-url fetches and webhooks may reach although
    # private, loopback or link-local, e.g. `127.0.0.1/32,hooks.internal`; empty: public addresses only.
    # A cloud metadata address (169.254.169.254) passes only through a range that contains it.
    allow: str = ""

    @field_validator("allow")
    @classmethod
    def _hosts_and_ranges(cls, value: str) -> str:
        for entry in _entries(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not _HOST_NAME.match(entry):
                    raise ValueError(
                        f"{entry!r} is neither a host name nor an IP range such as 10.0.0.0/8"
                    ) from None
        return value

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """The host names allowed, lower-case, without a trailing dot."""
        return frozenset(e for e in _entries(self.allow) if not _is_network(e))

    @property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The IP ranges allowed (a bare address is a range of one)."""
        return tuple(ipaddress.ip_network(e, strict=False) for e in _entries(self.allow) if _is_network(e))


def _entries(text: str) -> list[str]:
    return [e.strip().lower().rstrip(".") for e in text.split(",") if e.strip()]


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True
