"""Health: is the API connected to NATS and to its artifact storage; what the supervisor restarted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from contracts.api import Health
from services.ingest.answers import answers, reply
from services.ingest.deps import ServicesDep

router = APIRouter()


def supervisor_report(path: str) -> dict[str, Any] | None:
    """The embedded default's supervisor file (restarts per process), when there is one."""
    if not path:
        return None
    try:
        report: dict[str, Any] = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None  # not written yet, or being replaced
    return report


_HEALTH = answers(Health)
_UNHEALTHY = {**_HEALTH[200], "description": "NATS or storage does not answer: `problems` says which"}


@router.get("/healthz", responses=_HEALTH | {503: _UNHEALTHY})
async def healthz(services: ServicesDep) -> Response:
    """200 when NATS and storage answer, 503 with the reason otherwise; restarts under `supervisor`.

    A process waiting out its restart back-off is listed in `degraded`, not `problems`: the API
    still answers and the work it would do waits in its JetStream queue.
    """
    problems: list[str] = []
    if not services.nc.is_connected:
        problems.append("nats: not connected")
    try:
        await asyncio.wait_for(asyncio.to_thread(services.storage.exists, "healthz"), timeout=5)
    except Exception as exc:
        problems.append(f"storage: {exc}")
    body = Health(ok=not problems, problems=problems)
    if (report := supervisor_report(services.settings.supervisor_file)) is not None:
        degraded = [
            f"{name}: restarting after {process['last_exit']}"
            for name, process in report.get("processes", {}).items()
            if not process.get("running")
        ]
        body = Health(ok=body.ok, problems=problems, supervisor=report, degraded=degraded)
    return reply(body, status=503 if problems else 200)
