"""Health: is the API connected to NATS and to its artifact storage."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.ingest.deps import ServicesDep

router = APIRouter()


@router.get("/healthz")
async def healthz(services: ServicesDep) -> JSONResponse:
    """200 when NATS and storage answer, 503 with the reason otherwise."""
    problems: list[str] = []
    if not services.nc.is_connected:
        problems.append("nats: not connected")
    try:
        await asyncio.wait_for(asyncio.to_thread(services.storage.exists, "healthz"), timeout=5)
    except Exception as exc:
        problems.append(f"storage: {exc}")
    status = 503 if problems else 200
    return JSONResponse({"ok": not problems, "problems": problems}, status_code=status)
