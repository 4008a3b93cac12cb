"""The pipeline graph, written once: the stages in order, what each consumes, what each publishes.

Everything else follows from it: the subjects each stage's consumer filters on (contracts/subjects.py),
the stages a replay runs again and the events it starts with (runtime/replay.py), the services there
are (runtime/registry.py) and the events a handler accepts (runtime/inputs.py). A new stage is one
entry here and one handler.

An observer (notify) sees the end of every job, failed ones too, and is never a step of it: progress
does not count it and a replay does not start from it. Every step but ingest may also end a job with
`job.failed`, which the runtime publishes for it (runtime/failures.py), so it is in no `publishes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from contracts import events as ev
from contracts.events import Stage

E = TypeVar("E", bound=ev.Event)


@dataclass(frozen=True)
class StageSpec(Generic[E]):
    """One stage: the events its consumer receives and the events its handler publishes."""

    name: Stage
    inputs: tuple[type[E], ...]
    publishes: tuple[type[ev.Event], ...] = ()
    observer: bool = False


INGEST: StageSpec[ev.Event] = StageSpec("ingest", inputs=(), publishes=(ev.JobSubmitted,))
TRANSCODE = StageSpec("transcode", (ev.JobSubmitted,), (ev.AudioNormalized, ev.ChunkPlanned))
DIARIZE = StageSpec("diarize", (ev.AudioNormalized,), (ev.DiarizationCompleted,))
TRANSCRIBE = StageSpec("transcribe", (ev.ChunkPlanned,), (ev.ChunkTranscribed,))
ASSEMBLE: StageSpec[ev.ChunkTranscribed | ev.DiarizationCompleted] = StageSpec(
    "assemble", (ev.ChunkTranscribed, ev.DiarizationCompleted), (ev.TranscriptAssembled,)
)
SUMMARIZE = StageSpec("summarize", (ev.TranscriptAssembled,), (ev.SummaryCompleted,))
NOTIFY: StageSpec[ev.SummaryCompleted | ev.JobFailed] = StageSpec(
    "notify", (ev.SummaryCompleted, ev.JobFailed), observer=True
)

GRAPH: tuple[StageSpec[Any], ...] = (INGEST, TRANSCODE, DIARIZE, TRANSCRIBE, ASSEMBLE, SUMMARIZE, NOTIFY)

_BY_NAME: dict[str, StageSpec[Any]] = {spec.name: spec for spec in GRAPH}

STAGES: tuple[Stage, ...] = tuple(spec.name for spec in GRAPH)
# The steps of a job, in order: what its progress counts. Observers are not among them.
STEPS: tuple[Stage, ...] = tuple(spec.name for spec in GRAPH if not spec.observer)
OBSERVERS: tuple[Stage, ...] = tuple(spec.name for spec in GRAPH if spec.observer)
# A replay runs a job again from a step that consumes events; ingest consumes none.
REPLAYABLE: tuple[Stage, ...] = tuple(spec.name for spec in GRAPH if spec.inputs and not spec.observer)


def stage(name: str) -> StageSpec[Any]:
    """The graph's entry for a stage; KeyError, naming the stages there are, for any other name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}: the stages are {', '.join(STAGES)}") from None


def consumers() -> dict[Stage, tuple[type[ev.Event], ...]]:
    """Every stage with a consumer, and the events it receives (one durable consumer per stage)."""
    return {spec.name: spec.inputs for spec in GRAPH if spec.inputs}


def publisher(kind: type[ev.Event]) -> Stage:
    """The stage whose handler publishes an event type (`job.failed` has none: the runtime does)."""
    for spec in GRAPH:
        if kind in spec.publishes:
            return spec.name
    raise KeyError(f"no stage publishes {kind.__name__}")


def rerun_from(name: str) -> tuple[Stage, ...]:
    """The stage and every step its events reach, in pipeline order: what a replay from it runs."""
    reached = {stage(name).name}
    for spec in GRAPH:  # the graph is in order: a stage's inputs come from stages before it
        if not spec.observer and any(_published_by(kind, reached) for kind in spec.inputs):
            reached.add(spec.name)
    return tuple(s for s in STEPS if s in reached)


def _published_by(kind: type[ev.Event], stages: set[Stage]) -> bool:
    return any(kind in _BY_NAME[s].publishes for s in stages)


def replay_inputs(name: str) -> tuple[type[ev.Event], ...]:
    """The events a replay from a stage starts with: what the stages it runs consume and none publishes.

    In pipeline order, each stage's inputs in the order the graph lists them.
    """
    rerun = set(rerun_from(name))
    starts: list[type[ev.Event]] = []
    for spec in GRAPH:
        if spec.name in rerun:
            starts += [k for k in spec.inputs if not _published_by(k, rerun) and k not in starts]
    return tuple(starts)
