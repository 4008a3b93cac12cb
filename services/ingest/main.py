"""Entry point of the ingest API: `python -m services.ingest.main`."""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import sys
from types import FrameType

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


def dual_stack_socket(host: str, port: int) -> socket.socket | None:
    """For host "::", one listening socket for IPv6 and IPv4 alike; None for any other host.

    asyncio sets IPV6_V6ONLY on the sockets it opens, so "::" would refuse 127.0.0.1 (the image's
    health check) and every IPv4 client; Railway's private network needs "::" for IPv6.
    """
    if host.strip("[]") != "::":
        return None
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    return sock


def exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """After its graceful shutdown, uvicorn raises the signal it stopped on again, to this handler."""
    raise SystemExit(0)


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
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=10
    )
    sock = dual_stack_socket(settings.host, settings.port)
    # uvicorn restores the handler it found once it has shut down, then re-raises SIGTERM: with the
    # default one, a clean stop would end as "killed by SIGTERM" (exit 143; buildah says 1)
    signal.signal(signal.SIGTERM, exit_cleanly)
    uvicorn.Server(config).run(sockets=[sock] if sock else None)


if __name__ == "__main__":
    main()
