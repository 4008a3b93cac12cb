"""Entry point of the assemble service: `python -m services.assemble.main`."""

from __future__ import annotations

import asyncio

from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import NatsSettings, StorageSettings
from services.assemble.config import AssembleSettings
from services.assemble.handler import AssembleHandler


def main() -> None:
    configure_logging("assemble")
    settings = AssembleSettings()
    asyncio.run(
        serve_stage(AssembleHandler(settings), NatsSettings(), StorageSettings(), settings.concurrency)
    )


if __name__ == "__main__":
    main()
