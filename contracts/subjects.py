"""Subject names: one registry maps each event type to its versioned subject.

A deployment (or a test) may set a namespace so that several Aodio installs share one NATS server:
namespace ``acme`` gives ``acme.aodio.v1.job.submitted``, stream ``AODIO_ACME``, bucket ``aodio_jobs_acme``
(and ``aodio_retention_acme``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts import events as ev
from contracts import pipeline

VERSION = "v1"

# Event type -> subject suffix, versioned. A breaking change is a new version, never an edit here.
EVENT_SUBJECTS: dict[type[ev.Event], str] = {
    ev.JobSubmitted: "job.submitted",
    ev.AudioNormalized: "audio.normalized",
    ev.ChunkPlanned: "chunk.planned",
    ev.DiarizationCompleted: "diarization.completed",
    ev.ChunkTranscribed: "chunk.transcribed",
    ev.TranscriptAssembled: "transcript.assembled",
    ev.SummaryCompleted: "summary.completed",
    ev.JobFailed: "job.failed",
}

# Which events each stage consumes (one durable consumer per stage, shared by all its replicas):
# the graph's inputs (contracts/pipeline.py).
STAGE_INPUTS: dict[str, list[type[ev.Event]]] = {
    stage: list(inputs) for stage, inputs in pipeline.consumers().items()
}

_NAMESPACE = re.compile(r"^[a-z0-9_]{0,32}$")


@dataclass(frozen=True)
class Topology:
    """Every NATS name Aodio uses, derived from one optional namespace."""

    namespace: str = ""

    def __post_init__(self) -> None:
        if not _NAMESPACE.match(self.namespace):
            raise ValueError("namespace must be 0-32 characters of a-z, 0-9 and _")

    @property
    def prefix(self) -> str:
        base = f"aodio.{VERSION}"
        return f"{self.namespace}.{base}" if self.namespace else base

    @property
    def stream(self) -> str:
        return f"AODIO_{self.namespace.upper()}" if self.namespace else "AODIO"

    @property
    def jobs_bucket(self) -> str:
        return f"aodio_jobs_{self.namespace}" if self.namespace else "aodio_jobs"

    @property
    def retention_bucket(self) -> str:
        """The KV bucket of the retention sweeper: its lease and the storage usage it measured."""
        return f"aodio_retention_{self.namespace}" if self.namespace else "aodio_retention"

    def subject_for(self, event: ev.Event | type[ev.Event], lane: ev.Lane | None = None) -> str:
        """The subject an event is published on: `<prefix>.<event>`, or `<prefix>.long.<event>`.

        An event instance carries its lane; for an event type, `lane` picks one (default standard).
        """
        kind = event if isinstance(event, type) else type(event)
        lane = lane or (event.lane if isinstance(event, ev.Event) else "standard")
        return f"{self.prefix}.{_LANE_TOKENS[lane]}{EVENT_SUBJECTS[kind]}"

    def stage_subjects(self, stage: str, lane: ev.Lane = "standard") -> list[str]:
        return [self.subject_for(kind, lane) for kind in STAGE_INPUTS[stage]]

    def dead_letter_subject(self, stage: str) -> str:
        return f"{self.prefix}.dead_letter.{stage}"

    def progress_subject(self, job_id: str) -> str:
        return f"{self.prefix}.progress.{job_id}"

    @property
    def stream_subjects(self) -> list[str]:
        """What the stream stores. Progress is absent on purpose: live only, the KV keeps the latest."""
        events = [self.subject_for(kind, lane) for lane in ev.LANES for kind in EVENT_SUBJECTS]
        return [*events, f"{self.prefix}.dead_letter.>"]


_LANE_TOKENS: dict[ev.Lane, str] = {"standard": "", "long": "long."}


def consumer_name(stage: str, lane: ev.Lane = "standard") -> str:
    """The durable consumer of a stage's lane: `transcribe`, `transcribe_long`."""
    return stage if lane == "standard" else f"{stage}_{lane}"


def message_id(event: ev.Event) -> str:
    """Nats-Msg-Id: the same logical event always gets the same id, so JetStream drops duplicates."""
    tag = type(event).__struct_config__.tag
    index = getattr(event, "index", None)
    suffix = f".{index}" if index is not None else ""
    return f"{event.job_id}.g{event.generation}.{tag}{suffix}"
