"""Entry point of the transcode service: `python -m services.transcode.main`."""

from __future__ import annotations

import asyncio

from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import NatsSettings, StorageSettings
from services.transcode.config import TranscodeSettings
from services.transcode.handler import TranscodeHandler


def main() -> None:
    configure_logging("transcode")
    settings = TranscodeSettings()
    asyncio.run(
        serve_stage(TranscodeHandler(settings), NatsSettings(), StorageSettings(), settings.concurrency)
    )


if __name__ == "__main__":
    main()
