"""One behaviour suite for both storage backends, against a real directory and a real S3 server."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from runtime.embedded import WeedMini
from runtime.storage import (
    DirectoryStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    StorageFull,
    StorageUnavailable,
)
from runtime.storage.directory import disk_full_as_storage_full
from tests.servers import make_s3_storage

MiB = 1024 * 1024


@pytest.fixture(params=["directory", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each backend in turn, with fresh state."""
    fixture = "dir_storage" if request.param == "directory" else "s3_storage"
    return request.getfixturevalue(fixture)


def leftover_files(storage: Storage, tmp_path: Path) -> list[Path]:
    """Files a backend may leave behind: temp files under the root or in the S3 scratch dir."""
    folder = storage.root if isinstance(storage, DirectoryStorage) else tmp_path / "s3-scratch"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_bytes_round_trip(storage: Storage) -> None:
    storage.put_bytes("jobs/j1/meta.json", b'{"ok": true}', content_type="application/json")
    assert storage.get_bytes("jobs/j1/meta.json") == b'{"ok": true}'
    assert storage.exists("jobs/j1/meta.json")
    assert storage.size("jobs/j1/meta.json") == 12
    storage.put_bytes("jobs/j1/meta.json", b"{}")
    assert storage.get_bytes("jobs/j1/meta.json") == b"{}"


def test_missing_object_raises_object_not_found(storage: Storage, tmp_path: Path) -> None:
    assert not storage.exists("jobs/none/audio.flac")
    with pytest.raises(ObjectNotFound):
        storage.get_bytes("jobs/none/audio.flac")
    with pytest.raises(ObjectNotFound):
        storage.size("jobs/none/audio.flac")
    with pytest.raises(ObjectNotFound), storage.reader("jobs/none/audio.flac"):
        pass
    with pytest.raises(ObjectNotFound), storage.local_file("jobs/none/audio.flac", tmp_path):
        pass


def test_failed_write_publishes_nothing_and_leaves_no_temp_file(storage: Storage, tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="encoder crashed"),
        storage.writer("jobs/j2/a.flac") as out,
    ):
        out.write(b"partial audio" * 1000)
        raise RuntimeError("encoder crashed")
    assert not storage.exists("jobs/j2/a.flac")
    assert storage.list("jobs/") == []
    assert leftover_files(storage, tmp_path) == []


def test_failed_overwrite_keeps_the_previous_object(storage: Storage) -> None:
    storage.put_bytes("jobs/j3/transcript.txt", b"first version")
    with pytest.raises(RuntimeError), storage.writer("jobs/j3/transcript.txt") as out:
        out.write(b"half of the second")
        raise RuntimeError("interrupted")
    assert storage.get_bytes("jobs/j3/transcript.txt") == b"first version"


def test_large_object_streams_with_bounded_memory(storage: Storage, tmp_path: Path) -> None:
    size = 50 * MiB
    expected = hashlib.sha256()
    tracemalloc.start()
    try:
        with storage.writer("jobs/j4/long.wav") as out:
            for index in range(size // MiB):
                chunk = index.to_bytes(4, "big") * (MiB // 4)
                expected.update(chunk)
                out.write(chunk)
        actual = hashlib.sha256()
        with storage.reader("jobs/j4/long.wav") as stream:
            while chunk := stream.read(MiB):
                actual.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert actual.hexdigest() == expected.hexdigest()
    assert storage.size("jobs/j4/long.wav") == size
    assert peak < size * 0.5, f"peak Python memory {peak / MiB:.1f} MiB for a 50 MiB object"
    assert leftover_files(storage, tmp_path) == (
        []
        if isinstance(storage, S3Storage)
        else [
            storage.root / "jobs/j4/long.wav"  # type: ignore[attr-defined]
        ]
    )


def test_put_file_and_local_file(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(b"\x00\x01" * 300_000)
    assert storage.put_file("jobs/j5/upload.bin", source) == 600_000
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with storage.local_file("jobs/j5/upload.bin", scratch) as local:
        assert local.read_bytes() == source.read_bytes()
        assert local.name == "upload.bin"
        if isinstance(storage, DirectoryStorage):
            assert local == storage.root / "jobs/j5/upload.bin"  # the stored file, no copy
        else:
            assert local.is_relative_to(scratch)
    if isinstance(storage, S3Storage):
        assert list(scratch.iterdir()) == []  # the downloaded copy is gone


def test_list_and_delete_prefix(storage: Storage) -> None:
    for key in ["jobs/a/x.json", "jobs/a/chunks/0.flac", "jobs/ab/y.json", "other/z.json"]:
        storage.put_bytes(key, b"1")
    assert storage.list("jobs/a/") == ["jobs/a/chunks/0.flac", "jobs/a/x.json"]
    assert storage.list("jobs/a") == ["jobs/a/chunks/0.flac", "jobs/a/x.json", "jobs/ab/y.json"]
    assert storage.list("nothing/") == []
    assert storage.delete_prefix("jobs/a/") == 2
    assert storage.list("") == ["jobs/ab/y.json", "other/z.json"]
    assert storage.delete_prefix("jobs/a/") == 0
    with pytest.raises(ValueError, match="needs a prefix"):
        storage.delete_prefix("")


@pytest.mark.parametrize(
    "key", ["../outside.txt", "jobs/../../etc/passwd", "/etc/passwd", "a//b", "a\\b", "", "a/./b"]
)
def test_unsafe_keys_are_rejected(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.put_bytes(key, b"x")
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.get_bytes(key)


def test_disk_full_becomes_storage_full() -> None:
    with pytest.raises(StorageFull, match="no space left in /dev"):
        with disk_full_as_storage_full(Path("/dev")), open("/dev/full", "wb", buffering=0) as full:
            full.write(b"x")


def test_directory_check_reports_an_unwritable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="not writable"):
        DirectoryStorage(blocker / "artifacts").check()


def test_s3_prefix_is_prepended_and_stripped(s3_server: WeedMini, s3_storage: S3Storage) -> None:
    prefixed = S3Storage(
        s3_server.endpoint,
        s3_storage.bucket,
        s3_server.access_key,
        s3_server.secret_key,
        prefix="prod",
    )
    prefixed.put_bytes("jobs/p/x.json", b"1")
    assert prefixed.list("jobs/") == ["jobs/p/x.json"]
    assert prefixed.get_bytes("jobs/p/x.json") == b"1"
    assert s3_storage.list("") == ["prod/jobs/p/x.json"]


def test_s3_check_is_idempotent(s3_storage: S3Storage) -> None:
    s3_storage.check()
    s3_storage.check()


def test_s3_wrong_credentials_are_rejected_clearly(s3_server: WeedMini, tmp_path: Path) -> None:
    storage = S3Storage(s3_server.endpoint, "aodio-test-creds", s3_server.access_key, "not-the-secret")
    with pytest.raises(StorageError, match="rejected the credentials") as caught:
        storage.check()
    assert not isinstance(caught.value, StorageUnavailable)
    assert "not-the-secret" not in str(caught.value)
    assert "not-the-secret" not in storage.describe()
    assert s3_server.secret_key not in storage.describe()


def test_s3_server_down_is_unavailable(tmp_path: Path) -> None:
    with WeedMini(tmp_path / "weed") as server:
        storage = make_s3_storage(server, tmp_path / "scratch")
        storage.put_bytes("jobs/d/x.json", b"1")
        server.kill()
        with pytest.raises(StorageUnavailable, match="cannot reach"):
            storage.get_bytes("jobs/d/x.json")
        with pytest.raises(StorageUnavailable):
            storage.put_bytes("jobs/d/y.json", b"2")
        with pytest.raises(StorageUnavailable):
            storage.check()


def test_replicas_starting_together_all_pass_the_directory_check(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "shared"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: DirectoryStorage(root).check(), range(200)))
    assert not list(root.iterdir())  # every probe removed
