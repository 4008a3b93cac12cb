"""Entry point of the transcribe service: `python -m services.transcribe.main`."""

from __future__ import annotations

import asyncio

from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import NatsSettings, StorageSettings
from services.transcribe.config import TranscribeSettings
from services.transcribe.handler import TranscribeHandler


def main() -> None:
    configure_logging("transcribe")
    settings = TranscribeSettings()
    asyncio.run(
        serve_stage(TranscribeHandler(settings), NatsSettings(), StorageSettings(), settings.concurrency)
    )


if __name__ == "__main__":
    main()
