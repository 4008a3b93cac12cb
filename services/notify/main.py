"""Entry point of the notify service: `python -m services.notify.main`."""

from __future__ import annotations

import asyncio

from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import NatsSettings, StorageSettings
from services.notify.config import NotifySettings
from services.notify.handler import NotifyHandler


async def serve(settings: NotifySettings) -> None:
    handler = NotifyHandler(settings)
    try:
        await serve_stage(handler, NatsSettings(), StorageSettings(), settings.concurrency)
    finally:
        await handler.aclose()  # the HTTP connection pool


def main() -> None:
    configure_logging("notify")
    asyncio.run(serve(NotifySettings()))


if __name__ == "__main__":
    main()
