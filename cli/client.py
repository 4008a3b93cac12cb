"""A small client of the Aodio HTTP API, used by the CLI against the embedded stack or a remote one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx


class ApiError(Exception):
    """The API answered with an error, or could not be reached; the message says which and why."""


class _CountingReader:
    """A file wrapper that reports how many bytes have been read (for the upload progress bar)."""

    def __init__(self, handle: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._handle, self._on_read = handle, on_read

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._on_read(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while data := self.read(1024 * 1024):
            yield data


class AodioClient:
    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        api_key = api_key or os.environ.get("AODIO_API_KEY")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(f"no Aodio API at {self.base_url} ({exc}); start one with `aodio up`") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ApiError(f"{response.status_code}: {detail}")
        return response

    def healthy(self) -> bool:
        try:
            return self._http.get("/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def submit(self, path: Path, options: dict[str, Any], on_read: Callable[[int], None]) -> dict[str, Any]:
        import json

        with path.open("rb") as handle:
            files = {"file": (path.name, _CountingReader(handle, on_read), "application/octet-stream")}
            data = {"options": json.dumps(options)}
            return self._call("POST", "/v1/jobs", files=files, data=data, timeout=None).json()  # type: ignore[no-any-return]

    def job(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/jobs/{job_id}").json()  # type: ignore[no-any-return]

    def download(self, job_id: str, name: str, destination: Path) -> None:
        partial = destination.with_suffix(destination.suffix + ".part")
        try:
            with self._http.stream("GET", f"/v1/jobs/{job_id}/outputs/{name}") as response:
                if response.status_code >= 400:
                    raise ApiError(f"{response.status_code}: {response.read().decode(errors='replace')}")
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(1024 * 1024):
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise ApiError(f"download of {name} failed: {exc}") from exc
        partial.replace(destination)
