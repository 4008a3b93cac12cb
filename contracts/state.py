"""Job state as stored in the JetStream KV bucket: one entry per job, updated with compare-and-set."""

from __future__ import annotations

from typing import Literal

import msgspec

from contracts.events import Lane
from contracts.options import JobOptions

JobStatus = Literal["uploading", "queued", "running", "completed", "failed"]
StageStatus = Literal["pending", "running", "done", "failed", "skipped", "not_built"]


class StageState(msgspec.Struct, kw_only=True):
    status: StageStatus = "pending"
    done: float = 0.0
    total: float = 0.0
    unit: str = ""
    message: str = ""
    eta_s: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    attempts: int = 0
    error: str | None = None

    @property
    def fraction(self) -> float:
        if self.status in ("done", "skipped"):
            return 1.0
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


class AssemblyState(msgspec.Struct, kw_only=True):
    """The fan-in: which inputs arrived, and which input's message won the right to assemble."""

    received: list[str] = msgspec.field(default_factory=list)  # "diarization", "chunk:3", ...
    claimed_by: str | None = None


class RunRecord(msgspec.Struct, kw_only=True):
    """One earlier run (generation) of a job, kept when the job is replayed."""

    generation: int
    from_stage: str
    status: str
    started_at: float | None = None
    ended_at: float | None = None
    options: JobOptions = JobOptions()
    error: str | None = None


class JobState(msgspec.Struct, kw_only=True):
    job_id: str
    generation: int = 1
    status: JobStatus = "queued"
    created_at: float = 0.0
    updated_at: float = 0.0
    original_name: str = ""
    size_bytes: int = 0
    options: JobOptions = JobOptions()
    duration_s: float | None = None
    lane: Lane = "standard"  # "long" once transcode found the recording long (contracts/events.py)
    language: str | None = None
    chunks_total: int | None = None
    chunks_done: list[int] = msgspec.field(default_factory=list)
    stages: dict[str, StageState] = msgspec.field(default_factory=dict)
    outputs: dict[str, str] = msgspec.field(default_factory=dict)
    error: str | None = None
    failed_stage: str | None = None
    owner: str | None = None  # the name of the API key that submitted the job
    speaker_names: dict[str, str] = msgspec.field(default_factory=dict)  # "SPEAKER_1" -> "Alice"
    upload_id: str | None = None  # a presigned multipart upload in progress (status "uploading")
    run_from: str = "ingest"  # where this generation's run started (a replay names its stage)
    run_started_at: float | None = None
    history: list[RunRecord] = msgspec.field(default_factory=list)  # earlier generations, oldest first
    assembly: AssemblyState = msgspec.field(default_factory=AssemblyState)

    def stage(self, name: str) -> StageState:
        """The state of one stage, created as pending when absent."""
        return self.stages.setdefault(name, StageState())


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JobState)


def encode_state(state: JobState) -> bytes:
    return _encoder.encode(state)


def decode_state(payload: bytes) -> JobState:
    return _decoder.decode(payload)
