"""Health: is the API connected to NATS and to its artifact storage; what the supervisor restarted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

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


@router.get("/healthz")
async def healthz(services: ServicesDep) -> JSONResponse:
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
    body: dict[str, Any] = {"ok": not problems, "problems": problems}
    if (report := supervisor_report(services.settings.supervisor_file)) is not None:
        body["supervisor"] = report
        body["degraded"] = [
            f"{name}: restarting after {process['last_exit']}"
            for name, process in report.get("processes", {}).items()
            if not process.get("running")
        ]
    return JSONResponse(body, status_code=503 if problems else 200)
