"""Following a job live: its server-sent events (reconnecting when the connection drops, polling when the
server has no events route), drawn as one rich progress bar per stage with its message and ETA."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.text import Text

from cli.client import AodioClient, ApiError, ApiUnreachable, NotFound, RouteMissing
from runtime.registry import BUILT_STAGES, PIPELINE

FINAL = ("completed", "failed")
RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0)  # about 40 s, then give up


def finished(job: dict[str, Any]) -> bool:
    """True when the job will not change any more."""
    if job.get("status") in FINAL:
        return True
    stages = job.get("stages", {})
    return all(stages.get(s, {}).get("status") in ("done", "skipped") for s in BUILT_STAGES)


def clock(seconds: float | None) -> str:
    """H:MM:SS, or '' for an unknown time."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def stage_fraction(stage: dict[str, Any]) -> float:
    if stage.get("status") in ("done", "skipped"):
        return 1.0
    total, done = stage.get("total") or 0.0, stage.get("done") or 0.0
    return min(1.0, done / total) if total > 0 else 0.0


def follow(
    client: AodioClient,
    job_id: str,
    poll_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    on_reconnect: Callable[[str], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every new state of the job, the current one first, until it completes or fails (or is deleted).

    Reads the SSE stream; reconnects when the connection drops (ApiUnreachable after about 40 s of
    failures in a row); polls GET /v1/jobs/ID when the server has no events route.
    """
    failures = 0  # reconnections in a row without an event in between
    while True:
        try:
            for event in client.events(job_id):
                failures = 0
                if event.event == "state":
                    state = json.loads(event.data)
                    yield state
                    if finished(state):
                        return
                elif event.event == "end":
                    if event.data not in FINAL:
                        raise NotFound(f"job {job_id} was deleted")
                    return
            reason = "the server closed the stream"  # a restart, or a proxy's idle timeout
        except RouteMissing:
            yield from _poll(client, job_id, poll_s, sleep)
            return
        except ApiUnreachable as exc:
            reason = str(exc)
        if failures == len(RECONNECT_DELAYS_S):
            raise ApiError(f"lost the API while following job {job_id}: {reason}")
        if failures == 0 and on_reconnect is not None:
            on_reconnect(reason)
        sleep(RECONNECT_DELAYS_S[failures])
        failures += 1


def _poll(
    client: AodioClient, job_id: str, poll_s: float, sleep: Callable[[float], None]
) -> Iterator[dict[str, Any]]:
    last: Any = None
    while True:
        state = client.job(job_id)
        if state.get("updated_at") != last:
            last = state.get("updated_at")
            yield state
        if finished(state):
            return
        sleep(poll_s)


class _EtaColumn(ProgressColumn):
    """The server's estimate for the stage (eta_s), not rich's own from the bar's speed."""

    def render(self, task: Task) -> Text:
        eta = task.fields.get("eta")
        return Text(f"eta {clock(eta)}" if eta else "", style="progress.remaining")


class _PercentColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.percentage:>3.0f}%", style="progress.percentage")


def _note(stage: dict[str, Any]) -> str:
    status = stage.get("status", "pending")
    message = stage.get("message") or ""
    if status == "running":
        return message or "running"
    if status == "done":
        wall = stage.get("wall_s")
        return f"done in {clock(wall)}" if wall is not None else "done"
    if status == "failed":
        return f"[red]failed: {stage.get('error') or message}[/red]"
    return status


class StageBoard:
    """One live bar per stage: status or message, percent, the server's ETA."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:>12}"),
            BarColumn(),
            _PercentColumn(),
            _EtaColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        for stage in PIPELINE:
            if stage in BUILT_STAGES:
                self._add(stage)

    def _add(self, stage: str) -> TaskID:
        task = self.progress.add_task(stage, total=1.0, note="pending", eta=None)
        self._tasks[stage] = task
        return task

    def update(self, job: dict[str, Any]) -> None:
        for name, stage in job.get("stages", {}).items():
            task = self._tasks[name] if name in self._tasks else self._add(name)  # e.g. notify (webhooks)
            eta = stage.get("eta_s") if stage.get("status") == "running" else None
            self.progress.update(task, completed=stage_fraction(stage), note=_note(stage), eta=eta)

    def __enter__(self) -> StageBoard:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def watch(client: AodioClient, job_id: str, console: Console, poll_s: float = 1.0) -> dict[str, Any]:
    """Draw the job's stages live until it ends; returns its last state."""
    job = client.job(job_id)  # an unknown job fails here, before any bar is drawn

    def reconnecting(reason: str) -> None:
        console.print(f"[yellow]connection to the API lost ({reason}); reconnecting[/yellow]")

    with StageBoard(console) as board:
        board.update(job)
        if finished(job):
            return job
        for job in follow(client, job_id, poll_s, on_reconnect=reconnecting):
            board.update(job)
    return job
