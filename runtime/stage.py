"""What a stage implements, and what the runtime hands it. Nothing here speaks NATS."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from contracts.events import Event, PipelineEvent
from contracts.state import JobState
from runtime.storage.base import Storage

ProgressFn = Callable[..., None]
JobUpdate = Callable[[Callable[[JobState], bool | None]], Awaitable[JobState]]


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
