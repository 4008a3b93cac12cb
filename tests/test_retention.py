"""Retention on both storage backends with a real nats-server: an injected clock moves days ahead.

Artifacts and job states are written directly, as the stages would have left them; the sweeper,
the replay planner and the API then act on them for real.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from nats.js.kv import KeyValue
from pydantic import ValidationError

from contracts import keys
from contracts.state import JobState, Removal, StageState
from runtime.replay import ReplayRefused, plan_replay, start_run
from runtime.retention import RetentionSettings, Sweeper
from runtime.retention.config import DAY_S
from runtime.retention.lease import open_retention_bucket
from runtime.retention.rules import by_kind, due_kinds, record_removals
from runtime.settings import StorageSettings
from runtime.storage import DirectoryStorage, S3Storage, Storage
from runtime.storage.direct import DirectUploads
from runtime.storage.directory import TEMP_PREFIX
from tests.conftest import Bus
from tests.servers import drop_bucket, make_s3_storage

STAGES = ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize")


class Clock:
    """A clock the test moves; the sweeper, its lease and its rules all read it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["directory", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    return request.getfixturevalue("dir_storage" if request.param == "directory" else "s3_storage")


@pytest.fixture
async def kv(bus: Bus) -> AsyncIterator[KeyValue]:
    """The namespace's retention bucket, deleted afterwards (the bus fixture drops the rest)."""
    yield await open_retention_bucket(bus.js, bus.settings, bus.settings.topology)
    await bus.js.delete_key_value(bus.settings.topology.retention_bucket)


def new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]


def write_job(storage: Storage, job_id: str) -> None:
    """Every artifact a two-chunk job leaves, as the stages write them."""
    storage.put_bytes(keys.source_key(job_id, "meeting.wav"), b"s" * 1000)
    storage.put_bytes(keys.normalized_audio_key(job_id), b"n" * 2000)
    chunks = [{"index": i, "start_s": i * 10.0, "end_s": (i + 1) * 10.0} for i in range(2)]
    storage.put_bytes(keys.chunk_plan_key(job_id), json.dumps({"chunks": chunks}).encode())
    for i in range(2):
        storage.put_bytes(keys.chunk_audio_key(job_id, i), b"c" * 500)
        words = {
            "index": i,
            "start_s": i * 10.0,
            "end_s": (i + 1) * 10.0,
            "language": "en",
            "language_probability": 0.9,
            "model": "tiny",
            "segments": [],
        }
        storage.put_bytes(keys.chunk_transcript_key(job_id, i), json.dumps(words).encode())
    storage.put_bytes(keys.diarization_turns_key(job_id), json.dumps({"speakers": ["SPEAKER_1"]}).encode())
    storage.put_bytes(keys.diarization_rttm_key(job_id), b"SPEAKER x 1 0.0 1.0")
    storage.put_bytes(keys.transcript_key(job_id), b'{"segments": []}')
    storage.put_bytes(keys.transcript_key(job_id, "txt"), b"hello")
    storage.put_bytes(keys.summary_key(job_id), b'{"overview": "hi"}')
    storage.put_bytes(keys.summary_key(job_id, "md"), b"# hi")


def ended_job(job_id: str, ended: float, status: str = "completed") -> JobState:
    """A job whose every stage finished at `ended`."""
    stages = {
        name: StageState(status="done", started_at=ended - 60, finished_at=ended, done=1, total=1)
        for name in STAGES
    }
    if status == "failed":
        stages["summarize"] = StageState(status="failed", error="no LLM", finished_at=ended)
    return JobState(
        job_id=job_id,
        status=status,  # type: ignore[arg-type]
        created_at=ended - 600,
        original_name="meeting.wav",
        size_bytes=1000,
        duration_s=20.0,
        chunks_total=2,
        stages=stages,
        outputs={"source": keys.source_key(job_id, "meeting.wav")},
        error="no LLM" if status == "failed" else None,
        failed_stage="summarize" if status == "failed" else None,
    )


def kinds_present(storage: Storage, job_id: str) -> set[str]:
    return {keys.artifact_kind(o.key) for o in storage.scan(keys.job_prefix(job_id))}


def sweeper(bus: Bus, kv: KeyValue, storage: Storage, clock: Clock, **rules: object) -> Sweeper:
    return Sweeper(
        kv=kv,
        jobs=bus.jobs,
        storage=storage,
        settings=RetentionSettings(**rules),  # type: ignore[arg-type]
        upload_expiry_s=600,
        clock=clock,
        holder=uuid.uuid4().hex,
    )


async def completed_job(bus: Bus, storage: Storage, clock: Clock, status: str = "completed") -> str:
    job_id = new_id()
    write_job(storage, job_id)
    await bus.jobs.create(ended_job(job_id, clock.now, status))
    return job_id


# --- rules --------------------------------------------------------------------------------------


def test_rules_are_keep_completed_or_days_and_bad_ones_say_why(monkeypatch) -> None:
    settings = RetentionSettings(chunk_audio="7", normalized_audio="completed", source=" 0.5d ")
    assert settings.chunk_audio == "7d" and settings.rule("chunk_audio").after_s == 7 * DAY_S
    assert settings.rule("normalized_audio").after_s == 0 and settings.rule("transcript").after_s is None
    assert settings.rule("source").after_s == DAY_S / 2
    with pytest.raises(ValidationError, match="not a retention rule: use keep, completed"):
        RetentionSettings(chunk_audio="soon")
    monkeypatch.setenv("AODIO_RETENTION_SUMMARY", "90d")
    monkeypatch.setenv("AODIO_RETENTION_SOURCE", "")  # empty counts as unset
    assert RetentionSettings().summary == "90d" and RetentionSettings().source == "30d"


def test_every_key_the_stages_write_has_a_kind() -> None:
    job = "20261201-000000-abcdef12"
    assert keys.artifact_kind(keys.source_key(job, "a.mp3")) == "source"
    assert keys.artifact_kind(keys.chunk_plan_key(job)) == "chunk_plan"
    assert keys.artifact_kind(keys.chunk_audio_key(job, 3)) == "chunk_audio"
    assert keys.artifact_kind(keys.chunk_transcript_key(job, 3)) == "chunk_transcripts"
    assert keys.artifact_kind(keys.transcript_key(job, "labels.json")) == "transcript"
    assert keys.artifact_kind(keys.summary_key(job, "md")) == "summary"
    assert keys.artifact_kind(keys.diarization_rttm_key(job)) == "diarization"
    assert keys.artifact_kind(f"jobs/{job}/notes.txt") == "other"


# --- storage listings ---------------------------------------------------------------------------


def test_scan_and_children_list_sizes_and_dates_without_a_request_per_object(storage: Storage) -> None:
    before = time.time() - 60
    storage.put_bytes("jobs/a/x.json", b"12345")
    storage.put_bytes("jobs/a/chunks/0.flac", b"1")
    storage.put_bytes("jobs/b/y.json", b"12")
    storage.put_bytes("other/z.json", b"1")
    scanned = {o.key: o for o in storage.scan("jobs/")}
    assert {k: o.size for k, o in scanned.items()} == {
        "jobs/a/x.json": 5,
        "jobs/a/chunks/0.flac": 1,
        "jobs/b/y.json": 2,
    }
    assert all(o.modified > before for o in scanned.values())
    assert storage.children("jobs/") == ["a", "b"] and storage.children("nothing/") == []
    assert {"jobs", "other"} <= set(storage.children(""))  # SeaweedFS also shows the emptied .aodio-check/
    with pytest.raises(ValueError, match="folder prefix"):
        storage.children("jobs")


def test_s3_listings_strip_the_storage_prefix(s3_server, tmp_path: Path) -> None:
    storage = make_s3_storage(s3_server, tmp_path, prefix="prod")
    try:
        storage.put_bytes("jobs/a/x.json", b"123")
        assert [(o.key, o.size) for o in storage.scan("jobs/")] == [("jobs/a/x.json", 3)]
        assert storage.children("jobs/") == ["a"]
    finally:
        drop_bucket(s3_server, storage.bucket)


# --- the sweep ----------------------------------------------------------------------------------


async def test_a_sweep_removes_what_the_rules_say_and_records_it(
    bus: Bus, kv: KeyValue, storage: Storage
) -> None:
    clock = Clock()
    ended = clock.now
    job_id = await completed_job(bus, storage, clock)
    sweep = sweeper(bus, kv, storage, clock)  # the defaults: audio 7 days, source 30, the rest kept

    clock.now = ended + 1 * DAY_S
    report = await sweep.sweep()
    assert report is not None and report.removals == [] and report.jobs >= 1
    assert kinds_present(storage, job_id) == set(keys.ARTIFACT_KINDS)

    clock.now = ended + 8 * DAY_S
    report = await sweep.sweep()
    assert report is not None
    assert sorted(r.kind for _, r in report.removals) == ["chunk_audio", "normalized_audio"]
    assert kinds_present(storage, job_id) == set(keys.ARTIFACT_KINDS) - {"chunk_audio", "normalized_audio"}
    state = await bus.jobs.get(job_id)
    removed = {r.kind: r for r in state.removed}
    assert set(removed) == {"chunk_audio", "normalized_audio"}
    assert removed["chunk_audio"].objects == 2 and removed["chunk_audio"].size_bytes == 1000
    assert removed["normalized_audio"].size_bytes == 2000
    assert removed["chunk_audio"].rule == "AODIO_RETENTION_CHUNK_AUDIO=7d"
    assert removed["chunk_audio"].at == clock.now and removed["chunk_audio"].generation == 1

    clock.now = ended + 31 * DAY_S
    report = await sweep.sweep()
    assert report is not None and [r.kind for _, r in report.removals] == ["source"]
    kept = {"chunk_plan", "diarization", "chunk_transcripts", "transcript", "summary"}
    assert kinds_present(storage, job_id) == kept
    state = await bus.jobs.get(job_id)
    assert [r.kind for r in state.removed] == ["normalized_audio", "chunk_audio", "source"]
    assert state.status == "completed"

    report = await sweep.sweep()  # nothing more is due: nothing recorded twice
    assert report is not None and report.removals == []
    assert len((await bus.jobs.get(job_id)).removed) == 3


async def test_a_failed_job_keeps_everything_for_its_minimum(
    bus: Bus, kv: KeyValue, dir_storage: Storage
) -> None:
    clock = Clock()
    ended = clock.now
    failed = await completed_job(bus, dir_storage, clock, status="failed")
    done = await completed_job(bus, dir_storage, clock)
    sweep = sweeper(bus, kv, dir_storage, clock, normalized_audio="completed", chunk_audio="completed")
    clock.now = ended + 60
    await sweep.sweep()
    assert "normalized_audio" not in kinds_present(dir_storage, done)
    assert "normalized_audio" in kinds_present(dir_storage, failed)  # replayable from where it failed
    clock.now = ended + 7 * DAY_S + 1
    await sweep.sweep()
    assert {"normalized_audio", "chunk_audio"}.isdisjoint(kinds_present(dir_storage, failed))
    assert (await bus.jobs.get(failed)).status == "failed"


async def test_running_jobs_are_never_swept(bus: Bus, kv: KeyValue, dir_storage: Storage) -> None:
    clock = Clock()
    job_id = new_id()
    write_job(dir_storage, job_id)
    await bus.jobs.create(JobState(job_id=job_id, status="running", created_at=clock.now - 90 * DAY_S))
    clock.now += 90 * DAY_S
    await sweeper(bus, kv, dir_storage, clock, source="completed").sweep()
    assert kinds_present(dir_storage, job_id) == set(keys.ARTIFACT_KINDS)


# --- replay after a sweep -----------------------------------------------------------------------


def refusal(state: JobState, stage: str, storage: Storage) -> str:
    with pytest.raises(ReplayRefused) as refused:
        plan_replay(state, stage, {}, storage)
    return str(refused.value)


async def test_a_replay_after_a_sweep_names_the_stage_to_replay_from(
    bus: Bus, kv: KeyValue, storage: Storage
) -> None:
    clock = Clock()
    ended = clock.now
    job_id = await completed_job(bus, storage, clock)
    sweep = sweeper(bus, kv, storage, clock)
    clock.now = ended + 8 * DAY_S
    await sweep.sweep()
    state = await bus.jobs.get(job_id)
    chunks_gone = refusal(state, "transcribe", storage)
    assert "needs 00000.flac, which is gone from storage" in chunks_gone
    assert "retention removed it on" in chunks_gone and "AODIO_RETENTION_CHUNK_AUDIO=7d" in chunks_gone
    assert chunks_gone.endswith("replay from transcode")
    assert refusal(state, "diarize", storage).endswith("replay from transcode")
    for stage in ("transcode", "assemble", "summarize"):  # their inputs were kept
        assert plan_replay(state, stage, {}, storage).generation == 2

    clock.now = ended + 31 * DAY_S
    await sweep.sweep()
    state = await bus.jobs.get(job_id)
    nothing = refusal(state, "transcribe", storage)
    assert "replay from transcode; but a replay from transcode cannot run either" in nothing
    assert "the uploaded recording is gone from storage" in nothing
    assert "nothing is left to replay from; submit it again" in nothing
    assert "nothing is left to replay from" in refusal(state, "transcode", storage)
    assert plan_replay(state, "assemble", {}, storage).generation == 2  # words and turns were kept


async def test_a_refusal_retention_had_no_part_in_says_nothing_of_it(bus: Bus, dir_storage: Storage) -> None:
    clock = Clock()
    job_id = await completed_job(bus, dir_storage, clock)
    dir_storage.delete_prefix(keys.diarization_turns_key(job_id))  # lost by hand, not by a rule
    message = refusal(await bus.jobs.get(job_id), "assemble", dir_storage)
    assert message == "a replay from assemble needs diarization/turns.json, which is gone from storage: " + (
        "replay from diarize"
    )


async def test_artifacts_recorded_as_removed_count_as_gone_before_their_deletion(
    bus: Bus, kv: KeyValue, dir_storage: Storage
) -> None:
    clock = Clock()
    job_id = await completed_job(bus, dir_storage, clock)
    state = await bus.jobs.get(job_id)
    planned = plan_replay(state, "transcribe", {}, dir_storage)  # chunks are there now
    clock.now += 8 * DAY_S
    due = [r for r in (await _due(bus, job_id, dir_storage, clock)) if r.kind == "chunk_audio"]
    # A sweep that recorded the removal, and has not deleted yet (or died in between):
    await bus.jobs.update(job_id, lambda s: record_removals(s, due, 1, "completed"))
    state = await bus.jobs.get(job_id)
    assert "chunk_audio" in kinds_present(dir_storage, job_id)
    assert refusal(state, "transcribe", dir_storage).endswith("replay from transcode")
    # The replay planned before the record does not start: its inputs may be gone by now.
    current = await bus.jobs.update(job_id, lambda s: start_run(s, planned))
    assert current.generation == 1 and current.status == "completed"
    report = await sweeper(bus, kv, dir_storage, clock).sweep()  # the next pass finishes the job
    assert report is not None and "chunk_audio" not in kinds_present(dir_storage, job_id)
    assert [r.kind for r in (await bus.jobs.get(job_id)).removed].count("chunk_audio") == 1


async def _due(bus: Bus, job_id: str, storage: Storage, clock: Clock) -> list[Removal]:
    objects = by_kind(storage.scan(keys.job_prefix(job_id)))
    return due_kinds(await bus.jobs.get(job_id), objects, RetentionSettings(), clock.now)


# --- many replicas ------------------------------------------------------------------------------


async def test_two_sweepers_at_once_sweep_once(bus: Bus, kv: KeyValue, storage: Storage) -> None:
    clock = Clock()
    ended = clock.now
    jobs = [await completed_job(bus, storage, clock) for _ in range(3)]
    first, second = sweeper(bus, kv, storage, clock), sweeper(bus, kv, storage, clock)
    clock.now = ended + 8 * DAY_S
    reports = await asyncio.gather(first.sweep(), second.sweep())
    assert sum(r is not None for r in reports) == 1, "exactly one replica sweeps an interval"
    done = next(r for r in reports if r is not None)
    assert len(done.removals) == 6
    for job_id in jobs:
        state = await bus.jobs.get(job_id)
        assert sorted(r.kind for r in state.removed) == ["chunk_audio", "normalized_audio"]
        assert {"chunk_audio", "normalized_audio"}.isdisjoint(kinds_present(storage, job_id))
    idle = second if reports[0] is not None else first
    holder = first if idle is second else second
    assert await idle.sweep() is None  # still this interval: the lease is held
    clock.now += RetentionSettings().interval_s + 1  # the holder went quiet: the lease expires
    assert (await idle.sweep()) is not None
    assert await holder.sweep() is None
    for job_id in jobs:
        assert len((await bus.jobs.get(job_id)).removed) == 2


# --- uploads, orphans, leftovers ----------------------------------------------------------------


async def test_a_stale_multipart_upload_is_aborted_and_its_job_failed(
    bus: Bus, kv: KeyValue, s3_storage: S3Storage
) -> None:
    clock = Clock()
    direct = DirectUploads(s3_storage)
    job_id, stray = new_id(), new_id()
    key = keys.source_key(job_id, "long.wav")
    upload_id, urls = direct.start(key, 12 * 1024**2, 5 * 1024**2, 600)
    async with httpx.AsyncClient(timeout=60) as client:  # one part of three came
        part = await client.put(urls[0].url, content=b"p" * 5 * 1024**2)
    assert part.status_code == 200, part.text
    direct.start(keys.source_key(stray, "lost.wav"), 10, 5 * 1024**2, 600)  # its job never got a state
    await bus.jobs.create(
        JobState(
            job_id=job_id,
            status="uploading",
            created_at=clock.now,
            original_name="long.wav",
            outputs={"source": key},
            upload_id=upload_id,
        )
    )
    sweep = sweeper(bus, kv, s3_storage, clock, upload_grace_s=60)
    await sweep.sweep()  # the URLs still work: the client may be uploading
    assert len(direct.pending("jobs/")) == 2 and (await bus.jobs.get(job_id)).status == "uploading"

    clock.now += 600 + 60 + 1
    report = await sweep.sweep()
    assert report is not None and report.aborted_uploads >= 2
    assert direct.pending("jobs/") == []
    state = await bus.jobs.get(job_id)
    assert state.status == "failed" and state.failed_stage == "ingest"
    assert "part URLs expired" in (state.error or "") and "POST /v1/uploads" in (state.error or "")
    assert [(r.kind, r.objects, r.size_bytes) for r in state.removed] == [("upload", 1, 5 * 1024**2)]
    assert "AODIO_RETENTION_UPLOAD_GRACE_S=60" in state.removed[0].rule
    assert await sweep.sweep() is not None and len((await bus.jobs.get(job_id)).removed) == 1


async def test_folders_no_job_owns_are_removed(bus: Bus, kv: KeyValue, storage: Storage) -> None:
    clock = Clock()
    orphan, deleted, running = new_id(), new_id(), new_id()
    for job_id in (orphan, deleted, running):
        write_job(storage, job_id)
    await bus.jobs.create(JobState(job_id=deleted, status="completed", created_at=clock.now))
    await bus.jobs.delete(deleted)  # as DELETE /v1/jobs/{id} does, dying before the storage step
    await bus.jobs.create(JobState(job_id=running, status="running", created_at=clock.now))
    sweep = sweeper(bus, kv, storage, clock, orphan_grace_s=3600)

    report = await sweep.sweep()
    assert report is not None and report.orphans == [deleted]  # a deleted job's folder goes at once
    assert storage.list(keys.job_prefix(deleted)) == []
    assert kinds_present(storage, orphan) == set(keys.ARTIFACT_KINDS)  # maybe an upload in progress

    clock.now += 3600 + 1
    report = await sweep.sweep()
    assert report is not None and report.orphans == [orphan]
    assert storage.list(keys.job_prefix(orphan)) == []
    assert kinds_present(storage, running) == set(keys.ARTIFACT_KINDS)
    if isinstance(storage, DirectoryStorage):
        assert not (storage.root / keys.job_prefix(orphan)).exists()  # no empty folders left either

    write_job(storage, orphan)  # a deployment sharing the bucket: orphan removal turned off
    clock.now += 3600 + 1
    await sweeper(bus, kv, storage, clock, orphan_grace_s=3600, remove_orphans=False).sweep()
    assert kinds_present(storage, orphan) == set(keys.ARTIFACT_KINDS)


async def test_writes_a_crash_left_half_done_are_removed(
    bus: Bus, kv: KeyValue, dir_storage: DirectoryStorage
) -> None:
    clock = Clock()
    job_id = await completed_job(bus, dir_storage, clock)
    folder = dir_storage.root / keys.job_prefix(job_id) / "source"
    dead, live = folder / f"{TEMP_PREFIX}dead", folder / f"{TEMP_PREFIX}live"
    dead.write_bytes(b"x" * 100)
    live.write_bytes(b"x" * 100)
    os.utime(dead, (clock.now - 2 * DAY_S, clock.now - 2 * DAY_S))
    report = await sweeper(bus, kv, dir_storage, clock).sweep()
    assert report is not None and report.abandoned_writes == 1
    assert not dead.exists() and live.exists()


# --- what users see -----------------------------------------------------------------------------


@pytest.fixture
def app_storage(
    request: pytest.FixtureRequest, storage: Storage
) -> Iterator[tuple[Storage, StorageSettings]]:
    """The storage under test and the settings that make the API open the same one."""
    if isinstance(storage, DirectoryStorage):
        yield storage, StorageSettings(backend="directory", directory=storage.root)
        return
    assert isinstance(storage, S3Storage)
    server = request.getfixturevalue("s3_server")
    yield (
        storage,
        StorageSettings(
            backend="s3",
            s3_endpoint=storage.endpoint,
            s3_bucket=storage.bucket,
            s3_access_key=server.access_key,
            s3_secret_key=server.secret_key,
            scratch_dir=storage.scratch_dir,
        ),
    )


async def test_the_api_shows_what_went_and_what_storage_holds(
    bus: Bus, kv: KeyValue, app_storage: tuple[Storage, StorageSettings]
) -> None:
    from services.ingest.app import create_app
    from services.ingest.config import IngestSettings

    storage, storage_settings = app_storage
    clock = Clock()
    ended = clock.now
    job_id = await completed_job(bus, storage, clock)
    app = create_app(
        IngestSettings(), bus.settings, storage_settings, retention=RetentionSettings(enabled=False)
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://aodio") as client,
    ):
        before = (await client.get("/metrics")).text
        assert "aodio_storage_bytes{" not in before  # no sweep yet: no figures rather than zeros
        clock.now = ended + 8 * DAY_S
        await sweeper(bus, kv, storage, clock).sweep()  # another replica's sweep, with the test's clock

        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        assert sorted(r["kind"] for r in job["removed"]) == ["chunk_audio", "normalized_audio"]
        replay = await client.post(f"/v1/jobs/{job_id}/replay", json={"from": "transcribe"})
        assert replay.status_code == 409 and replay.json()["detail"].endswith("replay from transcode")
        audio = await client.get(f"/v1/jobs/{job_id}/audio")
        assert audio.status_code == 410 and "AODIO_RETENTION_NORMALIZED_AUDIO=7d" in audio.json()["detail"]

        metrics = (await client.get("/metrics")).text
        assert 'aodio_storage_bytes{kind="source"} 1000.0' in metrics
        assert 'aodio_storage_bytes{kind="chunk_audio"} 0.0' in metrics
        assert 'aodio_storage_bytes{kind="normalized_audio"} 0.0' in metrics
        assert 'aodio_storage_objects{kind="chunk_transcripts"} 2.0' in metrics
        assert 'aodio_storage_objects{kind="summary"} 2.0' in metrics
        measured = next(line for line in metrics.splitlines() if line.startswith("aodio_storage_measured"))
        assert float(measured.split()[1]) == pytest.approx(clock.now)
