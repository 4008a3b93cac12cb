"""Entry point of the diarize service: `python -m services.diarize.main`."""

from __future__ import annotations

import asyncio

from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import NatsSettings, StorageSettings
from services.diarize.config import DiarizeSettings
from services.diarize.handler import DiarizeHandler


def main() -> None:
    configure_logging("diarize")
    settings = DiarizeSettings()
    asyncio.run(
        serve_stage(DiarizeHandler(settings), NatsSettings(), StorageSettings(), settings.concurrency)
    )


if __name__ == "__main__":
    main()
