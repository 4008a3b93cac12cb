"""Entry point of the ingest API: `python -m services.ingest.main`."""

from __future__ import annotations

import uvicorn

from runtime.logs import configure_logging
from runtime.settings import NatsSettings, StorageSettings
from services.ingest.app import create_app
from services.ingest.config import IngestSettings


def main() -> None:
    configure_logging("ingest")
    settings = IngestSettings()
    app = create_app(settings, NatsSettings(), StorageSettings())
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
