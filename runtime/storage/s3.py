"""Artifacts in any S3 endpoint (AWS, MinIO, SeaweedFS) through the minio SDK, retries off."""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

from runtime.storage.base import (
    IO_CHUNK,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageUnavailable,
    StoredObject,
)
from runtime.storage.directory import disk_full_as_storage_full
from runtime.storage.keys import validate_key, validate_prefix

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024  # multipart part; minio holds ~2 copies of one part in memory
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}
_BAD_CREDENTIALS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
}
_UNAVAILABLE = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


def http_client() -> urllib3.PoolManager:
    """A pool with short connect timeouts and no retries: JetStream owns retries."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S),
        retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0),
        maxsize=10,
    )


class S3Storage(Storage):
    """Objects in one bucket under an optional key prefix; large writes spool to scratch first."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str | None,
        secret_key: str | None,
        secure: bool = False,
        region: str | None = None,
        prefix: str = "",
        scratch_dir: Path | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        # "prod" and "prod/" both mean the folder prod/: keys never run into the prefix.
        self.prefix = validate_prefix(prefix.rstrip("/") + "/" if prefix else "")
        self.scratch_dir = Path(scratch_dir or tempfile.gettempdir())
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http_client(),
        )

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _where(self) -> str:
        return f"S3 endpoint {self.endpoint} (bucket {self.bucket})"

    @contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Translate minio and urllib3 failures into StorageError subclasses."""
        what = f"{action} {key!r}" if key else action
        try:
            yield
        except S3Error as exc:
            if exc.code in _NOT_FOUND and key is not None:
                raise ObjectNotFound(f"no object {key!r} in {self.describe()}") from exc
            if exc.code == "NoSuchBucket":
                raise StorageError(
                    f"bucket {self.bucket} does not exist at {self.endpoint}: create it, or let "
                    "the start-up check create it"
                ) from exc
            if exc.code in _BAD_CREDENTIALS:
                raise StorageError(
                    f"{self._where()} rejected the credentials ({exc.code}) during {what}: check "
                    "AODIO_STORAGE_S3_ACCESS_KEY, AODIO_STORAGE_S3_SECRET_KEY and the bucket policy"
                ) from exc
            if exc.code in _UNAVAILABLE:
                raise StorageUnavailable(f"{self._where()} failed {what}: {exc.code}") from exc
            raise StorageError(f"{self._where()} failed {what}: {exc.code}: {exc.message}") from exc
        except (ServerError, InvalidResponseError) as exc:
            raise StorageUnavailable(f"{self._where()} failed {what}: {exc}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise StorageUnavailable(
                f"cannot reach {self._where()} during {what}: {exc}; is the server up and "
                "AODIO_STORAGE_S3_ENDPOINT right?"
            ) from exc
        except MinioException as exc:
            raise StorageError(f"{self._where()} failed {what}: {exc}") from exc

    @contextmanager
    def _scratch_file(self, directory: Path, name: str = "") -> Iterator[Path]:
        """A fresh temp folder in directory holding one path; the folder is removed on exit."""
        with disk_full_as_storage_full(directory):
            directory.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="aodio-s3-", dir=directory))
        try:
            yield folder / (name or "object")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """Spool to a scratch file, then upload it (multipart) when the block exits cleanly."""
        name = self._name(key)
        with self._scratch_file(self.scratch_dir) as spool:
            with disk_full_as_storage_full(self.scratch_dir), open(spool, "wb", IO_CHUNK) as stream:
                yield stream
            self._upload(key, name, spool)

    def _upload(self, key: str, name: str, path: Path) -> None:
        with self._errors("upload", key):
            # One part in flight: minio's default of three parallel parts triples the memory.
            self._client.fput_object(
                self.bucket, name, str(path), part_size=PART_SIZE, num_parallel_uploads=1
            )

    @contextmanager
    def reader(self, key: str) -> Iterator[BinaryIO]:
        """Stream the object's body; the connection returns to the pool on exit."""
        name = self._name(key)
        with self._errors("download", key):
            response = self._client.get_object(self.bucket, name)
        try:
            with self._errors("download", key):
                yield cast(BinaryIO, response)
        finally:
            response.close()
            response.release_conn()

    @contextmanager
    def range_reader(self, key: str, start: int, length: int) -> Iterator[BinaryIO]:
        """Stream a byte range of the object (an S3 ranged GET)."""
        name = self._name(key)
        with self._errors("download", key):
            response = self._client.get_object(self.bucket, name, offset=start, length=length)
        try:
            with self._errors("download", key):
                yield cast(BinaryIO, response)
        finally:
            response.close()
            response.release_conn()

    def put_file(self, key: str, path: Path) -> int:
        """Upload a local file (multipart for large ones); returns its size."""
        self._upload(key, self._name(key), path)
        return Path(path).stat().st_size

    @contextmanager
    def local_file(self, key: str, scratch: Path) -> Iterator[Path]:
        """Download into scratch under the key's file name; deleted when the block exits."""
        name = self._name(key)
        with self._scratch_file(Path(scratch), key.rpartition("/")[2]) as path:
            with disk_full_as_storage_full(Path(scratch)), self._errors("download", key):
                self._client.fget_object(self.bucket, name, str(path))
            yield path

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Upload a small object in one request."""
        name = self._name(key)
        with self._errors("upload", key):
            self._client.put_object(self.bucket, name, io.BytesIO(data), len(data), content_type=content_type)

    def get_bytes(self, key: str) -> bytes:
        """Download a small object whole."""
        with self.reader(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        """Whether the object exists (a HEAD request)."""
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """The object's size from a HEAD request."""
        name = self._name(key)
        with self._errors("stat", key):
            return int(self._client.stat_object(self.bucket, name).size or 0)

    def list(self, prefix: str) -> list[str]:
        """Every key under prefix (the storage prefix stripped), sorted."""
        full = self.prefix + validate_prefix(prefix)
        with self._errors("list", prefix):
            objects = self._client.list_objects(self.bucket, prefix=full, recursive=True)
            names = [obj.object_name for obj in objects if obj.object_name]
        return sorted(name.removeprefix(self.prefix) for name in names)

    def scan(self, prefix: str) -> Iterator[StoredObject]:
        """Every object under prefix with the size and date the listing gives (1,000 per request)."""
        full = self.prefix + validate_prefix(prefix)
        with self._errors("list", prefix):
            for obj in self._client.list_objects(self.bucket, prefix=full, recursive=True):
                if obj.object_name and not obj.is_dir:
                    modified = obj.last_modified.timestamp() if obj.last_modified else 0.0
                    yield StoredObject(obj.object_name.removeprefix(self.prefix), obj.size or 0, modified)

    def children(self, prefix: str) -> Sequence[str]:
        """The objects and folders directly under a folder prefix (a delimiter listing), sorted."""
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"children() needs a folder prefix ending in '/', not {prefix!r}")
        full = self.prefix + validate_prefix(prefix)
        with self._errors("list", prefix):
            objects = self._client.list_objects(self.bucket, prefix=full, recursive=False)
            names = [obj.object_name for obj in objects if obj.object_name]
        return sorted({name.removeprefix(full).rstrip("/") for name in names} - {""})

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under a non-empty prefix with batched DeleteObjects requests."""
        if not validate_prefix(prefix):
            raise ValueError("refusing to delete every artifact: delete_prefix needs a prefix")
        keys = self.list(prefix)
        with self._errors("delete", prefix):
            failures = list(
                self._client.remove_objects(self.bucket, (DeleteObject(self.prefix + key) for key in keys))
            )
        if failures:
            first = failures[0]
            raise StorageError(
                f"{self._where()} failed to delete {len(failures)} of {len(keys)} objects under "
                f"{prefix!r}: {first.code}: {first.message}"
            )
        return len(keys)

    def check(self) -> None:
        """Create the bucket if missing, then write and delete a probe object."""
        with self._errors("bucket check"):
            if not self._client.bucket_exists(self.bucket):
                self._make_bucket()
        probe = f".aodio-check/{uuid.uuid4().hex}"
        self.put_bytes(probe, b"ok")
        with self._errors("delete", probe):
            self._client.remove_object(self.bucket, self._name(probe))
        log.info("storage ready: %s", self.describe())

    def _make_bucket(self) -> None:
        try:
            self._client.make_bucket(self.bucket)
            log.info("created bucket %s at %s", self.bucket, self.endpoint)
        except S3Error as exc:
            # Another process may have created it between our check and our request.
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def describe(self) -> str:
        """Endpoint, bucket and prefix; never the credentials."""
        scheme = "https" if self.secure else "http"
        return f"s3://{self.bucket}/{self.prefix} at {scheme}://{self.endpoint}"
