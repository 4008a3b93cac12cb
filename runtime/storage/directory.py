"""Artifacts as files under one directory: local disk or a mounted volume (Railway)."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from runtime.storage.base import (
    IO_CHUNK,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageFull,
    StoredObject,
)
from runtime.storage.keys import validate_key, validate_prefix

TEMP_PREFIX = ".aodio-tmp-"  # in-flight writes; never listed, removed when a write fails
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


@contextmanager
def disk_full_as_storage_full(directory: Path) -> Iterator[None]:
    """Turn ENOSPC/EDQUOT inside the block into StorageFull naming the directory."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise StorageFull(
                f"no space left in {directory} ({exc.strerror}): free space or grow the volume"
            ) from exc
        raise


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectoryStorage(Storage):
    """Keys map to files under root; writes go to a temp file, fsync, then an atomic rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """A temp file beside the target, renamed over it when the block exits cleanly."""
        path = self._path(key)
        with disk_full_as_storage_full(self.root):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
            temp = Path(temp_name)
            try:
                os.fchmod(fd, 0o644)
                with open(fd, "wb", buffering=IO_CHUNK) as stream:
                    yield stream
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temp, path)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            _fsync_directory(path.parent)

    @contextmanager
    def reader(self, key: str) -> Iterator[BinaryIO]:
        """The stored file opened for reading with a large buffer."""
        path = self._path(key)
        try:
            stream = open(path, "rb", buffering=IO_CHUNK)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key!r} in {self.root}") from exc
        with stream:
            yield stream

    def put_file(self, key: str, path: Path) -> int:
        """Copy a local file in atomically; returns its size."""
        with open(path, "rb") as source, self.writer(key) as target:
            shutil.copyfileobj(source, target, IO_CHUNK)
            return target.tell()

    @contextmanager
    def local_file(self, key: str, scratch: Path) -> Iterator[Path]:
        """The stored file itself; no copy is made."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key!r} in {self.root}")
        yield path

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write a small object atomically (content_type is not stored)."""
        with self.writer(key) as stream:
            stream.write(data)

    def get_bytes(self, key: str) -> bytes:
        """Read a small object whole."""
        with self.reader(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        """Whether the key names a stored file."""
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """Size of the stored file in bytes."""
        try:
            status = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key!r} in {self.root}") from exc
        if not stat.S_ISREG(status.st_mode):
            raise ObjectNotFound(f"no object {key!r} in {self.root}")
        return status.st_size

    def list(self, prefix: str) -> list[str]:
        """Every key starting with prefix (a plain string prefix, as in S3), sorted."""
        validate_prefix(prefix)
        folder = self.root / prefix.rpartition("/")[0]
        keys = []
        for directory, _, files in os.walk(folder):
            relative = Path(directory).relative_to(self.root).as_posix()
            for name in files:
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix) and not name.startswith(TEMP_PREFIX):
                    keys.append(key)
        return sorted(keys)

    def _files(self, prefix: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """(key, entry) of every file whose key starts with prefix, in-flight temp files included."""
        validate_prefix(prefix)
        folders = [self.root / prefix.rpartition("/")[0]]
        while folders:
            try:
                with os.scandir(folders.pop()) as listing:
                    entries = list(listing)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                    continue
                key = Path(entry.path).relative_to(self.root).as_posix()
                if key.startswith(prefix) and entry.is_file(follow_symlinks=False):
                    yield key, entry

    def scan(self, prefix: str) -> Iterator[StoredObject]:
        """Every stored file under prefix with its size and modification time (temp files left out)."""
        for key, entry in self._files(prefix):
            if entry.name.startswith(TEMP_PREFIX):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted since the folder was read
                continue
            yield StoredObject(key, status.st_size, status.st_mtime)

    def children(self, prefix: str) -> Sequence[str]:
        """The files and folders directly under a folder prefix, sorted (temp files left out)."""
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"children() needs a folder prefix ending in '/', not {prefix!r}")
        try:
            with os.scandir(self.root / validate_prefix(prefix)) as listing:
                return sorted(e.name for e in listing if not e.name.startswith(TEMP_PREFIX))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def remove_abandoned_writes(self, prefix: str, before: float) -> Sequence[StoredObject]:
        """Delete the temp files of writes that died mid-way (a killed process), untouched since `before`."""
        removed = []
        for key, entry in self._files(prefix):
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
                if status.st_mtime < before:  # a live write touches its file at every buffer it flushes
                    os.unlink(entry.path)
                    removed.append(StoredObject(key, status.st_size, status.st_mtime))
            except FileNotFoundError:  # the write finished (renamed) or failed (cleaned up) meanwhile
                continue
        return removed

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under a non-empty prefix and the folders it leaves empty."""
        if not validate_prefix(prefix):
            raise ValueError("refusing to delete every artifact: delete_prefix needs a prefix")
        keys = self.list(prefix)
        for key in keys:
            (self.root / key).unlink(missing_ok=True)
        folders = {(self.root / key).parent for key in keys}
        if prefix.endswith("/") and (self.root / prefix).is_dir():
            # a whole folder: also the empty folders an aborted write leaves behind
            folders.update(Path(d) for d, _, _ in os.walk(self.root / prefix))
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            while folder != self.root and folder.is_relative_to(self.root):
                try:
                    folder.rmdir()
                except OSError:  # not empty (other keys or an in-flight write): keep it
                    break
                folder = folder.parent
        return len(keys)

    def check(self) -> None:
        """Create root and write then delete a probe file (one per process: replicas start together)."""
        probe = self.root / f"{TEMP_PREFIX}check-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            with disk_full_as_storage_full(self.root):
                self.root.mkdir(parents=True, exist_ok=True)
                probe.write_bytes(b"ok")
                probe.unlink()
        except StorageFull:
            raise
        except OSError as exc:
            raise StorageError(
                f"artifact directory {self.root} is not writable ({exc.strerror}): fix its "
                "permissions or set AODIO_STORAGE_DIRECTORY to a writable path"
            ) from exc

    def describe(self) -> str:
        """The directory artifacts live in."""
        return f"directory {self.root}"
