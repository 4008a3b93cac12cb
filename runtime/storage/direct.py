"""Uploads straight to the bucket: presigned multipart uploads, so big recordings bypass the API.

Railway's edge (and many proxies) cut request bodies after a few minutes; a client given presigned
part URLs PUTs each part to S3 itself, then asks the API to complete the upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from minio import Minio
from minio.datatypes import Part
from minio.error import S3Error

from runtime.storage.s3 import S3Storage, http_client

MIN_PART_BYTES = 5 * 1024**2  # S3's floor for every part but the last
MAX_PARTS = 10_000


class DirectUploadError(ValueError):
    """The upload cannot be planned or completed as asked; the message says why."""


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class PendingUpload:
    """A multipart upload started and neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: float  # epoch seconds, by the S3 server's clock


class DirectUploads:
    """Presigned multipart uploads into an S3Storage's bucket."""

    def __init__(self, storage: S3Storage, public_endpoint: str = "") -> None:
        self.storage = storage
        self._client = storage._client
        self._signer = self._client
        if public_endpoint:  # sign for the host clients use (the URL's host is part of the signature)
            parts = urlsplit(public_endpoint if "://" in public_endpoint else f"http://{public_endpoint}")
            with storage._errors("locate bucket"):
                region = self._client._get_region(storage.bucket)
            creds = self._client._provider.retrieve() if self._client._provider else None
            self._signer = Minio(
                parts.netloc,
                access_key=creds.access_key if creds else None,
                secret_key=creds.secret_key if creds else None,
                secure=parts.scheme == "https",
                region=region,
                http_client=http_client(),
            )

    def part_size(self, size_bytes: int, wanted: int) -> int:
        """The part size to use: `wanted`, grown when the file would need over 10,000 parts."""
        return max(wanted, MIN_PART_BYTES, -(-size_bytes // MAX_PARTS))

    def start(self, key: str, size_bytes: int, part_bytes: int, expires_s: int) -> tuple[str, list[PartUrl]]:
        """Open a multipart upload for key; the upload id and one presigned PUT URL per part."""
        name = self.storage._name(key)
        count = max(1, -(-size_bytes // part_bytes))
        with self.storage._errors("start upload", key):
            upload_id = self._client._create_multipart_upload(self.storage.bucket, name, {})
            urls = [
                PartUrl(
                    number,
                    self._signer.get_presigned_url(
                        "PUT",
                        self.storage.bucket,
                        name,
                        expires=timedelta(seconds=expires_s),
                        extra_query_params={"uploadId": upload_id, "partNumber": str(number)},
                    ),
                )
                for number in range(1, count + 1)
            ]
        return upload_id, urls

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> int:
        """Join the uploaded parts into the object; returns its size."""
        numbers = [number for number, _ in parts]
        if not parts or numbers != sorted(set(numbers)) or numbers[0] < 1:
            raise DirectUploadError("parts must be listed once each, by increasing part_number from 1")
        name = self.storage._name(key)
        with self.storage._errors("complete upload", key):
            self._client._complete_multipart_upload(
                self.storage.bucket,
                name,
                upload_id,
                [Part(number, etag.strip('"')) for number, etag in parts],
            )
        return self.storage.size(key)

    def abort(self, key: str, upload_id: str) -> None:
        """Drop the upload and the parts it holds; an upload already gone counts as aborted."""
        with self.storage._errors("abort upload", key):
            try:
                self._client._abort_multipart_upload(self.storage.bucket, self.storage._name(key), upload_id)
            except S3Error as exc:
                if exc.code != "NoSuchUpload":
                    raise

    def uploaded(self, key: str, upload_id: str) -> tuple[int, int]:
        """How many parts of the upload are stored, and their bytes; (0, 0) when it is gone."""
        name, parts, size = self.storage._name(key), 0, 0
        marker: str | None = None
        with self.storage._errors("list parts", key):
            while True:
                try:
                    page = self._client._list_parts(
                        self.storage.bucket, name, upload_id, part_number_marker=marker
                    )
                except S3Error as exc:
                    if exc.code == "NoSuchUpload":
                        return 0, 0
                    raise
                parts += len(page.parts)
                size += sum(part.size or 0 for part in page.parts)
                marker = page.next_part_number_marker
                if not page.is_truncated or not marker:
                    return parts, size

    def pending(self, prefix: str) -> list[PendingUpload]:
        """The multipart uploads in progress under prefix (parts stored, still to complete or abort)."""
        full = self.storage.prefix + prefix
        found: dict[tuple[str, str], PendingUpload] = {}
        key_marker = upload_marker = None
        with self.storage._errors("list uploads", prefix):
            while True:
                page = self._client._list_multipart_uploads(
                    self.storage.bucket, prefix=full, key_marker=key_marker, upload_id_marker=upload_marker
                )
                for upload in page.uploads:
                    if upload.upload_id and upload.object_name.startswith(full):
                        key = upload.object_name.removeprefix(self.storage.prefix)
                        initiated = upload.initiated_time.timestamp() if upload.initiated_time else 0.0
                        found[key, upload.upload_id] = PendingUpload(key, upload.upload_id, initiated)
                key_marker, upload_marker = page.next_key_marker, page.next_upload_id_marker
                # SeaweedFS says "truncated" with no markers to go on: stop rather than loop forever.
                if not page.is_truncated or not (key_marker or upload_marker):
                    return sorted(found.values(), key=lambda u: (u.key, u.upload_id))
