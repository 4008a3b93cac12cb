"""The sweeper: one pass over every job folder and job state, on a timer, by one replica at a time.

A pass, under the lease (runtime/retention/lease.py), for each job id found in storage or in the
jobs bucket:

- an ended job (completed or failed): the kinds its rules call for are recorded in its state
  (compare-and-set: skipped if a replay started meanwhile), then deleted;
- an uploading job whose URLs expired long ago: marked failed, its multipart upload aborted;
- a folder with no job state: removed at once if the job was deleted, else once nothing in it
  changed for the orphan grace period.

Then S3 multipart uploads past the URLs' expiry are aborted, dead temp files of the directory
backend removed, and the storage use it counted stored for /metrics. Every step is idempotent: a
pass that dies half-way, or two passes at once, leave nothing wrong for the next one to find.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from contracts.keys import artifact_prefix, is_valid_job_id, job_prefix
from contracts.state import JobState, Removal
from contracts.subjects import Topology
from runtime.jobs import JobDeleted, JobNotFound, JobStore
from runtime.retention.config import RetentionSettings
from runtime.retention.lease import Lease, open_retention_bucket
from runtime.retention.rules import by_kind, due_kinds, expired_upload, record_removals, upload_expired
from runtime.retention.usage import StorageUsage, load_usage, save_usage
from runtime.settings import NatsSettings
from runtime.storage.base import Storage, StorageError, StoredObject
from runtime.storage.direct import DirectUploads
from runtime.storage.s3 import S3Storage

log = logging.getLogger(__name__)

LEASE_NAME = "sweep"
JOBS_FOLDER = "jobs/"


class LeaseLost(Exception):
    """Another replica took the lease over mid-pass (this one stalled past its expiry)."""


@dataclass
class SweepReport:
    """What one pass did."""

    jobs: int = 0
    removals: list[tuple[str, Removal]] = field(default_factory=list)  # (job id, what went)
    orphans: list[str] = field(default_factory=list)  # job ids whose state-less folders were removed
    aborted_uploads: int = 0
    abandoned_writes: int = 0
    usage: StorageUsage = field(default_factory=StorageUsage)


class Sweeper:
    """Applies the retention rules to one deployment's storage; run by the ingest API."""

    def __init__(
        self,
        *,
        kv: KeyValue,
        jobs: JobStore,
        storage: Storage,
        settings: RetentionSettings,
        upload_expiry_s: float,
        clock: Callable[[], float] = time.time,
        holder: str | None = None,
    ) -> None:
        self._kv, self._jobs, self._storage, self.settings = kv, jobs, storage, settings
        self._upload_expiry_s, self._clock = upload_expiry_s, clock
        self._lease = Lease(kv, LEASE_NAME, holder or uuid.uuid4().hex, clock)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        js: JetStreamContext,
        nats_settings: NatsSettings,
        topology: Topology,
        *,
        jobs: JobStore,
        storage: Storage,
        settings: RetentionSettings,
        upload_expiry_s: float,
    ) -> Sweeper:
        """A sweeper on the deployment's retention bucket (created when missing)."""
        kv = await open_retention_bucket(js, nats_settings, topology)
        return cls(kv=kv, jobs=jobs, storage=storage, settings=settings, upload_expiry_s=upload_expiry_s)

    async def usage(self) -> StorageUsage | None:
        """Storage use per kind as the latest pass (by any replica) counted it; None before one."""
        return await load_usage(self._kv)

    # --- the timer ------------------------------------------------------------------------------

    def start(self) -> None:
        """Sweep in the background every interval (when enabled); stop() ends it."""
        if self.settings.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="retention-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        interval = self.settings.interval_s
        await asyncio.sleep(random.uniform(0, min(60.0, interval)))  # replicas restarted together spread out
        while True:
            try:
                report = await self.sweep()
                if report is not None:
                    _log_report(report)
            except Exception as exc:  # NATS or storage down: the next interval tries again
                log.warning("retention sweep failed, trying again in %.0f s: %s", interval, exc)
            await asyncio.sleep(interval * random.uniform(0.95, 1.05))

    # --- one pass -------------------------------------------------------------------------------

    async def sweep(self) -> SweepReport | None:
        """One pass if this replica gets the lease; None when another replica swept this interval."""
        if not await self._lease.acquire(self.settings.interval_s):
            return None
        report = SweepReport()
        try:
            for job_id in await self._job_ids():
                await self._sweep_job(job_id, report)
                report.jobs += 1
                await self._keep_lease()
            await self._sweep_uploads(report)
            await self._sweep_abandoned_writes(report)
        except LeaseLost:
            log.warning("retention sweep stopped after %d jobs: another replica took the lease", report.jobs)
            return report
        report.usage.measured_at = self._clock()
        await save_usage(self._kv, report.usage)
        return report

    async def _keep_lease(self) -> None:
        if self._clock() > self._lease.until - self.settings.interval_s / 2:
            if not await self._lease.renew(self.settings.interval_s):
                raise LeaseLost

    async def _job_ids(self) -> list[str]:
        in_storage = await asyncio.to_thread(self._storage.children, JOBS_FOLDER)
        known = await self._jobs.keys()
        return sorted({j for j in (*in_storage, *known) if is_valid_job_id(j)})

    async def _sweep_job(self, job_id: str, report: SweepReport) -> None:
        try:
            state, deleted = await self._jobs.get(job_id), False
        except JobDeleted:
            state, deleted = None, True
        except JobNotFound:
            state, deleted = None, False
        try:
            objects = await asyncio.to_thread(lambda: list(self._storage.scan(job_prefix(job_id))))
            if state is None:
                objects = await self._sweep_orphan(job_id, objects, deleted, report)
            else:
                if state.status == "uploading":
                    await self._expire_upload(state, report)
                objects = await self._apply_rules(state, objects, report)
        except (StorageError, JobNotFound) as exc:  # this job waits for the next pass; the others go on
            log.warning("retention: job %s skipped: %s", job_id, exc, extra={"job_id": job_id})
            return
        report.usage.add(objects)

    async def _apply_rules(
        self, state: JobState, objects: list[StoredObject], report: SweepReport
    ) -> list[StoredObject]:
        """Record, then delete, what the rules say is due; the objects that remain."""
        grouped = by_kind(objects)
        due = due_kinds(state, grouped, self.settings, self._clock())
        if not due:
            return objects
        job_id, generation, status = state.job_id, state.generation, state.status
        current = await self._jobs.update(job_id, lambda s: record_removals(s, due, generation, status))
        if current.generation != generation or current.status != status:
            return objects  # replayed meanwhile: its new run may need these; the next pass decides again
        for removal in due:
            await asyncio.to_thread(self._storage.delete_prefix, artifact_prefix(job_id, removal.kind))
            report.removals.append((job_id, removal))
            log.info(
                "job %s: retention removed %s (%d objects, %d bytes) by %s",
                job_id,
                removal.kind,
                removal.objects,
                removal.size_bytes,
                removal.rule,
                extra={"job_id": job_id},
            )
        gone = {r.kind for r in due}
        return [o for kind, group in grouped.items() if kind not in gone for o in group]

    async def _expire_upload(self, state: JobState, report: SweepReport) -> None:
        now = self._clock()
        if not upload_expired(state, self._upload_expiry_s, self.settings, now):
            return
        key, upload_id = state.outputs.get("source"), state.upload_id
        direct = DirectUploads(self._storage) if isinstance(self._storage, S3Storage) else None
        parts, size = (0, 0)
        if direct is not None and key and upload_id:
            parts, size = await asyncio.to_thread(direct.uploaded, key, upload_id)
        edit = expired_upload(state, self._upload_expiry_s, self.settings, now, parts, size)
        current = await self._jobs.update(state.job_id, edit)
        if current.status != "failed" or edit.removal not in current.removed:
            return  # the upload completed meanwhile
        if direct is not None and key and upload_id:
            await asyncio.to_thread(direct.abort, key, upload_id)
            report.aborted_uploads += 1
        report.removals.append((state.job_id, edit.removal))
        log.info("job %s: upload expired: %s", state.job_id, edit.reason, extra={"job_id": state.job_id})

    async def _sweep_orphan(
        self, job_id: str, objects: list[StoredObject], deleted: bool, report: SweepReport
    ) -> list[StoredObject]:
        """Remove a folder no job state owns, when it is safe to; the objects that remain."""
        if not self.settings.remove_orphans:
            return objects
        newest = max((o.modified for o in objects), default=0.0)
        # A folder still being written may not have its job state yet (an upload streams in first).
        if objects and not deleted and newest > self._clock() - self.settings.orphan_grace_s:
            return objects
        await asyncio.to_thread(self._storage.delete_prefix, job_prefix(job_id))
        if objects:
            report.orphans.append(job_id)
            why = "its job was deleted" if deleted else "no job state owns it"
            log.info(
                "retention removed the folder of job %s (%d objects, %d bytes): %s",
                job_id,
                len(objects),
                sum(o.size for o in objects),
                why,
                extra={"job_id": job_id},
            )
        return []

    async def _sweep_uploads(self, report: SweepReport) -> None:
        """Abort multipart uploads nobody can finish any more: their URLs expired long ago."""
        if not isinstance(self._storage, S3Storage):
            return
        direct = DirectUploads(self._storage)
        cutoff = self._clock() - self._upload_expiry_s - self.settings.upload_grace_s
        for upload in await asyncio.to_thread(direct.pending, JOBS_FOLDER):
            if upload.initiated < cutoff:
                await asyncio.to_thread(direct.abort, upload.key, upload.upload_id)
                report.aborted_uploads += 1
                log.info("retention aborted the stale multipart upload of %s", upload.key)

    async def _sweep_abandoned_writes(self, report: SweepReport) -> None:
        before = self._clock() - self.settings.orphan_grace_s
        removed = await asyncio.to_thread(self._storage.remove_abandoned_writes, JOBS_FOLDER, before)
        report.abandoned_writes += len(removed)
        for obj in removed:
            log.info("retention removed %s (%d bytes): a write that never finished", obj.key, obj.size)


def _log_report(report: SweepReport) -> None:
    removed = sum(r.size_bytes for _, r in report.removals)
    stored = sum(k.size_bytes for k in report.usage.kinds.values())
    log.info(
        "retention sweep: %d jobs, %d removals (%.1f MB), %d orphan folders, %d uploads aborted; "
        "storage holds %.1f MB",
        report.jobs,
        len(report.removals),
        removed / 1e6,
        len(report.orphans),
        report.aborted_uploads,
        stored / 1e6,
    )
