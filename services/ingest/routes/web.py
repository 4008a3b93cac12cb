"""The web page: static files served by ingest itself (no build step, no separate server)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    """The page itself; its scripts and styles come from /web/."""
    return FileResponse(WEB_DIR / "index.html", headers={"cache-control": "no-cache"})


class RevalidatedFiles(StaticFiles):
    """Static files the browser revalidates (a cheap 304) on every load, so an upgrade is seen at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("cache-control", "no-cache")
        return response


static = RevalidatedFiles(directory=WEB_DIR)
