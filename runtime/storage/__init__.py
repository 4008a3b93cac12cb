"""Artifact storage: one interface, a directory backend and an S3 backend, chosen by settings."""

from __future__ import annotations

from runtime.settings import StorageSettings
from runtime.storage.base import (
    IO_CHUNK,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageFull,
    StorageUnavailable,
    StoredObject,
)
from runtime.storage.directory import DirectoryStorage
from runtime.storage.s3 import S3Storage

__all__ = [
    "IO_CHUNK",
    "DirectoryStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "StoredObject",
    "open_storage",
]


def open_storage(settings: StorageSettings) -> Storage:
    """Build the backend the settings name; call check() on it at start-up."""
    if settings.backend == "s3":
        if not settings.s3_endpoint:
            raise ValueError("AODIO_STORAGE_S3_ENDPOINT is required when AODIO_STORAGE_BACKEND=s3")
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        return S3Storage(
            endpoint=settings.s3_endpoint,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key,
            secret_key=secret,
            secure=settings.s3_secure,
            region=settings.s3_region,
            prefix=settings.s3_prefix,
            scratch_dir=settings.scratch_dir,
        )
    return DirectoryStorage(settings.directory)
