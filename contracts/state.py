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


class ChunkGuards(msgspec.Struct, kw_only=True):
    """What the transcribe stage's decode guards did in one chunk (services/transcribe/guards.py)."""

    windows: int = 0  # VAD windows of speech decoded
    speech_s: float = 0.0  # seconds of speech VAD found
    words: int = 0  # words the chunk's transcript kept
    redecoded: int = 0  # windows whose first decode was flagged, decoded again with the fallback
    collapsed: int = 0  # windows where a repetition loop was cut to its first occurrence
    dropped: int = 0  # windows the fallback decode also found no speech in
    dropped_s: float = 0.0
    words_removed: int = 0  # repeated words removed by collapsing
    quiet_windows: int = 0  # windows heard only when a silent-seeming chunk was listened to again


class TranscriptionRecord(msgspec.Struct, kw_only=True):
    """The guards' work over the whole job: each chunk's record, and the totals."""

    chunks: dict[str, ChunkGuards] = msgspec.field(default_factory=dict)  # chunk index -> record
    total: ChunkGuards = msgspec.field(default_factory=ChunkGuards)

    def record(self, index: int, guards: ChunkGuards) -> None:
        """Idempotent: set one chunk's record and recount the totals."""
        self.chunks[str(index)] = guards
        self.total = ChunkGuards(
            **{
                name: sum(getattr(c, name) for c in self.chunks.values())
                for name in ChunkGuards.__struct_fields__
            }
        )


class JobWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something a user should know about a finished job: content removed, or a guess made."""

    stage: str
    # speech_dropped, loop_collapsed, chunk_empty, transcript_empty, speech_without_words, language_uncertain
    code: str
    message: str
    chunk: int | None = None


class RunRecord(msgspec.Struct, kw_only=True):
    """One earlier run (generation) of a job, kept when the job is replayed."""

    generation: int
    from_stage: str
    status: str
    started_at: float | None = None
    ended_at: float | None = None
    options: JobOptions = JobOptions()
    error: str | None = None


class Removal(msgspec.Struct, frozen=True, kw_only=True):
    """Artifacts retention deleted from a job: which kind, how many and how big, when, and by which rule."""

    kind: str  # an artifact kind (contracts/keys.py ARTIFACT_KINDS), or "upload" for an expired upload
    objects: int = 0
    size_bytes: int = 0
    at: float = 0.0
    rule: str = ""  # the setting that removed them, e.g. "AODIO_RETENTION_CHUNK_AUDIO=7d"
    generation: int = 1  # the run whose artifacts they were


class SpeakerIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Who a diarization label is: the voice profile it matched (cosine similarity), or a confirmed one."""

    person_id: str
    name: str
    confidence: float  # cosine similarity of the label's voice to the profile's, 0..1
    confirmed: bool = False  # a person said so (enrolment or correction), not only the voice match


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
    # labels a voice profile matched or a person confirmed; their names are in speaker_names too
    speaker_identities: dict[str, SpeakerIdentity] = msgspec.field(default_factory=dict)
    # label -> the voice profiles a person said this label is not: never matched to it again
    voice_rejections: dict[str, list[str]] = msgspec.field(default_factory=dict)
    transcript_revision: int = 0  # edits made to this generation's transcript (RevisionLog), for 409s
    transcript_revised_at: float | None = None  # when an edit last took a number: it may be saving still
    upload_id: str | None = None  # a presigned multipart upload in progress (status "uploading")
    run_from: str = "ingest"  # where this generation's run started (a replay names its stage)
    run_started_at: float | None = None
    history: list[RunRecord] = msgspec.field(default_factory=list)  # earlier generations, oldest first
    assembly: AssemblyState = msgspec.field(default_factory=AssemblyState)
    transcription: TranscriptionRecord = msgspec.field(default_factory=TranscriptionRecord)
    warnings: list[JobWarning] = msgspec.field(default_factory=list)
    removed: list[Removal] = msgspec.field(default_factory=list)  # what retention deleted, oldest first

    def warn(self, warning: JobWarning) -> None:
        """Idempotent: add a warning, replacing one of the same stage, code and chunk."""
        same = (warning.stage, warning.code, warning.chunk)
        self.warnings = [w for w in self.warnings if (w.stage, w.code, w.chunk) != same] + [warning]

    def stage(self, name: str) -> StageState:
        """The state of one stage, created as pending when absent."""
        return self.stages.setdefault(name, StageState())


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JobState)


def encode_state(state: JobState) -> bytes:
    return _encoder.encode(state)


def decode_state(payload: bytes) -> JobState:
    return _decoder.decode(payload)
