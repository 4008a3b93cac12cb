"""What the HTTP API (services/ingest) answers: one frozen msgspec struct per JSON reply.

These structs are the single source of truth for the API's answers. The ingest routes build them
and encode them with msgspec (`encode`); the OpenAPI document gets its response schemas from the
same structs (`openapi_components`, the JSON schema msgspec derives from them, merged into
`app.openapi()` by services/ingest/answers.py); the CLI client (cli/client.py) decodes the replies
into them with the decoders below. No pydantic twin is generated, so a field cannot drift between
what the API sends, what /docs says and what the CLI reads.

They evolve as events and artifacts do: add fields only with defaults, never rename one, and never
forbid unknown fields, so a CLI talks to an older or newer API. Every struct's JSON shape is the one
the routes answered before they were typed (the web page, services/ingest/web/*.js, reads them).

    route                                   answer
    GET  /healthz                           Health (also the 503's body)
    POST /v1/jobs, /v1/jobs/from-url        JobAccepted (202)
    POST /v1/uploads/{id}/complete          JobAccepted (202)
    POST /v1/uploads                        UploadStarted (201)
    GET  /v1/jobs                           JobPage of JobSummary
    GET  /v1/jobs/{id}                      JobState (contracts/state.py)
    GET  /v1/jobs/{id}/partial-transcript   PartialTranscript
    GET  /v1/jobs/{id}/transcript           Transcript (contracts/artifacts.py) as JSON, or a text export
    GET  /v1/jobs/{id}/summary              Summary (contracts/artifacts.py) as JSON, or Markdown
    PUT  /v1/jobs/{id}/speakers             SpeakerNamesSet
    POST /v1/jobs/{id}/replay               ReplayAccepted (202)
    PATCH /v1/jobs/{id}/segments            TranscriptEdited (SegmentsPatch in; 409: RevisionConflict)
    GET  /v1/jobs/{id}/revisions            RevisionList
    POST /v1/jobs/{id}/revisions/undo       TranscriptEdited (UndoRequest in; 409: RevisionConflict)
    GET  /v1/dead-letters                   DeadLetterPage of StoredDeadLetter
    GET  /v1/dead-letters/{id}              StoredDeadLetter
    POST /v1/dead-letters/{id}/retry        DeadLetterRetried (202)
    GET, PUT /v1/glossary                   Glossary (contracts/artifacts.py)
    GET  /v1/people                         PeoplePage of Person
    POST /v1/people, /v1/people/{id}/merge  Person (201 / 200)
    GET, PATCH /v1/people/{id}              Person (with its sources)
    POST /v1/people/{id}/samples            JobAccepted (202)
    PUT, DELETE /v1/jobs/{id}/speakers/{label}/person   SpeakerPerson
    any refusal (4xx, 503)                  ErrorDetail
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import msgspec

from contracts.artifacts import Glossary, Summary, Transcript
from contracts.events import DeadLetter, Lane
from contracts.state import JobState, JobStatus, SpeakerIdentity

__all__ = [
    "API_TYPES",
    "DeadLetterPage",
    "DeadLetterRetried",
    "ErrorDetail",
    "Health",
    "JobAccepted",
    "JobPage",
    "JobSummary",
    "LimitExceeded",
    "PartialTranscript",
    "PartialWord",
    "PeoplePage",
    "Person",
    "PersonSource",
    "PresignedPart",
    "ReplayAccepted",
    "RevisionConflict",
    "RevisionEntry",
    "RevisionList",
    "SegmentEdit",
    "SegmentsPatch",
    "SpeakerNamesSet",
    "SpeakerPerson",
    "StoredDeadLetter",
    "TranscriptEdited",
    "UndoRequest",
    "UploadStarted",
    "decoder",
    "encode",
    "openapi_components",
]


class LimitExceeded(msgspec.Struct, frozen=True, kw_only=True):
    """The detail of a refusal for a key's limit (429, or 413 for a day's bytes): services/ingest/limits."""

    reason: str
    limit: str  # the limit's name: jobs_at_once, bytes_per_day
    value: int
    used: int


class ErrorDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A refusal (FastAPI's HTTPException body): what was wrong and what to do, or the limit it is over."""

    detail: str | LimitExceeded


class Health(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """NATS and storage answer (`ok`), or why not; the embedded supervisor's report when there is one."""

    ok: bool
    problems: list[str]
    supervisor: dict[str, Any] | None = None  # restarts per process (cli/supervisor.py writes it)
    degraded: list[str] | None = None  # processes waiting out a restart back-off


class JobAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """A recording is stored and its job queued."""

    job_id: str
    status: JobStatus
    size_bytes: int
    status_url: str


class PresignedPart(msgspec.Struct, frozen=True, kw_only=True):
    """Where to PUT one part of a presigned upload."""

    part_number: int
    url: str


class UploadStarted(msgspec.Struct, frozen=True, kw_only=True):
    """A presigned multipart upload: PUT each part to its URL, then POST complete_url with the ETags."""

    job_id: str
    upload_id: str
    part_size: int
    parts: list[PresignedPart]
    complete_url: str
    expires_s: int


class JobSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One job in a listing: its status and overall progress, not its whole state."""

    job_id: str
    status: JobStatus
    created_at: float
    updated_at: float
    original_name: str
    size_bytes: int
    duration_s: float | None
    lane: Lane
    language: str | None
    progress: float  # 0..1 over the pipeline's stages
    stage: str | None  # the stage running now
    failed_stage: str | None
    error: str | None


class JobPage(msgspec.Struct, frozen=True, kw_only=True):
    """Jobs newest first; next_before is the `before` of the next page (None: this is the last)."""

    jobs: list[JobSummary]
    next_before: str | None


class PartialWord(msgspec.Struct, frozen=True, kw_only=True):
    """A word transcribed so far, times in the recording."""

    start: float
    end: float
    text: str


class PartialTranscript(msgspec.Struct, frozen=True, kw_only=True):
    """The words of the chunks transcribed so far (no speakers yet)."""

    job_id: str
    chunks_done: int
    chunks_total: int | None
    language: str | None
    text: str
    words: list[PartialWord]


class SpeakerNamesSet(msgspec.Struct, frozen=True, kw_only=True):
    """The job's speaker names after a rename (labels named as themselves are left out)."""

    speaker_names: dict[str, str]


class ReplayAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """A replay queued: the new generation, where it starts, how many events started it."""

    job_id: str
    generation: int
    from_stage: str = msgspec.field(name="from")
    events: int
    status_url: str


class StoredDeadLetter(DeadLetter, frozen=True, kw_only=True):
    """A dead letter as the stream holds it: its id is its own stream sequence."""

    id: int


class DeadLetterPage(msgspec.Struct, frozen=True, kw_only=True):
    """Dead letters oldest first; next_after is the `after` of the next page (None: this is the last)."""

    dead_letters: list[StoredDeadLetter]
    next_after: int | None


class DeadLetterRetried(msgspec.Struct, frozen=True, kw_only=True):
    """Where a retried letter's message went again, and its job's status after un-failing it."""

    id: int
    subject: str
    sequence: int
    job_id: str | None
    job_status: str | None


# --- transcript edits (services/ingest/routes/edits.py): requests, then answers ------------------

EditOp = Literal["text", "word", "speaker", "split", "merge"]


class SegmentEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One edit; `segment` and `word` are 0-based positions in the transcript as the API returns it.

    text: the segment's new text. word: word `word` now reads `text`. speaker: the segment is
    `speaker`'s (a label, a name the job gave one, or "new"). split: before word `word`. merge:
    `segment` with the next one.
    """

    op: EditOp
    segment: int
    word: int | None = None
    text: str | None = None
    speaker: str | None = None


class SegmentsPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """PATCH /v1/jobs/{id}/segments: the transcript revision the edit was made on, and one edit."""

    revision: int
    edits: Annotated[list[SegmentEdit], msgspec.Meta(min_length=1, max_length=1)]


class UndoRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """POST /v1/jobs/{id}/revisions/undo: the revision the undo was asked on."""

    revision: int


class TranscriptEdited(msgspec.Struct, frozen=True, kw_only=True):
    """The transcript after an edit or an undo (speaker names applied), and its new revision."""

    revision: int
    transcript: Transcript


class RevisionEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One edit in the log: who made it, when, what it did, and whether an undo took it back."""

    number: int
    author: str | None
    at: float
    action: str
    detail: str
    undone: bool
    undoes: int | None = None


class RevisionList(msgspec.Struct, frozen=True, kw_only=True):
    """The transcript's edits, oldest first; `note` says why the log and the job disagree, if they do."""

    revision: int
    generation: int
    revisions: list[RevisionEntry]
    note: str | None = None


class RevisionConflict(msgspec.Struct, frozen=True, kw_only=True):
    """409 of an edit: the transcript is at another revision (or an edit is being saved); reload it."""

    detail: str
    revision: int


# Every type a route answers with, for the OpenAPI components.
API_TYPES: tuple[type[Any], ...] = (
    ErrorDetail,
    Health,
    JobAccepted,
    UploadStarted,
    JobPage,
    JobState,
    PartialTranscript,
    Transcript,
    Summary,
    SpeakerNamesSet,
    ReplayAccepted,
    StoredDeadLetter,
    DeadLetterPage,
    DeadLetterRetried,
    Glossary,
    SegmentsPatch,
    UndoRequest,
    TranscriptEdited,
    RevisionList,
    RevisionConflict,
)

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def encode(answer: object) -> bytes:
    """The JSON body of an answer (any of API_TYPES)."""
    return _encoder.encode(answer)


def decoder(answer_type: type[T]) -> msgspec.json.Decoder[T]:
    """A decoder of one answer type; build it once, at module level."""
    return msgspec.json.Decoder(answer_type)


def openapi_components(ref_prefix: str = "#/components/schemas/") -> dict[str, Any]:
    """The JSON schema of every answer type and the types they use, keyed by struct name."""
    _, components = msgspec.json.schema_components(API_TYPES, ref_template=ref_prefix + "{name}")
    return components


# --- voice profiles (services/ingest/routes/people.py) -------------------------------------------


class PersonSource(msgspec.Struct, frozen=True, kw_only=True):
    """One sample of a person's voice: where it came from and how much speech (never the vector)."""

    job_id: str | None
    speaker: str | None  # the job's speaker label
    speech_s: float
    model: str  # the embedding model that made the vector
    at: float


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """A voice profile: a person known by voice to the API key (`sources`: only from GET /v1/people/{id})."""

    person_id: str
    name: str
    samples: int
    speech_s: float  # seconds of speech over all samples
    created_at: float
    updated_at: float
    sources: list[PersonSource] = msgspec.field(default_factory=list)


class PeoplePage(msgspec.Struct, frozen=True, kw_only=True):
    """Every voice profile of the API key, by name."""

    people: list[Person]


class SpeakerPerson(msgspec.Struct, frozen=True, kw_only=True):
    """A job's speaker after "this is <person>" (PUT) or "not them" (DELETE), and the job's names now.

    `identity` is the label's identity after the call (None after a DELETE); `person` is the profile
    the call was about, with its samples now (None: it no longer exists, only the job's identity went).
    """

    job_id: str
    speaker: str
    person: Person | None
    identity: SpeakerIdentity | None
    speaker_names: dict[str, str]
    speaker_identities: dict[str, SpeakerIdentity]


API_TYPES = (*API_TYPES, Person, PeoplePage, SpeakerPerson)
