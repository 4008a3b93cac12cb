"""Entry point of the notify service: `python -m services.notify.main`."""

from __future__ import annotations

import asyncio
import logging

from runtime.egress import open_policy
from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import EgressSettings, NatsSettings, StorageSettings
from services.notify.config import NotifySettings
from services.notify.handler import NotifyHandler

log = logging.getLogger("services.notify")


async def serve(settings: NotifySettings, egress: EgressSettings) -> None:
    handler = NotifyHandler(settings, open_policy(egress, log, "webhooks"))
    try:
        await serve_stage(handler, NatsSettings(), StorageSettings(), settings.concurrency)
    finally:
        await handler.aclose()  # the HTTP connection pool


def main() -> None:
    configure_logging("notify")
    asyncio.run(serve(NotifySettings(), EgressSettings()))


if __name__ == "__main__":
    main()
