"""Entry point of the summarize service: `python -m services.summarize.main`."""

from __future__ import annotations

import asyncio

from runtime.logs import configure_logging
from runtime.service import serve_stage
from runtime.settings import NatsSettings, StorageSettings
from services.summarize.config import SummarizeSettings
from services.summarize.handler import SummarizeHandler


def main() -> None:
    configure_logging("summarize")
    settings = SummarizeSettings()
    handler = SummarizeHandler(settings)
    try:
        asyncio.run(serve_stage(handler, NatsSettings(), StorageSettings(), settings.concurrency))
    finally:
        handler.close()  # the embedded llama.cpp server, when this process started one


if __name__ == "__main__":
    main()
