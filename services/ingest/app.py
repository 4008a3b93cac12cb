"""The ingest API: FastAPI app with NATS and storage opened once in its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats.errors
import nats.js.errors
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from runtime.bus import connect, disconnect, provision
from runtime.egress import EgressPolicy
from runtime.jobs import JobStore
from runtime.retention import RetentionSettings, Sweeper
from runtime.settings import NatsSettings, StorageSettings
from runtime.storage import open_storage
from services.ingest.answers import DocumentedApp, refusals
from services.ingest.auth import KeyRing
from services.ingest.config import IngestSettings
from services.ingest.deps import Services
from services.ingest.routes import (
    deadletters,
    edits,
    events,
    glossary,
    health,
    jobs,
    metrics,
    partial,
    people,
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


async def _nats_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """NATS did not answer in time (a restart, a cluster failover): a retry-later answer, not a 500."""
    detail = f"the job store is not answering ({type(exc).__name__}); retry in a few seconds"
    return JSONResponse({"detail": detail}, status_code=503, headers={"retry-after": "5"})


def create_app(
    settings: IngestSettings,
    nats_settings: NatsSettings,
    storage_settings: StorageSettings,
    egress: EgressPolicy | None = None,
    retention: RetentionSettings | None = None,
) -> FastAPI:
    """Build the API; connections open on start-up and close on shutdown. No egress: public URLs only."""
    egress = egress or EgressPolicy()
    retention = retention or RetentionSettings()  # the API hosts the sweeper: runtime/retention

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage = open_storage(storage_settings)
        await asyncio.to_thread(storage.check)
        nc = await connect(nats_settings, name="aodio-ingest")
        js = nc.jetstream()
        topology = nats_settings.topology
        await provision(js, nats_settings, topology)
        jobs_store = await JobStore.open(js, topology.jobs_bucket)
        app.state.services = Services(settings, nc, topology, jobs_store, storage, egress)
        app.state.retention = await Sweeper.open(
            js,
            nats_settings,
            topology,
            jobs=jobs_store,
            storage=storage,
            settings=retention,
            upload_expiry_s=settings.upload_url_expiry_s,
        )
        app.state.retention.start()  # every replica times it; a lease lets one sweep per interval
        try:
            yield
        finally:
            await app.state.retention.stop()
            await disconnect(nc)

    app = DocumentedApp(title="Aodio", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.keyring = KeyRing.from_settings(settings)
    app.state.metrics = metrics.Metrics()
    app.middleware("http")(app.state.metrics.middleware)
    app.add_exception_handler(nats.errors.TimeoutError, _nats_unavailable)
    app.add_exception_handler(nats.errors.ConnectionClosedError, _nats_unavailable)
    app.add_exception_handler(nats.js.errors.ServiceUnavailableError, _nats_unavailable)
    for module in (health, metrics, web):
        app.include_router(module.router)
    # Every /v1 route wants the key (when keys are configured) and needs NATS: both refusals, documented.
    for module in (jobs, uploads, events, results, edits, partial, replay, deadletters, glossary):
        app.include_router(module.router, responses=refusals(401, 503))
    app.include_router(people.router, responses=refusals(401, 503))  # voice profiles
    app.mount("/web", web.static, name="web")
    return app
