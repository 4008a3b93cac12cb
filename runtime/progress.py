"""Throttled progress reports: the latest goes to the job's KV entry, every report to a live subject."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Awaitable, Callable

from contracts import pipeline
from contracts.events import StageProgress

log = logging.getLogger(__name__)

Sink = Callable[[StageProgress], Awaitable[None]]


class ProgressReporter:
    """Callable from any thread; sends at most one report per `interval_s`, plus the last one on close."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sink: Sink,
        *,
        job_id: str,
        generation: int,
        stage: str,
        interval_s: float = 1.0,
    ) -> None:
        self._loop, self._sink = loop, sink
        self._job_id, self._generation = job_id, generation
        self._stage = pipeline.stage(stage).name  # a stage of the graph: KeyError for any other name
        self._interval_s = interval_s
        self._started = time.monotonic()
        self._last_sent = 0.0
        self._pending: StageProgress | None = None
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread_sends: set[concurrent.futures.Future[None]] = set()

    def __call__(self, done: float, total: float, unit: str = "s", message: str = "") -> None:
        report = StageProgress(
            job_id=self._job_id,
            generation=self._generation,
            stage=self._stage,
            done=float(done),  # numpy scalars from model code would not encode
            total=float(total),
            unit=unit,
            message=message,
            eta_s=self._eta(float(done), float(total)),
        )
        now = time.monotonic()
        with self._lock:
            self._pending = report
            if now - self._last_sent < self._interval_s:
                return
            self._last_sent = now
        self._send(report)

    async def flush(self) -> None:
        """Send the latest report if it was held back, and wait for sends in flight."""
        with self._lock:
            report, self._pending = self._pending, None
        if report is not None:
            await self._safe_sink(report)
        pending = [*self._tasks, *(asyncio.wrap_future(f) for f in list(self._thread_sends))]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _eta(self, done: float, total: float) -> float | None:
        elapsed = time.monotonic() - self._started
        if done <= 0 or total <= 0 or elapsed < 1.0:
            return None
        return max(0.0, (total - done) * elapsed / done)

    def _send(self, report: StageProgress) -> None:
        coro = self._safe_sink(report)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            task = self._loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
            with self._lock:
                self._thread_sends.add(future)
            future.add_done_callback(self._thread_sends.discard)

    async def _safe_sink(self, report: StageProgress) -> None:
        try:
            await self._sink(report)
        except Exception as exc:  # progress is best-effort: never fail the stage for it
            log.warning("progress report for job %s dropped: %s", self._job_id, exc)
