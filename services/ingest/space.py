"""Room on the disk an upload fills: refused up front with 507 and the figures, not later in transcode.

The directory backend keeps a job's recording, its normalized audio and the chunks on one volume
(AODIO_INGEST_DISK_SPACE_FACTOR x the upload), and the embedded stack's NATS store usually shares
it (AODIO_INGEST_MIN_FREE_BYTES kept free covers that). On S3 there is no free-space figure; what
ingest itself writes is the spool of each upload in the scratch folder (x1), so that is what is
checked; the stages' scratch space is on their own machines, and a stage that fills it fails the
job with StorageFull's reason. A presigned upload goes straight to S3: no disk of ours to check.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException

from runtime.storage.base import Storage, StorageFull
from runtime.storage.directory import DirectoryStorage
from runtime.storage.s3 import S3Storage
from services.ingest.limits import gib

SETTINGS_HINT = (
    "free space, grow the volume, or lower AODIO_INGEST_DISK_SPACE_FACTOR or AODIO_INGEST_MIN_FREE_BYTES"
)


def free_bytes(folder: Path) -> int:
    """Free bytes on the file system holding folder (or its nearest existing parent)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


@dataclass
class DiskRoom:
    """The local folder uploads land in, and the uploads of this replica still streaming into it."""

    folder: Path | None  # None: a backend with no local disk to check
    factor: float  # bytes on disk per byte uploaded
    reserve: int  # bytes left free for everything else
    what: str
    free: Callable[[Path], int] = free_bytes
    promised: int = 0  # what uploads streaming now will still write: they pass the check together

    @classmethod
    def for_storage(cls, storage: Storage, factor: float, reserve: int) -> DiskRoom:
        if isinstance(storage, DirectoryStorage):
            return cls(storage.root, factor, reserve, "the artifact volume")
        if isinstance(storage, S3Storage):
            return cls(storage.scratch_dir, 1.0, reserve, "the scratch folder uploads spool in before S3")
        return cls(None, factor, reserve, "storage")

    def need(self, size: int | None) -> int:
        return math.ceil((size or 0) * self.factor)

    @contextmanager
    def claim(self, size: int | None) -> Iterator[None]:
        """Raise 507 unless the folder can hold this upload too; its share is promised while it streams."""
        need = self.need(size)
        if self.folder is not None:
            free = self.free(self.folder)
            if free - self.promised < need + self.reserve:
                raise HTTPException(507, self._reason(free, size, need))
        self.promised += need
        try:
            yield
        finally:
            self.promised -= need

    def _reason(self, free: int, size: int | None, need: int) -> str:
        taken = f", {gib(self.promised)} of it promised to uploads in progress" if self.promised else ""
        if size:
            needs = f"{gib(need)} ({self.factor:g} x its {gib(size)}: the recording and what is made of it)"
        else:
            needs = "room of unknown size"
        return (
            f"{self.what} ({self.folder}) has {gib(free)} free{taken}; this upload needs {needs} "
            f"plus {gib(self.reserve)} kept free: {SETTINGS_HINT}"
        )


def storage_full(exc: StorageFull) -> HTTPException:
    """507 for a disk that filled while the upload streamed; the caller discards what was written."""
    return HTTPException(507, f"{exc}; nothing of the upload was kept")
