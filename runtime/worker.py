"""The one pull-consume loop every stage runs. Ack, nak, term and dead letters are decided here only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections.abc import Callable
from pathlib import Path

import msgspec
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from contracts import keys, pipeline
from contracts.events import LANES, Event, PipelineEvent, StageProgress, decode_event, encode
from contracts.state import JobState
from contracts.subjects import consumer_name
from runtime.advisories import watch_max_deliveries
from runtime.errors import StageError, is_permanent, reason_of
from runtime.failures import Failures
from runtime.jobs import JobDeleted, JobNotFound, JobStore
from runtime.memory import release_memory
from runtime.progress import ProgressReporter
from runtime.publish import publish_event
from runtime.settings import NatsSettings
from runtime.stage import Handler, Outcome, StageContext, wait_on_loop
from runtime.storage.base import Storage, StorageError
from runtime.transitions import apply_progress, mark_done, mark_running, note_retry

log = logging.getLogger(__name__)
PUBLISH_NOW_TIMEOUT_S = 60.0  # StageContext.publish: a backstop; the publish itself times out sooner


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def same_lane(event: Event, cause: Event) -> Event:
    """What a long job's message leads to stays in the long lane."""
    if cause.lane != "standard" and event.lane == "standard":
        return msgspec.structs.replace(event, lane=cause.lane)
    return event


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Worker:
    """Runs one stage's handler over its durable consumer until stopped; drains on stop."""

    def __init__(
        self,
        handler: Handler,
        *,
        nc: Client,
        settings: NatsSettings,
        storage: Storage,
        jobs: JobStore,
        scratch_dir: Path,
        concurrency: int = 1,
        fetch_timeout_s: float = 2.0,
    ) -> None:
        self.handler, self.stage = handler, handler.stage
        self._nc, self._js = nc, nc.jetstream()
        self._settings, self._topology = settings, settings.topology
        self._storage, self._jobs, self._scratch = storage, jobs, scratch_dir
        self._concurrency, self._fetch_timeout_s = concurrency, fetch_timeout_s
        self._stopping = asyncio.Event()
        # An observer (webhooks) also sees failed jobs, and its own failure never fails the job.
        self._observer = pipeline.stage(self.stage).observer
        self._failures = Failures(self._js, jobs, self._topology, self.stage, observer=self._observer)

    def stop(self) -> None:
        """Stop fetching; messages in flight finish (bounded by drain_timeout_s)."""
        self._stopping.set()

    async def run(self) -> int:
        """`concurrency` loops per lane: a long job's message never keeps a short job's waiting.

        Returns how many messages were still in flight when the drain timed out (left unacked).
        """
        advisories = [
            await watch_max_deliveries(
                self._nc, self._topology, self.stage, self._failures, consumer_name(self.stage, lane)
            )
            for lane in LANES
        ]
        loops = [
            asyncio.create_task(self._consume(consumer_name(self.stage, lane)))
            for lane in LANES
            for _ in range(self._concurrency)
        ]
        log.info("stage %s consuming (%d in parallel per lane)", self.stage, self._concurrency)
        await self._stopping.wait()
        _, pending = await asyncio.wait(loops, timeout=self._settings.drain_timeout_s or None)
        for task in pending:  # unacked messages are redelivered to another replica after ack_wait
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for advisory in advisories:
            with contextlib.suppress(Exception):
                await advisory.unsubscribe()
        log.info("stage %s drained", self.stage)
        return len(pending)

    async def _consume(self, consumer: str) -> None:
        sub = await self._js.pull_subscribe_bind(durable=consumer, stream=self._topology.stream)
        try:
            while not self._stopping.is_set():
                try:
                    messages = await sub.fetch(1, timeout=self._fetch_timeout_s)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                except Exception as exc:  # a reconnect, a cluster failover: never let the loop die
                    log.warning("stage %s: fetching failed (%s); fetching again", self.stage, _describe(exc))
                    await asyncio.sleep(1)
                    continue
                for msg in messages:
                    try:
                        await self._process(msg)
                    except Exception as exc:
                        # The bus failed under us (a timed-out ack, publish or state write while NATS
                        # fails over). The message is not acked, so it comes back: after a nak with
                        # back-off if NATS takes one, or after the ack wait. The loop carries on.
                        log.warning(
                            "stage %s: message %s not finished, it will be redelivered: %s",
                            self.stage,
                            msg.subject,
                            _describe(exc),
                        )
                        with contextlib.suppress(Exception):
                            await msg.nak(delay=self._retry_delay(1))
                    await asyncio.to_thread(release_memory)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _process(self, msg: Msg) -> None:
        attempt = msg.metadata.num_delivered or 1
        try:
            event = decode_event(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self._give_up(msg, None, f"malformed event: {exc}", attempt)
            return
        try:
            await self._process_event(msg, event, attempt)
        except JobDeleted:
            # Deleted while queued or while this stage ran: drop the message, and what it wrote.
            log.info("job %s was deleted; dropping its %s message", event.job_id, self.stage)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._storage.delete_prefix, keys.job_prefix(event.job_id))
            await msg.ack_sync()

    async def _process_event(self, msg: Msg, event: PipelineEvent, attempt: int) -> None:
        job_log = logging.LoggerAdapter(log, {"job_id": event.job_id, "stage": self.stage})
        try:
            job = await self._jobs.get(event.job_id)
        except JobDeleted:
            raise
        except JobNotFound:
            await self._give_up(msg, event, f"unknown job {event.job_id}", attempt, fail_job=False)
            return
        if event.generation < job.generation or (job.status == "failed" and not self._observer):
            job_log.info("skipping %s: job is failed or superseded", msg.subject)
            await msg.ack_sync()
            return
        await self._jobs.update(event.job_id, lambda s: mark_running(s, self.stage, attempt))
        result = await self._run_handler(msg, event, job, attempt, job_log)
        if result is None:
            return
        outcome, cpu_s = result
        for next_event in outcome.events:
            await self._publish(same_lane(next_event, event))
        await self._jobs.update(
            event.job_id, lambda s: mark_done(s, self.stage, event.generation, outcome, cpu_s)
        )
        await msg.ack_sync()
        job_log.info("%s handled (attempt %d)", type(event).__name__, attempt)

    async def _run_handler(
        self,
        msg: Msg,
        event: PipelineEvent,
        job: JobState,
        attempt: int,
        job_log: logging.LoggerAdapter,
    ) -> tuple[Outcome, float] | None:
        progress = ProgressReporter(
            asyncio.get_running_loop(),
            lambda report: self._report_progress(event, report),
            job_id=event.job_id,
            generation=event.generation,
            stage=self.stage,
        )
        ctx = StageContext(
            job=job,
            attempt=attempt,
            storage=self._storage,
            scratch_dir=self._scratch,
            progress=progress,
            log=job_log,
            update_job=lambda mutate: self._jobs.update(event.job_id, mutate),
            publish=self._publish_now(event, asyncio.get_running_loop()),
        )
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        started_cpu = _cpu_seconds()
        try:
            outcome = await self.handler.handle(event, ctx)
        except Exception as exc:
            # Known failures (storage down, a refused input) say what happened; a traceback is for bugs.
            if not isinstance(exc, StageError | StorageError):
                job_log.exception("stage %s raised", self.stage)
            await self._retry_or_give_up(msg, event, exc, attempt)
            return None
        finally:
            heartbeat.cancel()
            await progress.flush()
        return outcome, _cpu_seconds() - started_cpu

    async def _heartbeat(self, msg: Msg) -> None:
        interval = max(0.5, self._settings.ack_wait_s / 2)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    def _retry_delay(self, attempt: int) -> float:
        """The back-off before the next delivery of a message that failed on its attempt-th try."""
        backoff = self._settings.retry_backoff_s or [1.0]
        return backoff[min(attempt - 1, len(backoff) - 1)]

    async def _retry_or_give_up(self, msg: Msg, event: PipelineEvent, exc: Exception, attempt: int) -> None:
        reason = reason_of(exc)
        if is_permanent(exc):
            await self._give_up(msg, event, reason, attempt)
            return
        if attempt >= self._settings.max_deliver:
            await self._give_up(msg, event, f"gave up after {attempt} attempts: {reason}", attempt)
            return
        delay = self._retry_delay(attempt)
        log.warning(
            "job %s stage %s attempt %d failed, retry in %.0fs: %s",
            event.job_id,
            self.stage,
            attempt,
            delay,
            reason,
            extra={"job_id": event.job_id, "stage": self.stage},
        )

        with contextlib.suppress(Exception):
            await self._jobs.update(event.job_id, lambda s: note_retry(s, self.stage, attempt, delay, reason))
        await msg.nak(delay=delay)

    async def _give_up(
        self, msg: Msg, event: PipelineEvent | None, reason: str, attempt: int, fail_job: bool = True
    ) -> None:
        """Permanent failure: the job is marked failed, a dead letter recorded, the message termed."""
        if event is not None and fail_job:
            await self._failures.fail_job(event, reason, attempt)
        else:
            log.error("stage %s dropped a message for good: %s", self.stage, reason)
        job_id = event.job_id if event is not None else None
        sequence = msg.metadata.sequence.stream
        await self._failures.dead_letter(msg.subject, msg.data, sequence, reason, attempt, job_id)
        await msg.term()

    async def _publish(self, event: Event) -> None:
        await publish_event(self._js, self._topology, event)

    def _publish_now(self, cause: PipelineEvent, loop: asyncio.AbstractEventLoop) -> Callable[[Event], None]:
        """StageContext.publish: from the handler's thread, publish on this loop and wait for the ack."""

        def publish(next_event: Event) -> None:
            wait_on_loop(self._publish(same_lane(next_event, cause)), loop, PUBLISH_NOW_TIMEOUT_S)

        return publish

    async def _report_progress(self, event: PipelineEvent, report: StageProgress) -> None:
        await self._nc.publish(self._topology.progress_subject(event.job_id), encode(report))
        await self._jobs.update(event.job_id, lambda state: apply_progress(state, report))
