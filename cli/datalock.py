"""One data folder, one stack: an exclusive lock on <data>/aodio.lock while the embedded default runs.

The lock is a `flock` on the open file, so the kernel drops it when the holder dies, even by SIGKILL:
a lock left by a killed stack is stale by construction, and the next stack takes it and rewrites the
file. The file says who holds it (pid, API URL, ready or still starting) so that `aodio process`
can send its job to the running stack and a second `aodio up` can say where that stack is.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOCK_NAME = "aodio.lock"


@dataclass(frozen=True)
class Holder:
    """The stack that holds a data folder."""

    pid: int
    api_url: str
    ready: bool


class DataFolderBusy(RuntimeError):
    """Another stack runs on the folder; `holder` says which (None while it writes its details)."""

    def __init__(self, folder: Path, holder: Holder | None) -> None:
        self.folder, self.holder = folder, holder
        where = f" (pid {holder.pid}, {holder.api_url})" if holder else ""
        super().__init__(f"a stack is already running on {folder}{where}")


def read_holder(folder: Path) -> Holder | None:
    """Who holds the folder's lock now, or None when nobody does (a stale file counts as nobody)."""
    path = folder / LOCK_NAME
    try:
        with path.open("r") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _parse(path.read_text())  # locked: the holder is alive
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None  # nobody holds it: whatever the file says is stale
    except FileNotFoundError:
        return None


def _parse(text: str) -> Holder | None:
    try:
        data = json.loads(text)
        return Holder(pid=int(data["pid"]), api_url=str(data["api_url"]), ready=bool(data["ready"]))
    except (ValueError, KeyError, TypeError):
        return None  # the holder is between truncating and writing the file


class DataLock:
    """Held from acquire() to release(); the stack marks itself ready once its API answers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self._handle: IO[str] | None = None

    def acquire(self, api_url: str) -> Holder | None:
        """Take the lock at once or raise DataFolderBusy; returns the stale holder it replaced, if any.

        A file that names a holder while nobody holds the lock was left by a stack that was killed.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DataFolderBusy(self.folder, self._wait_for_details()) from None
        handle.seek(0)
        stale = _parse(handle.read())
        self._handle = handle
        self._write(api_url, ready=False)
        return stale

    def _wait_for_details(self) -> Holder | None:
        deadline = time.monotonic() + 2.0
        while (holder := read_holder(self.folder)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return holder

    def mark_ready(self, api_url: str) -> None:
        self._write(api_url, ready=True)

    def _write(self, api_url: str, ready: bool) -> None:
        assert self._handle is not None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), "api_url": api_url, "ready": ready}))
        self._handle.flush()

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self._handle.truncate(0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None
