"""The ingest API: FastAPI app with NATS and storage opened once in its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runtime.bus import connect, provision
from runtime.jobs import JobStore
from runtime.settings import NatsSettings, StorageSettings
from runtime.storage import open_storage
from services.ingest.auth import KeyRing
from services.ingest.config import IngestSettings
from services.ingest.deps import Services
from services.ingest.routes import (
    deadletters,
    events,
    health,
    jobs,
    metrics,
    partial,
    replay,
    results,
    uploads,
    web,
)

DESCRIPTION = """Long recordings in, speaker-attributed transcript and summary out.

Submit a recording (`POST /v1/jobs`, `POST /v1/jobs/from-url`, or `POST /v1/uploads` for a presigned
upload straight to S3), follow it live (`GET /v1/jobs/{id}/events`), then read the transcript and the
summary in every format. With API keys configured, send `Authorization: Bearer <key>`.
"""


def create_app(
    settings: IngestSettings, nats_settings: NatsSettings, storage_settings: StorageSettings
) -> FastAPI:
    """Build the API; connections open on start-up and close on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage = open_storage(storage_settings)
        await asyncio.to_thread(storage.check)
        nc = await connect(nats_settings, name="aodio-ingest")
        js = nc.jetstream()
        topology = nats_settings.topology
        await provision(js, nats_settings, topology)
        jobs_store = await JobStore.open(js, topology.jobs_bucket)
        app.state.services = Services(settings, nc, topology, jobs_store, storage)
        try:
            yield
        finally:
            await nc.drain()

    app = FastAPI(title="Aodio", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.keyring = KeyRing.from_settings(settings)
    app.state.metrics = metrics.Metrics()
    app.middleware("http")(app.state.metrics.middleware)
    for module in (health, metrics, jobs, uploads, events, results, partial, replay, deadletters, web):
        app.include_router(module.router)
    app.mount("/web", web.static, name="web")
    return app
