"""Sending a recording: multipart through the API, or, for big files on S3 deployments, presigned part
uploads straight to the bucket (POST /v1/uploads, PUT each part, POST complete)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cli.client import AodioClient, ApiError, NotSupported, RouteMissing

PRESIGNED_MIN_BYTES = 64 * 1024 * 1024  # below this one multipart POST is as good
PART_ATTEMPTS = 3
_IO_CHUNK = 1024 * 1024


class _StorageUnreachable(ApiError):
    """The presigned URLs point at storage this machine cannot reach."""


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def upload(
    client: AodioClient,
    path: Path,
    options: dict[str, Any],
    console: Console,
    presigned_min_bytes: int | None = PRESIGNED_MIN_BYTES,
) -> str:
    """Send the recording with an upload progress bar; returns the job id.

    presigned_min_bytes=None always uses the multipart POST (the embedded default stores on disk).
    """
    size = path.stat().st_size
    with _bar(console) as bar:
        task = bar.add_task("upload", total=size)
        if presigned_min_bytes is not None and size >= presigned_min_bytes:
            try:
                return upload_presigned(client, path, size, options, lambda n: bar.advance(task, n))
            except (NotSupported, RouteMissing):
                pass  # directory storage, or an older API: through the API instead
            except _StorageUnreachable as exc:
                console.print(f"[yellow]{exc}; uploading through the API instead[/yellow]")
            bar.reset(task, total=size)
        reply = client.submit(path, options, lambda n: bar.advance(task, n))
    return reply.job_id


def upload_presigned(
    client: AodioClient, path: Path, size: int, options: dict[str, Any], on_sent: Callable[[int], None]
) -> str:
    """POST /v1/uploads, PUT every part to its presigned URL, POST complete; returns the job id.

    Raises NotSupported (501) when the deployment stores on a directory.
    """
    plan = client.create_upload(path.name, size, options)
    part_size = plan.part_size
    etags: list[dict[str, Any]] = []
    # Presigned URLs carry their own signature: no API key goes to the bucket.
    with httpx.Client(timeout=httpx.Timeout(30.0, write=300.0)) as storage, path.open("rb") as handle:
        for part in sorted(plan.parts, key=lambda p: p.part_number):
            number = part.part_number
            offset = (number - 1) * part_size
            length = min(part_size, size - offset)
            etag = _put_part(storage, part.url, handle, offset, length, on_sent, first=number == 1)
            etags.append({"part_number": number, "etag": etag})
    reply = client.complete_upload(plan.complete_url, etags)
    return reply.job_id


def _put_part(
    storage: httpx.Client,
    url: str,
    handle: BinaryIO,
    offset: int,
    length: int,
    on_sent: Callable[[int], None],
    first: bool,
) -> str:
    """PUT one part (retried: a part is idempotent); returns its ETag."""
    host = httpx.URL(url).host
    for attempt in range(1, PART_ATTEMPTS + 1):
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            handle.seek(offset)
            left = length
            while left > 0 and (data := handle.read(min(_IO_CHUNK, left))):
                left -= len(data)
                sent += len(data)
                on_sent(len(data))
                yield data

        try:
            # An explicit length keeps httpx from chunked encoding, which presigned PUTs refuse.
            response = storage.put(url, content=body(), headers={"content-length": str(length)})
        except httpx.TransportError as exc:
            on_sent(-sent)
            if first and attempt == 1 and isinstance(exc, httpx.ConnectError):
                raise _StorageUnreachable(f"storage at {host} is not reachable from here ({exc})") from exc
            if attempt == PART_ATTEMPTS:
                raise ApiError(f"upload to storage at {host} failed: {exc}") from exc
            continue
        if response.status_code >= 400:
            on_sent(-sent)
            if attempt == PART_ATTEMPTS or response.status_code < 500:
                reason = response.text[:200].replace("\n", " ")
                raise ApiError(f"storage at {host} refused a part: {response.status_code} {reason}")
            continue
        etag = response.headers.get("etag")
        if not etag:
            raise ApiError(f"storage at {host} sent no ETag for a part (CORS or a proxy may strip it)")
        return etag
    raise AssertionError("unreachable")
