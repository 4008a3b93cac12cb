"""Real servers for tests: one nats-server and one SeaweedFS S3 per session, storage per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio

from runtime.embedded import NatsServer, WeedMini
from runtime.storage import DirectoryStorage, S3Storage
from runtime.storage.s3 import http_client

__all__ = ["dir_storage", "nats_server", "s3_server", "s3_storage"]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A nats-server with JetStream on a free loopback port, shared by the session."""
    root = tmp_path_factory.mktemp("nats")
    with NatsServer(root / "jetstream") as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedMini]:
    """A SeaweedFS S3 server with real credentials on free loopback ports, shared by the session."""
    root = tmp_path_factory.mktemp("weed")
    with WeedMini(root / "data") as server:
        yield server


def make_s3_storage(server: WeedMini, scratch: Path, prefix: str = "") -> S3Storage:
    """An S3Storage on a fresh bucket of server (the bucket is created by check())."""
    storage = S3Storage(
        endpoint=server.endpoint,
        bucket=f"aodio-test-{uuid.uuid4().hex[:8]}",
        access_key=server.access_key,
        secret_key=server.secret_key,
        prefix=prefix,
        scratch_dir=scratch,
    )
    storage.check()
    return storage


def drop_bucket(server: WeedMini, bucket: str) -> None:
    """Delete a bucket and its objects, freeing the volumes SeaweedFS grew for it."""
    client = Minio(
        server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=False,
        http_client=http_client(),
    )
    client.remove_bucket(bucket)  # weed's -s3.allowDeleteBucketNotEmpty defaults to true


@pytest.fixture
def s3_storage(s3_server: WeedMini, tmp_path: Path) -> Iterator[S3Storage]:
    """An S3Storage on a unique bucket (dropped afterwards), scratch under tmp_path/s3-scratch."""
    storage = make_s3_storage(s3_server, tmp_path / "s3-scratch")
    yield storage
    drop_bucket(s3_server, storage.bucket)


@pytest.fixture
def dir_storage(tmp_path: Path) -> DirectoryStorage:
    """A DirectoryStorage rooted at tmp_path/artifacts."""
    storage = DirectoryStorage(tmp_path / "artifacts")
    storage.check()
    return storage
