"""Subject names: one registry maps each event type to its versioned subject."""

from __future__ import annotations

from contracts import events as ev

PREFIX = "aodio.v1"
STREAM_NAME = "AODIO"
JOBS_BUCKET = "aodio_jobs"

SUBJECTS: dict[type[ev.Event], str] = {
    ev.JobSubmitted: f"{PREFIX}.job.submitted",
    ev.AudioNormalized: f"{PREFIX}.audio.normalized",
    ev.ChunkPlanned: f"{PREFIX}.chunk.planned",
    ev.DiarizationCompleted: f"{PREFIX}.diarization.completed",
    ev.ChunkTranscribed: f"{PREFIX}.chunk.transcribed",
    ev.TranscriptAssembled: f"{PREFIX}.transcript.assembled",
    ev.SummaryCompleted: f"{PREFIX}.summary.completed",
    ev.JobFailed: f"{PREFIX}.job.failed",
}

DEAD_LETTER_PREFIX = f"{PREFIX}.dead_letter"
PROGRESS_PREFIX = f"{PREFIX}.progress"

# Everything the stream stores. Progress is deliberately absent: it is live-only, the KV keeps the latest.
STREAM_SUBJECTS: list[str] = [*SUBJECTS.values(), f"{DEAD_LETTER_PREFIX}.>"]

# Which subjects each stage consumes (one durable consumer per stage, shared by its replicas).
STAGE_INPUTS: dict[str, list[str]] = {
    "transcode": [SUBJECTS[ev.JobSubmitted]],
    "diarize": [SUBJECTS[ev.AudioNormalized]],
    "transcribe": [SUBJECTS[ev.ChunkPlanned]],
    "assemble": [SUBJECTS[ev.DiarizationCompleted], SUBJECTS[ev.ChunkTranscribed]],
    "summarize": [SUBJECTS[ev.TranscriptAssembled]],
}


def subject_for(event: ev.Event) -> str:
    """The subject an event is published on."""
    return SUBJECTS[type(event)]


def dead_letter_subject(stage: str) -> str:
    return f"{DEAD_LETTER_PREFIX}.{stage}"


def progress_subject(job_id: str) -> str:
    return f"{PROGRESS_PREFIX}.{job_id}"


def message_id(event: ev.Event) -> str:
    """Nats-Msg-Id: the same logical event always gets the same id, so JetStream drops duplicates."""
    tag = type(event).__struct_config__.tag
    index = getattr(event, "index", None)
    suffix = f".{index}" if index is not None else ""
    return f"{event.job_id}.g{event.generation}.{tag}{suffix}"
