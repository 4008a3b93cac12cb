"""Prometheus metrics: HTTP requests by route, jobs by status read from the jobs bucket, storage use.

Storage use per kind of artifact is what the latest retention sweep counted (runtime/retention):
listing a big store at every scrape would be too slow. Every replica reports the same figures, so
aggregate them with max(), not sum().
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from runtime.registry import BUILT_STAGES
from runtime.retention import Sweeper
from runtime.retention.usage import KINDS
from services.ingest.deps import ServicesDep

router = APIRouter(include_in_schema=False)


class Metrics:
    """One registry per app, so several apps in one process (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "aodio_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "aodio_http_request_seconds", "Time to the response's start", ["route"], registry=self.registry
        )
        self.jobs = Gauge("aodio_jobs", "Jobs by status", ["status"], registry=self.registry)
        self.running = Gauge(
            "aodio_stage_jobs_running", "Jobs a stage is working on", ["stage"], registry=self.registry
        )
        self.stored_bytes = Gauge(
            "aodio_storage_bytes",
            "Bytes of artifacts stored, by kind, as the latest retention sweep counted them",
            ["kind"],
            registry=self.registry,
        )
        self.stored_objects = Gauge(
            "aodio_storage_objects",
            "Artifacts stored, by kind (latest sweep)",
            ["kind"],
            registry=self.registry,
        )
        self.measured_at = Gauge(
            "aodio_storage_measured_timestamp_seconds",
            "When the latest retention sweep counted the storage (0: not yet; old: no sweeper runs)",
            registry=self.registry,
        )

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            self.requests.labels(request.method, route, str(status)).inc()
            self.latency.labels(route).observe(time.perf_counter() - started)


@router.get("/metrics")
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus text format; job counts are read from the jobs bucket at each scrape."""
    collected: Metrics = request.app.state.metrics
    states = await asyncio.gather(*(services.jobs.find(k) for k in await services.jobs.keys()))
    by_status = Tally(s.status for s in states if s is not None)
    for status in ("uploading", "queued", "running", "completed", "failed"):
        collected.jobs.labels(status).set(by_status[status])
    running = Tally(
        name for s in states if s is not None for name, st in s.stages.items() if st.status == "running"
    )
    for stage in BUILT_STAGES:
        collected.running.labels(stage).set(running[stage])
    sweeper: Sweeper = request.app.state.retention
    usage = await sweeper.usage()
    if usage is not None:  # before the first sweep: no figures rather than zeros
        for kind in KINDS:
            counted = usage.kinds.get(kind)
            collected.stored_bytes.labels(kind).set(counted.size_bytes if counted else 0)
            collected.stored_objects.labels(kind).set(counted.objects if counted else 0)
        collected.measured_at.set(usage.measured_at)
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
