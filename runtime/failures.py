"""Giving up on a message for good: the job marked failed, a job.failed event, a dead-letter record."""

from __future__ import annotations

import logging
import time

from nats.js import JetStreamContext

from contracts import pipeline
from contracts.events import DeadLetter, JobFailed, PipelineEvent, encode
from contracts.subjects import Topology
from runtime.jobs import JobNotFound, JobStore
from runtime.publish import publish_event
from runtime.transitions import mark_failed

log = logging.getLogger(__name__)


class Failures:
    """Records permanent failures of one stage. Idempotent: replicas may record the same one twice."""

    def __init__(
        self, js: JetStreamContext, jobs: JobStore, topology: Topology, stage: str, observer: bool = False
    ) -> None:
        self._js, self._jobs, self._topology = js, jobs, topology
        self.stage = pipeline.stage(stage).name  # a stage of the graph: KeyError for any other name
        self._observer = observer  # an observer's failure is its own: the job keeps its status

    async def fail_job(self, event: PipelineEvent, reason: str, attempts: int) -> None:
        log.error(
            "job %s stage %s failed for good: %s",
            event.job_id,
            self.stage,
            reason,
            extra={"job_id": event.job_id, "stage": self.stage},
        )
        try:
            await self._jobs.update(
                event.job_id,
                lambda s: mark_failed(s, self.stage, event.generation, reason, attempts, self._observer),
            )
        except JobNotFound:
            return
        if self._observer:
            return
        failed = JobFailed(
            job_id=event.job_id,
            generation=event.generation,
            stage=self.stage,
            reason=reason,
            attempts=attempts,
        )
        await publish_event(self._js, self._topology, failed)

    async def dead_letter(
        self,
        subject: str,
        payload: bytes,
        stream_sequence: int,
        reason: str,
        attempts: int,
        job_id: str | None,
    ) -> None:
        letter = DeadLetter(
            stage=self.stage,
            subject=subject,
            reason=reason,
            attempts=attempts,
            payload=payload.decode("utf-8", "replace"),
            job_id=job_id,
            stream_sequence=stream_sequence,
            failed_at=time.time(),
        )
        await self._js.publish(
            self._topology.dead_letter_subject(self.stage),
            encode(letter),
            headers={"Nats-Msg-Id": f"dead.{self.stage}.{stream_sequence}"},
        )
