"""What one stage writes to storage and another reads: typed artifacts, with their encoders and decoders.

Artifacts evolve as events do: add fields only with defaults, never rename one, and never forbid
unknown fields, so an artifact written by an older (or newer) stage still decodes. Every struct's JSON
shape is what the stages wrote before it was typed, so jobs stored then still decode unchanged.

    under jobs/<id>/          key (contracts/keys.py)   struct           written by -> read by
    audio/chunks.json         chunk_plan_key            ChunkPlan        transcode -> replay
    transcript/chunks/<n>     chunk_transcript_key      ChunkTranscript  transcribe -> assemble, ingest
    diarization/turns.json    diarization_turns_key     SpeakerTurns     diarize -> assemble, replay
    transcript/transcript.*   transcript_key            Transcript       assemble -> summarize, ingest
    summary/summary.*         summary_key               Summary          summarize -> ingest
    transcript.labels.json    labelled_transcript_key   Transcript       ingest (rename) -> summarize, ingest
    summary.labels.json       labelled_summary_key      Summary          summarize, ingest -> ingest
    diarization/voices.json   diarization_voices_key    SpeakerVoices    diarize -> assemble, ingest
    transcript.revisions.json transcript_revisions_key  RevisionLog      ingest (edits) -> ingest

    outside any job:
    profiles/<owner>/<id>.json voice_profile_key        VoiceProfile     assemble, ingest -> assemble, ingest
    glossaries/<owner>.json   glossary_key              Glossary         ingest -> ingest (at submission)

Replay reads the chunk plan, the chunk transcripts and the speaker turns to rebuild its events.

Speaker labels: transcript.json and summary.json carry diarization labels (SPEAKER_1...). The first
rename keeps them as transcript.labels.json and summary.labels.json (the same structs); every export is
then rendered from those with the job's `speaker_names` (a SpeakerNames map, label -> name).

One encoder serves every artifact (`encode`); each artifact has its own decoder (`decode_chunk_plan`,
`decode_chunk_transcript`, ...), built once at module level; all raise msgspec.DecodeError (and its
subclass msgspec.ValidationError) on a malformed artifact.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "ActionItem",
    "Chapter",
    "ChunkGuardRecord",
    "ChunkPlan",
    "ChunkTranscript",
    "Decision",
    "Glossary",
    "GuardEvent",
    "MadeBy",
    "Method",
    "PlannedChunk",
    "Revision",
    "RevisionLog",
    "Segment",
    "SpeakerNames",
    "SpeakerNote",
    "SpeakerTurn",
    "SpeakerTurns",
    "SpeakerVoice",
    "SpeakerVoices",
    "Summary",
    "TranscribedSegment",
    "TranscribedWord",
    "Transcript",
    "VocabularyUse",
    "VoiceProfile",
    "VoiceSample",
    "Word",
    "decode_chunk_plan",
    "decode_chunk_transcript",
    "decode_glossary",
    "decode_revision_log",
    "decode_speaker_turns",
    "decode_speaker_voices",
    "decode_summary",
    "decode_transcript",
    "decode_voice_profile",
    "encode",
    "join_words",
]


# --- transcode: audio/chunks.json ---------------------------------------------------------------


class PlannedChunk(msgspec.Struct, frozen=True, kw_only=True):
    """One chunk of the normalized audio, on the recording's clock."""

    index: int
    start_s: float
    end_s: float


class ChunkPlan(msgspec.Struct, frozen=True, kw_only=True):
    """How transcode cut the recording: the chunks, and the silences it cut them in."""

    chunks: list[PlannedChunk]
    silences: list[tuple[float, float]] = msgspec.field(default_factory=list)


# --- transcribe: transcript/chunks/<n>.json -----------------------------------------------------


class TranscribedWord(msgspec.Struct, frozen=True, kw_only=True):
    """A word as faster-whisper gives it: `word` keeps its leading space (Whisper's convention)."""

    start: float
    end: float
    word: str
    probability: float = 0.0


class TranscribedSegment(msgspec.Struct, frozen=True, kw_only=True):
    """One decoded segment; without word timestamps, `words` is empty and the segment stands for them."""

    start: float
    end: float
    text: str = ""
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: list[TranscribedWord] = msgspec.field(default_factory=list)


class GuardEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One window a decode guard re-decoded, collapsed or dropped, and why."""

    start: float
    end: float
    action: str
    reason: str
    detail: str = ""
    text: str = ""


class ChunkGuardRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the decode guards did in one chunk (services/transcribe/guards.py), event times absolute."""

    windows: int = 0
    speech_s: float = 0.0
    redecoded: int = 0
    collapsed: int = 0
    dropped: int = 0
    dropped_s: float = 0.0
    words_removed: int = 0
    quiet_windows: int = 0
    events: list[GuardEvent] = msgspec.field(default_factory=list)


class VocabularyUse(msgspec.Struct, frozen=True, kw_only=True):
    """How one chunk's decodes were given the job's vocabulary (services/transcribe/vocabulary.py)."""

    mode: str  # hotwords, prompt or both (AODIO_TRANSCRIBE_VOCABULARY_MODE)
    terms: int  # terms the decoder was given, the job's first
    left_out: int = 0  # terms over the decoder's token budget
    text: str = ""  # the terms as the decoder got them


class ChunkTranscript(msgspec.Struct, frozen=True, kw_only=True):
    """One chunk's words, times on the recording's clock (not the chunk's)."""

    index: int
    start_s: float
    end_s: float
    language: str | None = None
    language_probability: float | None = None
    model: str | None = None
    segments: list[TranscribedSegment] = msgspec.field(default_factory=list)
    guards: ChunkGuardRecord | None = None
    vocabulary: VocabularyUse | None = None  # None: the decoder was given no vocabulary


# --- diarize: diarization/turns.json ------------------------------------------------------------


class SpeakerTurn(msgspec.Struct, frozen=True, kw_only=True):
    """A stretch of time one speaker (a diarization label) holds the floor."""

    start: float
    end: float
    speaker: str


class SpeakerTurns(msgspec.Struct, frozen=True, kw_only=True):
    """The whole recording's speaker turns, labels consistent over hours; `model` says what made them."""

    speakers: list[str] = msgspec.field(default_factory=list)
    turns: list[SpeakerTurn] = msgspec.field(default_factory=list)
    model: dict[str, Any] = msgspec.field(default_factory=dict)
    duration_s: float = 0.0


class SpeakerVoice(msgspec.Struct, frozen=True, kw_only=True):
    """One diarization label's voice: the speech-weighted mean of its CAM++ centroids, normalised."""

    speaker: str
    speech_s: float
    vector: list[float]


class SpeakerVoices(msgspec.Struct, frozen=True, kw_only=True):
    """diarization/voices.json: every label's voice vector (never audio), and the embedding model's name."""

    model: str = ""
    speakers: list[SpeakerVoice] = msgspec.field(default_factory=list)


# --- assemble: transcript/transcript.json (and transcript.labels.json) --------------------------


class Word(msgspec.Struct, frozen=True):
    """One spoken word on the recording's clock; `speaker` is None without diarization.

    `text` keeps Whisper's convention: a leading space when the word starts a new word in the
    sentence, none when it continues the previous one ("l'" + "homme", Chinese, Japanese), so
    `join_words` rebuilds text the way Whisper wrote it, in every language.
    """

    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None


class Segment(msgspec.Struct, frozen=True):
    """Consecutive words of one speaker, short enough to read as one line of a transcript."""

    start: float
    end: float
    speaker: str | None
    text: str
    words: list[Word]
    overlap: bool = False  # someone else speaks at the same time during some of these words


class Transcript(msgspec.Struct, frozen=True):
    """The whole recording: segments in time order, speakers in order of first appearance."""

    language: str | None
    duration_s: float
    speakers: list[str]
    segments: list[Segment]
    model: dict[str, Any]
    diarization: dict[str, Any] | None = None


def join_words(words: list[Word]) -> str:
    """The words' text as one string, spaced the way the transcriber wrote it."""
    return "".join(w.text for w in words).strip()


# --- summarize: summary/summary.json (and summary.labels.json) ----------------------------------

Method = Literal["llm", "extractive", "none"]
# model: written by the model; extracted: the transcript's own sentences, picked by the ranker;
# extracted+model: picked by the ranker, worded by the model; keywords: the words that set a stretch apart
MadeBy = Literal["model", "extracted", "extracted+model", "keywords"]


class ActionItem(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    owner: str | None = None
    due: str | None = None
    at_s: float | None = None  # where in the recording it was said


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    at_s: float | None = None


class Chapter(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    start_s: float


class SpeakerNote(msgspec.Struct, frozen=True, kw_only=True):
    speaker: str
    contribution: str
    share: float | None = None  # fraction of the speaking time


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """summary.json. `method` says what produced it; `note` why, when it is not what was asked for."""

    method: Method
    model: str | None
    language: str | None
    title: str = ""
    overview: str = ""
    key_points: list[str] = msgspec.field(default_factory=list)
    decisions: list[Decision] = msgspec.field(default_factory=list)
    action_items: list[ActionItem] = msgspec.field(default_factory=list)
    chapters: list[Chapter] = msgspec.field(default_factory=list)
    speakers: list[SpeakerNote] = msgspec.field(default_factory=list)
    duration_s: float | None = None
    note: str | None = None
    # how each section was made, where it is not plain `method`: {"chapters": "keywords", ...}
    made_by: dict[str, MadeBy] = msgspec.field(default_factory=dict)


# --- ingest (edits): transcript/transcript.revisions.json -----------------------------------------


class Revision(msgspec.Struct, frozen=True, kw_only=True):
    """One edit of the transcript: segments [start, start + len(before)) became `after` segments.

    Every edit (text, word, speaker, split, merge) is stored as this splice, with the segments it
    replaced, so undoing it puts `before` back in place of the `after` segments it made.
    """

    number: int  # the transcript revision this edit made (JobState.transcript_revision)
    author: str | None  # the API key's name; None without keys
    at: float  # unix time
    action: Literal["text", "word", "speaker", "split", "merge", "undo"]
    detail: str = ""  # what changed, in words: "segment 12: text", "segments 3+4 merged"
    start: int = 0
    before: list[Segment] = msgspec.field(default_factory=list)
    after: int = 0  # how many segments the edit put at `start`
    undoes: int | None = None  # for an undo: the revision number it undid
    undone: bool = False  # a later undo took this edit back


class RevisionLog(msgspec.Struct, frozen=True, kw_only=True):
    """Every edit of one job's transcript, oldest first; `generation`: the run whose transcript they edit."""

    generation: int = 1
    revisions: list[Revision] = msgspec.field(default_factory=list)


# --- voice profiles and glossaries: outside any job, per API key ---------------------------------


class VoiceSample(msgspec.Struct, frozen=True, kw_only=True):
    """Confirmed speech of one person: a voice vector and where it came from (never the audio)."""

    vector: list[float]
    speech_s: float
    model: str = ""  # the embedding model that made the vector; only vectors of one model compare
    job_id: str | None = None
    speaker: str | None = None  # the job's diarization label
    at: float = 0.0


class VoiceProfile(msgspec.Struct, frozen=True, kw_only=True):
    """profiles/<owner>/<person_id>.json: a person known by voice to one API key."""

    person_id: str
    name: str
    owner: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    samples: list[VoiceSample] = msgspec.field(default_factory=list)


class Glossary(msgspec.Struct, frozen=True, kw_only=True):
    """glossaries/<owner>.json: names, products and jargon one API key's jobs should spell as given."""

    terms: list[str] = msgspec.field(default_factory=list)
    updated_at: float = 0.0


# --- speaker labels: the job's names for diarization labels (JobState.speaker_names) ------------

SpeakerNames = dict[str, str]  # diarization label -> the name a person gave it ("SPEAKER_1" -> "Alice")

# Every artifact's struct, for the schema snapshot (contracts/schema.py).
ARTIFACT_TYPES: tuple[type[msgspec.Struct], ...] = (
    ChunkPlan,
    ChunkTranscript,
    SpeakerTurns,
    Transcript,
    Summary,
    SpeakerVoices,
    RevisionLog,
    VoiceProfile,
    Glossary,
)

_encoder = msgspec.json.Encoder()
_chunk_plan = msgspec.json.Decoder(ChunkPlan)
_chunk_transcript = msgspec.json.Decoder(ChunkTranscript)
_speaker_turns = msgspec.json.Decoder(SpeakerTurns)
_transcript = msgspec.json.Decoder(Transcript)
_summary = msgspec.json.Decoder(Summary)
_speaker_voices = msgspec.json.Decoder(SpeakerVoices)
_revision_log = msgspec.json.Decoder(RevisionLog)
_voice_profile = msgspec.json.Decoder(VoiceProfile)
_glossary = msgspec.json.Decoder(Glossary)

Artifact = (
    ChunkPlan
    | ChunkTranscript
    | SpeakerTurns
    | Transcript
    | Summary
    | SpeakerVoices
    | RevisionLog
    | VoiceProfile
    | Glossary
)


def encode(artifact: Artifact) -> bytes:
    """Any artifact as the UTF-8 JSON stored under its key."""
    return _encoder.encode(artifact)


def decode_chunk_plan(data: bytes | str) -> ChunkPlan:
    """audio/chunks.json."""
    return _chunk_plan.decode(data)


def decode_chunk_transcript(data: bytes | str) -> ChunkTranscript:
    """transcript/chunks/<n>.json."""
    return _chunk_transcript.decode(data)


def decode_speaker_turns(data: bytes | str) -> SpeakerTurns:
    """diarization/turns.json."""
    return _speaker_turns.decode(data)


def decode_transcript(data: bytes | str) -> Transcript:
    """transcript/transcript.json or transcript.labels.json."""
    return _transcript.decode(data)


def decode_summary(data: bytes | str) -> Summary:
    """summary/summary.json or summary.labels.json."""
    return _summary.decode(data)


def decode_speaker_voices(data: bytes | str) -> SpeakerVoices:
    """diarization/voices.json."""
    return _speaker_voices.decode(data)


def decode_revision_log(data: bytes | str) -> RevisionLog:
    """transcript/transcript.revisions.json."""
    return _revision_log.decode(data)


def decode_voice_profile(data: bytes | str) -> VoiceProfile:
    """profiles/<owner>/<person_id>.json."""
    return _voice_profile.decode(data)


def decode_glossary(data: bytes | str) -> Glossary:
    """glossaries/<owner>.json."""
    return _glossary.decode(data)
