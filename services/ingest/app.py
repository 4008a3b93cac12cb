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
from services.ingest.config import IngestSettings
from services.ingest.deps import Services
from services.ingest.routes import health, jobs, partial


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

    app = FastAPI(title="Aodio", version="0.1.0", lifespan=lifespan)
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(partial.router)
    return app
