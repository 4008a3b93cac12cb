"""Admission: 507 without room on disk (before or while an upload streams), 429 over a key's limits.

The ingest app runs in this process (its real lifespan, a real nats-server, real storage) so a test
can run two replicas side by side and put a filling disk under one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest
from fastapi import FastAPI
from nats.js.errors import BucketNotFoundError, NotFoundError
from pydantic import ValidationError

from contracts.state import JobState
from runtime.embedded import WeedMini
from runtime.settings import StorageSettings
from runtime.storage import DirectoryStorage, Storage
from services.ingest.admission import usage_bucket
from services.ingest.app import create_app
from services.ingest.auth import new_key
from services.ingest.config import IngestSettings
from services.ingest.limits import Hold, Usage, seconds_until_free
from tests.conftest import Bus
from tests.servers import drop_bucket

ALICE, ALICE_ENTRY = new_key("alice")
BOB, BOB_ENTRY = new_key("bob")
KEYS = f"{ALICE_ENTRY},{BOB_ENTRY}"
RECORDING = os.urandom(100_000)  # no stage runs here: the bytes need not be audio


@pytest.fixture
async def limited_bus(bus: Bus) -> AsyncIterator[Bus]:
    """The test's bus; the usage bucket the app may create on it is deleted afterwards."""
    yield bus
    with contextlib.suppress(NotFoundError):  # no limit was set: no bucket was made
        await bus.js.delete_key_value(usage_bucket(bus.settings.topology.namespace))


@dataclass
class Replica:
    app: FastAPI
    client: httpx.AsyncClient

    def put_storage(self, storage: Storage) -> None:
        """Swap the storage the lifespan opened (the gate is built on the first request)."""
        self.app.state.services.storage = storage

    async def jobs(self, key: str | None) -> list[dict[str, Any]]:
        return list((await self.client.get("/v1/jobs", headers=as_key(key))).json()["jobs"])


@asynccontextmanager
async def ingest(bus: Bus, storage: Path | StorageSettings, **settings: Any) -> AsyncIterator[Replica]:
    """One ingest replica over the test's namespace, artifacts in a directory (or as `storage` says)."""
    if isinstance(storage, Path):
        storage = StorageSettings(directory=storage)
    app = create_app(IngestSettings(**settings), bus.settings, storage)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://ingest", timeout=60) as client,
    ):
        yield Replica(app, client)


def as_key(key: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"} if key else {}


async def submit(replica: Replica, key: str | None, data: bytes = RECORDING) -> httpx.Response:
    return await replica.client.post("/v1/jobs", files={"file": ("talk.wav", data)}, headers=as_key(key))


async def from_url(replica: Replica, key: str | None) -> httpx.Response:
    """A URL nothing listens on: a refusal before the fetch is the only answer that is not 502."""
    return await replica.client.post(
        "/v1/jobs/from-url", json={"url": "http://127.0.0.1:9/talk.wav"}, headers=as_key(key)
    )


def stored_files(artifacts: Path) -> list[Path]:
    """Every file under the artifacts folder, in-flight temp files included."""
    return [path for path in artifacts.rglob("*") if path.is_file()]


async def finish(bus: Bus, job_id: str) -> None:
    def completed(job: JobState) -> None:
        job.status = "completed"

    await bus.jobs.update(job_id, completed)


# --- room on disk -----------------------------------------------------------------------------------


async def test_an_upload_without_room_on_disk_is_507_and_nothing_is_stored(
    limited_bus: Bus, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    async with ingest(limited_bus, artifacts, min_free_bytes=2**60) as api:
        reply = await submit(api, None)
        assert reply.status_code == 507, reply.text
        reason = reply.json()["detail"]
        assert (
            "the artifact volume" in reason and "free" in reason and "AODIO_INGEST_MIN_FREE_BYTES" in reason
        )
        fetched = await from_url(api, None)
        assert fetched.status_code == 507, fetched.text
        assert await api.jobs(None) == []
    assert stored_files(artifacts) == []
    async with ingest(limited_bus, artifacts, min_free_bytes=0, disk_space_factor=1e12) as api:
        reply = await submit(api, None)
        assert reply.status_code == 507 and "x its" in reply.json()["detail"], reply.text
    assert stored_files(artifacts) == []


class FillingDisk(DirectoryStorage):
    """A fake at the one boundary a test cannot reach: a volume that fills after `room` bytes.

    Writes past it fail as the kernel's do (ENOSPC); the real directory backend turns that into
    StorageFull and removes its temp file.
    """

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        with super().writer(key) as stream:
            yield _Filling(stream, self)  # type: ignore[misc]


class _Filling:
    def __init__(self, stream: BinaryIO, disk: FillingDisk) -> None:
        self.stream, self.disk = stream, disk

    def write(self, data: bytes) -> int:
        if len(data) > self.disk.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.disk.room -= len(data)
        return self.stream.write(data)


async def test_a_disk_that_fills_mid_upload_is_507_with_nothing_left(
    limited_bus: Bus, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    async with ingest(limited_bus, artifacts, api_keys=KEYS, max_jobs_per_key=1) as api:
        api.put_storage(FillingDisk(artifacts, room=1024 * 1024))
        reply = await submit(api, ALICE, os.urandom(3 * 1024 * 1024))
        assert reply.status_code == 507, reply.text
        assert "no space left" in reply.json()["detail"] and "nothing of the upload was kept" in reply.text
        assert stored_files(artifacts) == []
        assert await api.jobs(ALICE) == []
        api.put_storage(DirectoryStorage(artifacts))
        again = await submit(api, ALICE)  # the refused upload gave its place back
        assert again.status_code == 202, again.text


# --- limits per key ---------------------------------------------------------------------------------


async def test_a_key_at_its_jobs_limit_gets_429_while_another_key_gets_202(
    limited_bus: Bus, tmp_path: Path
) -> None:
    async with ingest(limited_bus, tmp_path / "artifacts", api_keys=KEYS, max_jobs_per_key=1) as api:
        first = await submit(api, ALICE)
        assert first.status_code == 202, first.text
        second = await submit(api, ALICE)
        assert second.status_code == 429, second.text
        assert second.headers["retry-after"] == "60"
        detail = second.json()["detail"]
        assert detail["limit"] == "jobs_at_once" and detail["value"] == 1 and detail["used"] == 1
        assert "alice" in detail["reason"]
        assert (await from_url(api, ALICE)).status_code == 429
        assert (await submit(api, BOB)).status_code == 202
        await finish(limited_bus, first.json()["job_id"])
        assert (await submit(api, ALICE)).status_code == 202  # a finished job frees its place


async def test_a_replay_takes_one_of_the_keys_places_until_its_run_ends(
    limited_bus: Bus, tmp_path: Path
) -> None:
    async with ingest(limited_bus, tmp_path / "artifacts", api_keys=KEYS, max_jobs_per_key=1) as api:
        job_id = (await submit(api, ALICE)).json()["job_id"]
        await finish(limited_bus, job_id)
        replayed = await api.client.post(
            f"/v1/jobs/{job_id}/replay", json={"from": "transcode"}, headers=as_key(ALICE)
        )
        assert replayed.status_code == 202, replayed.text
        refused = await submit(api, ALICE)  # the replay's run is alice's one job at once
        assert refused.status_code == 429 and refused.json()["detail"]["limit"] == "jobs_at_once"
        await finish(limited_bus, job_id)
        other = await submit(api, ALICE)
        assert other.status_code == 202, other.text
        again = await api.client.post(
            f"/v1/jobs/{job_id}/replay", json={"from": "transcode"}, headers=as_key(ALICE)
        )
        assert again.status_code == 429, again.text  # the new upload now holds the place
        assert again.headers["retry-after"] == "60"


async def test_a_key_over_its_daily_bytes_gets_429_with_retry_after(limited_bus: Bus, tmp_path: Path) -> None:
    allowance = 2 * len(RECORDING) + len(RECORDING) // 2
    settings = {"api_keys": KEYS, "key_limits": f"alice:bytes={allowance}"}  # bob: no limit
    async with ingest(limited_bus, tmp_path / "artifacts", **settings) as api:
        accepted = [await submit(api, ALICE) for _ in range(2)]
        assert [r.status_code for r in accepted] == [202, 202]
        for reply in accepted:  # a finished job's bytes still count for the rest of the day
            await finish(limited_bus, reply.json()["job_id"])
        over = await submit(api, ALICE)
        assert over.status_code == 429, over.text
        assert 1 <= int(over.headers["retry-after"]) <= 24 * 3600
        detail = over.json()["detail"]
        assert detail["limit"] == "bytes_per_day" and detail["value"] == allowance
        assert detail["used"] == 2 * len(RECORDING)  # what was stored, not the declared form size
        too_big = await submit(api, ALICE, os.urandom(allowance + 1))
        assert too_big.status_code == 413 and "daily allowance" in too_big.json()["detail"]["reason"]
        assert (await submit(api, BOB)).status_code == 202


async def test_racing_submissions_on_two_replicas_pass_a_limit_of_one_once(
    limited_bus: Bus, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    settings = {"api_keys": KEYS, "max_jobs_per_key": 1}
    async with (
        ingest(limited_bus, artifacts, **settings) as one,
        ingest(limited_bus, artifacts, **settings) as two,
    ):
        replies = await asyncio.gather(*(submit(api, ALICE) for api in (one, two) * 4))
        assert sorted(r.status_code for r in replies) == [202] + [429] * 7, [r.text for r in replies]
        assert len(await one.jobs(ALICE)) == 1
    assert len([p for p in stored_files(artifacts) if "/source/" in p.as_posix()]) == 1


async def test_the_open_api_without_limits_is_unchanged(limited_bus: Bus, tmp_path: Path) -> None:
    async with ingest(limited_bus, tmp_path / "artifacts") as api:
        replies = await asyncio.gather(*(submit(api, None) for _ in range(3)))
        assert [r.status_code for r in replies] == [202] * 3
    with pytest.raises(BucketNotFoundError):  # no limit: no usage kept
        await limited_bus.js.key_value(usage_bucket(limited_bus.settings.topology.namespace))
    async with ingest(limited_bus, tmp_path / "artifacts", max_jobs_per_key=1) as api:
        first, second = await submit(api, None), await submit(api, None)
        assert (first.status_code, second.status_code) == (202, 429)
        assert "the open API" in second.json()["detail"]["reason"]


async def test_on_s3_the_scratch_spool_is_checked_and_presigned_uploads_are_limited(
    limited_bus: Bus, s3_server: WeedMini, tmp_path: Path
) -> None:
    storage = StorageSettings(
        backend="s3",
        s3_endpoint=s3_server.endpoint,
        s3_bucket=f"aodio-test-{uuid.uuid4().hex[:8]}",
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        scratch_dir=tmp_path / "scratch",
    )
    settings = {"api_keys": KEYS, "max_jobs_per_key": 1, "min_free_bytes": 2**60}
    plan = {"filename": "talk.wav", "size_bytes": len(RECORDING)}
    try:
        async with ingest(limited_bus, storage, **settings) as api:
            spooled = await submit(api, BOB)  # through ingest: spooled in scratch on its way to S3
            assert spooled.status_code == 507 and "scratch folder" in spooled.json()["detail"]
            started = await api.client.post("/v1/uploads", json=plan, headers=as_key(ALICE))
            assert started.status_code == 201, started.text  # straight to S3: no disk of ours
            again = await api.client.post("/v1/uploads", json=plan, headers=as_key(ALICE))
            assert again.status_code == 429 and again.json()["detail"]["limit"] == "jobs_at_once"
            upload = started.json()
            async with httpx.AsyncClient(timeout=60) as s3:
                put = await s3.put(upload["parts"][0]["url"], content=RECORDING)
            assert put.status_code == 200, put.text
            parts = [{"part_number": 1, "etag": put.headers["etag"]}]
            done = await api.client.post(upload["complete_url"], json={"parts": parts}, headers=as_key(ALICE))
            assert done.status_code == 202, done.text
            still = await api.client.post("/v1/uploads", json=plan, headers=as_key(ALICE))
            assert still.status_code == 429  # the queued job keeps its place
    finally:
        drop_bucket(s3_server, storage.s3_bucket)


# --- settings and the arithmetic of the rolling day -------------------------------------------------


def test_key_limits_are_checked_at_start_up() -> None:
    assert IngestSettings(api_keys=KEYS, key_limits="alice:jobs=2:bytes=10GiB, bob:jobs=0").key_limits
    for bad, reason in (
        ("alice:jobs=two", "not jobs=N or bytes=SIZE"),
        ("alice", "NAME:jobs=N"),
        ("carol:jobs=1", "not in AODIO_INGEST_API_KEYS"),
    ):
        with pytest.raises(ValidationError, match=reason):
            IngestSettings(api_keys=KEYS, key_limits=bad)


def test_retry_after_is_when_enough_of_the_day_has_aged_out() -> None:
    now = 1_000_000.0
    usage = Usage(
        holds=[Hold(job_id="a", at=now - 3600, size_bytes=300, stored=True)],
        spent=[(now - 20 * 3600, 500), (now - 30 * 3600, 999)],  # the last one is over a day old
    )
    assert seconds_until_free(usage, now, 400) == 4 * 3600
    assert seconds_until_free(usage, now, 700) == 23 * 3600
