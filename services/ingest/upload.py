"""Stream a multipart upload straight into storage: bounded memory, size-limited while it streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from runtime.errors import StageError
from runtime.storage.base import Storage

FLUSH_BYTES = 1024 * 1024  # hand writes to a thread in 1 MiB batches
MAX_FIELD_BYTES = 64 * 1024


class UploadError(StageError):
    """The request body is not an acceptable upload; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class ReceivedUpload:
    file_key: str | None = None
    original_name: str | None = None
    size_bytes: int = 0
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """Collects parser callbacks; file bytes go to storage, small fields to memory."""

    def __init__(self, storage: Storage, key_for: Callable[[str], str], max_bytes: int) -> None:
        self.storage, self.key_for, self.max_bytes = storage, key_for, max_bytes
        self.result = ReceivedUpload()
        self.part = _Part()
        self.header_name, self.header_value = b"", b""
        self.headers: dict[bytes, bytes] = {}
        self.stack = contextlib.ExitStack()
        self.sink: BinaryIO | None = None
        self.pending = bytearray()
        self.error: UploadError | None = None

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_header_field": lambda d, s, e: self._add("header_name", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_end": self._part_end,
        }

    def _add(self, attr: str, data: bytes) -> None:
        setattr(self, attr, getattr(self, attr) + data)

    def _part_begin(self) -> None:
        self.part, self.headers = _Part(), {}

    def _header_end(self) -> None:
        self.headers[self.header_name.lower()] = self.header_value
        self.header_name, self.header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.part.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None and self.part.name == "file":
            if self.result.file_key is not None:
                self._fail(400, "send one file per job: the form has two 'file' fields")
                return
            self.part.filename = filename.decode("utf-8", "replace") or "upload"
            self.result.original_name = self.part.filename
            self.result.file_key = self.key_for(self.part.filename)
            self.sink = self.stack.enter_context(self.storage.writer(self.result.file_key))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self.part.filename is None:
            if len(self.part.data) + end - start > MAX_FIELD_BYTES:
                self._fail(413, f"form field '{self.part.name}' is over {MAX_FIELD_BYTES} bytes")
                return
            self.part.data += data[start:end]
            return
        self.result.size_bytes += end - start
        if self.result.size_bytes > self.max_bytes:
            self._fail(413, _too_big(self.max_bytes))
            return
        self.pending += data[start:end]

    def _part_end(self) -> None:
        if self.part.filename is None and self.part.name:
            self.result.fields[self.part.name] = self.part.data.decode("utf-8", "replace")

    def _fail(self, status: int, reason: str) -> None:
        self.error = self.error or UploadError(status, reason)

    async def flush(self, force: bool = False) -> None:
        if self.sink is not None and self.pending and (force or len(self.pending) >= FLUSH_BYTES):
            chunk, self.pending = bytes(self.pending), bytearray()
            await asyncio.to_thread(self.sink.write, chunk)


def _too_big(max_bytes: int) -> str:
    return f"upload is larger than the limit of {max_bytes / 2**30:.2f} GiB (AODIO_INGEST_MAX_UPLOAD_BYTES)"


async def receive_upload(
    content_type: str,
    body: AsyncIterator[bytes],
    storage: Storage,
    key_for: Callable[[str], str],
    max_bytes: int,
) -> ReceivedUpload:
    """Parse a multipart body as it arrives; the 'file' part streams into storage under key_for(name).

    The object is published only when the whole body arrived within the limit; otherwise nothing stays.
    """
    mime, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UploadError(415, "send the recording as multipart/form-data with a 'file' field")
    receiver = _Receiver(storage, key_for, max_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    with receiver.stack:
        try:
            async for chunk in body:
                parser.write(chunk)
                if receiver.error is not None:
                    raise receiver.error
                await receiver.flush()
            parser.finalize()
            if receiver.error is not None:
                raise receiver.error
            await receiver.flush(force=True)
        except UploadError:
            raise
        except Exception as exc:
            if type(exc).__name__ in ("MultipartParseError", "FormParserError"):
                raise UploadError(400, f"malformed multipart body: {exc}") from exc
            raise
    if receiver.result.file_key is None:
        raise UploadError(400, "no file: send the recording in the multipart form field 'file'")
    return receiver.result
