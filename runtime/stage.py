"""What a stage implements, and what the runtime hands it. Nothing here speaks NATS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from contracts.events import Event, PipelineEvent
from contracts.state import JobState
from runtime.storage.base import Storage

ProgressFn = Callable[..., None]
JobUpdate = Callable[[Callable[[JobState], bool | None]], Awaitable[JobState]]
T = TypeVar("T")


def wait_on_loop(awaitable: Awaitable[T], loop: asyncio.AbstractEventLoop, timeout_s: float) -> T:
    """Await on the worker's loop from a handler's thread, and wait for the result (StageContext.publish,
    a blocking job update). Refused on the loop's own thread, where waiting would be a deadlock."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread, as it should be
        running = None
    if running is loop:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError("this call blocks: make it from the handler's thread, not the event loop")

    async def wait() -> T:
        return await awaitable

    done = asyncio.run_coroutine_threadsafe(wait(), loop)
    try:
        return done.result(timeout=timeout_s)
    except TimeoutError:
        done.cancel()
        raise


@dataclass
class Outcome:
    """What a handler returns: events to publish next and how the job state changes.

    `update` edits the job state in place (it runs under compare-and-set, maybe more than once, so it
    must be idempotent). `stage_done` marks the stage done; fan-out stages decide in `update` instead.
    """

    events: Sequence[Event] = ()
    update: Callable[[JobState], None] | None = None
    stage_done: bool = True


@dataclass
class StageContext:
    """Everything a handler may use for one message."""

    job: JobState
    attempt: int
    storage: Storage
    scratch_dir: Path
    progress: ProgressFn
    log: logging.LoggerAdapter[logging.Logger]
    update_job: JobUpdate | None = None  # compare-and-set on this job's state (fan-in stages)
    extras: dict[str, object] = field(default_factory=dict)
    # Publish one event now, before the handler returns (transcode's chunk 0 while the rest decodes).
    # Blocking: call it from the handler's worker thread, never the event loop; it returns once
    # JetStream has stored the event. The event's Nats-Msg-Id makes a redelivered message's repeat a
    # duplicate, so what is published early must be what a second run would publish.
    publish: Callable[[Event], None] | None = None


class Handler(Protocol):
    """A stage: one decoded event in, an Outcome out. Heavy work goes in `asyncio.to_thread`.

    A stage the pipeline graph marks `observer` (contracts/pipeline.py: notify) also receives events of
    failed jobs, and when it gives up, only its own stage is marked failed: the job keeps its status.
    """

    stage: str

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome: ...
