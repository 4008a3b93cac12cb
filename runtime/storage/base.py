"""The storage interface every stage uses: one API, a directory backend and an S3 backend.

Keys are POSIX-style relative paths (``jobs/<id>/audio/normalized.flac``). Methods block: stages
call them from worker threads (``asyncio.to_thread``) so the consume loop stays responsive.

Errors::

    StorageError
    ├── ObjectNotFound        the key does not exist (permanent for the caller's message)
    ├── StorageUnavailable    backend unreachable or timing out (retryable)
    └── StorageFull           no space left on the volume / quota exceeded (permanent until freed)
"""

from __future__ import annotations

import abc
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

IO_CHUNK = 8 * 1024 * 1024  # large sequential I/O: a Railway volume gives 3,000 IOPS


class StorageError(Exception):
    """Base of every storage failure."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class StorageUnavailable(StorageError):
    """The backend cannot be reached right now; retrying later may succeed."""


class StorageFull(StorageError):
    """No space left for the object."""


@dataclass(frozen=True)
class StoredObject:
    """One stored object as a listing sees it: no request per object for its size or age."""

    key: str
    size: int
    modified: float  # epoch seconds of the last write


class _Limited(io.RawIOBase):
    """At most `length` bytes of a stream."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self._stream, self._left = stream, length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size) if size > 0 else b""
        self._left -= len(data)
        return data


class Storage(abc.ABC):
    """Object storage for artifacts: streamed in and out, atomic writes, never whole in memory."""

    @abc.abstractmethod
    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """A writable binary stream; the object appears atomically when the block exits cleanly.

        On an exception inside the block nothing is published and partial data is removed.
        """

    @abc.abstractmethod
    @contextmanager
    def reader(self, key: str) -> Iterator[BinaryIO]:
        """A readable binary stream of the object; raises ObjectNotFound."""

    @contextmanager
    def range_reader(self, key: str, start: int, length: int) -> Iterator[BinaryIO]:
        """A stream of `length` bytes of the object from byte `start` (HTTP Range requests).

        This default seeks the whole-object stream; backends that can ask for a range override it.
        """
        with self.reader(key) as stream:
            stream.seek(start)
            yield cast(BinaryIO, _Limited(stream, length))

    @abc.abstractmethod
    def put_file(self, key: str, path: Path) -> int:
        """Store a local file under key atomically; returns its size in bytes."""

    @abc.abstractmethod
    @contextmanager
    def local_file(self, key: str, scratch: Path) -> Iterator[Path]:
        """A local path holding the object's bytes for tools that need a file (ffmpeg).

        The directory backend yields the stored file itself (no copy); S3 downloads into `scratch`
        and deletes the copy when the block exits. The caller must not modify the file.
        """

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store a small object (JSON, text) atomically."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Read a small object whole; raises ObjectNotFound."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; raises ObjectNotFound."""

    @abc.abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Every key under prefix, sorted."""

    @abc.abstractmethod
    def scan(self, prefix: str) -> Iterator[StoredObject]:
        """Every object under prefix with its size and age, from the listing itself (in no set order)."""

    @abc.abstractmethod
    def children(self, prefix: str) -> Sequence[str]:
        """The names directly under a folder prefix ("jobs/" gives the job ids), sorted."""

    def remove_abandoned_writes(self, prefix: str, before: float) -> Sequence[StoredObject]:
        """Delete partial writes a crashed process left under prefix, untouched since `before`.

        Only a backend whose in-flight writes are visible in storage has any (the directory's temp
        files); S3 objects appear whole, and its unfinished multipart uploads are aborted elsewhere.
        """
        return []

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under prefix; returns how many were deleted."""

    @abc.abstractmethod
    def check(self) -> None:
        """Verify the backend is reachable and writable at start-up; raise StorageError with why."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where artifacts live, for logs and the CLI (never includes secrets)."""
