"""Entry point of the ingest API: `python -m services.ingest.main`."""

from __future__ import annotations

import ipaddress
import logging
import sys

import uvicorn

from runtime.egress import open_policy
from runtime.logs import configure_logging
from runtime.retention import RetentionSettings
from runtime.settings import EgressSettings, NatsSettings, StorageSettings
from services.ingest.app import create_app
from services.ingest.auth import KeyConfigError, parse_keys
from services.ingest.config import IngestSettings

log = logging.getLogger("services.ingest")


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main() -> None:
    configure_logging("ingest")
    settings = IngestSettings()
    try:
        keys = parse_keys(settings.api_keys)
    except KeyConfigError as exc:
        sys.exit(f"ingest: {exc}")
    if not keys and not is_loopback(settings.host) and not settings.allow_open:
        sys.exit(
            f"ingest: no API key is configured, so it listens on 127.0.0.1 only, not {settings.host}. "
            "Set AODIO_INGEST_API_KEYS (make a key with `aodio key new NAME`), or "
            "AODIO_INGEST_ALLOW_OPEN=true behind a proxy that authenticates."
        )
    if not keys:
        log.warning("no API key configured: the API is open to anyone who can reach %s", settings.host)
    egress = open_policy(EgressSettings(), log, "from-url fetches")
    app = create_app(settings, NatsSettings(), StorageSettings(), egress, RetentionSettings())
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=10
    )


if __name__ == "__main__":
    main()
