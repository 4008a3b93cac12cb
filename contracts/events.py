"""The events of the whole flow. Frozen, tagged, past tense; new fields only with defaults."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from contracts.options import JobOptions

# The stages of contracts/pipeline.py, which orders them and says what each consumes and publishes.
Stage = Literal["ingest", "transcode", "diarize", "transcribe", "assemble", "summarize", "notify"]

Seconds = Annotated[float, msgspec.Meta(ge=0)]
Index = Annotated[int, msgspec.Meta(ge=0)]
Count = Annotated[int, msgspec.Meta(ge=1)]
JobId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{7,63}$")]

# Long recordings travel in a lane of their own, so a 4-hour job never queues short ones behind it:
# every stage pulls from both lanes at once (contracts/subjects.py, runtime/worker.py).
Lane = Literal["standard", "long"]
LANES: tuple[Lane, ...] = ("standard", "long")


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Every event names its job, the job's generation (one per run or replay) and its lane."""

    job_id: JobId
    generation: Annotated[int, msgspec.Meta(ge=1)] = 1
    lane: Lane = "standard"  # transcode sets "long" past AODIO_TRANSCODE_LONG_JOB_S; stages pass it on


class JobSubmitted(Event, tag="job.submitted", frozen=True, kw_only=True):
    source_key: str
    original_name: str
    size_bytes: Annotated[int, msgspec.Meta(ge=0)]
    options: JobOptions = JobOptions()


class AudioNormalized(Event, tag="audio.normalized", frozen=True, kw_only=True):
    normalized_key: str
    duration_s: Seconds
    sample_rate: int = 16000
    chunk_count: Count
    options: JobOptions = JobOptions()


class ChunkPlanned(Event, tag="chunk.planned", frozen=True, kw_only=True):
    index: Index
    count: Count
    start_s: Seconds
    end_s: Seconds
    chunk_key: str
    options: JobOptions = JobOptions()


class DiarizationCompleted(Event, tag="diarization.completed", frozen=True, kw_only=True):
    turns_key: str
    rttm_key: str
    speaker_count: Annotated[int, msgspec.Meta(ge=0)]


class ChunkTranscribed(Event, tag="chunk.transcribed", frozen=True, kw_only=True):
    index: Index
    count: Count
    transcript_key: str
    language: str | None = None
    language_probability: float | None = None
    model: str | None = None


class TranscriptAssembled(Event, tag="transcript.assembled", frozen=True, kw_only=True):
    transcript_key: str
    language: str | None = None
    options: JobOptions = JobOptions()


class SummaryCompleted(Event, tag="summary.completed", frozen=True, kw_only=True):
    summary_key: str
    markdown_key: str
    method: str


class JobFailed(Event, tag="job.failed", frozen=True, kw_only=True):
    stage: Stage
    reason: str
    attempts: int = 1


PipelineEvent = (
    JobSubmitted
    | AudioNormalized
    | ChunkPlanned
    | DiarizationCompleted
    | ChunkTranscribed
    | TranscriptAssembled
    | SummaryCompleted
    | JobFailed
)


class StageProgress(msgspec.Struct, frozen=True, kw_only=True):
    """Live progress, published on core NATS (not stored in the stream); the KV holds the latest."""

    job_id: str
    generation: int = 1
    stage: Stage
    done: float
    total: float
    unit: str = "s"
    message: str = ""
    eta_s: float | None = None


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A message a stage gave up on: kept in the stream so it can be inspected and retried."""

    stage: str
    subject: str
    reason: str
    attempts: int
    payload: str
    job_id: str | None = None
    stream_sequence: int | None = None
    failed_at: float = 0.0


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(PipelineEvent)


def encode(event: msgspec.Struct) -> bytes:
    """JSON bytes of any contract struct."""
    return _encoder.encode(event)


def decode_event(payload: bytes) -> PipelineEvent:
    """Decode a pipeline event; raises msgspec.DecodeError or msgspec.ValidationError."""
    return _decoder.decode(payload)
