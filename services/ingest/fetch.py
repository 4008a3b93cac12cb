"""Fetch a recording from a URL into storage: streamed, size-limited, nothing kept on failure.

The URL is a user's, so it goes through the egress guard (runtime/egress.py): a private, loopback or
metadata address, on the first hop or a redirect, is refused with 422 before anything is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import httpx

from runtime.egress import EgressPolicy, EgressRefused
from runtime.egress_http import guarded_client
from runtime.storage.base import Storage
from services.ingest.upload import FLUSH_BYTES, UploadError

_DISPOSITION_NAME = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


def _name_of(url: str, response: httpx.Response) -> str:
    found = _DISPOSITION_NAME.search(response.headers.get("content-disposition", ""))
    if found:
        return unquote(found.group(1))
    return unquote(urlsplit(str(response.url)).path.rsplit("/", 1)[-1]) or "download"


async def fetch_to_storage(
    url: str,
    storage: Storage,
    key_for: Callable[[str], str],
    max_bytes: int,
    timeout_s: float,
    egress: EgressPolicy,
) -> tuple[str, str, int]:
    """Download url into storage under key_for(name); returns (key, name, size). Raises UploadError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UploadError(422, f"url must be an http(s) URL, not {url[:100]!r}")
    timeout = httpx.Timeout(30.0, read=120.0)
    try:
        egress.check_url(url)  # a refused IP literal in any spelling, before httpx parses (or rejects) it
        async with (
            guarded_client(egress, timeout=timeout, follow_redirects=True) as client,
            asyncio.timeout(timeout_s),
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise UploadError(
                    502, f"fetching {url[:200]} failed: the server answered HTTP {response.status_code}"
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise UploadError(
                    413, f"the file at the URL is larger than the limit of {max_bytes / 2**30:.2f} GiB"
                )
            name = _name_of(url, response)
            key = key_for(name)
            size = 0
            with contextlib.ExitStack() as stack:
                sink = stack.enter_context(storage.writer(key))
                pending = bytearray()
                async for chunk in response.aiter_bytes(256 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadError(
                            413,
                            f"the file at the URL is larger than the limit of {max_bytes / 2**30:.2f} GiB",
                        )
                    pending += chunk
                    if len(pending) >= FLUSH_BYTES:
                        await asyncio.to_thread(sink.write, bytes(pending))
                        pending.clear()
                await asyncio.to_thread(sink.write, bytes(pending))
                await asyncio.to_thread(stack.close)  # publishes the object (an upload on S3)
            return key, name, size
    except EgressRefused as exc:
        raise UploadError(422, f"will not fetch {url[:200]}: {exc.reason}") from exc
    except httpx.InvalidURL as exc:
        raise UploadError(422, f"url is not a valid URL: {exc}") from exc
    except TimeoutError as exc:
        raise UploadError(504, f"fetching {url[:200]} took longer than {timeout_s:.0f} s") from exc
    except httpx.HTTPError as exc:
        raise UploadError(502, f"could not fetch {url[:200]}: {exc or type(exc).__name__}") from exc
