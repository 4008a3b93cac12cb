"""Artifact keys: stable, derived from the job, never random, so a retry overwrites the same object."""

from __future__ import annotations

import hashlib
import re

_JOB_ID = re.compile(r"^[a-z0-9][a-z0-9-]{7,63}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_valid_job_id(job_id: str) -> bool:
    """True when job_id has the shape Aodio gives job ids (lower-case, digits, dashes)."""
    return bool(_JOB_ID.match(job_id))


def safe_file_name(name: str, default: str = "upload") -> str:
    """A file name with no directories, no traversal and only portable characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip("._")
    return cleaned[:120] or default


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/"


def belongs_to_job(key: str, job_id: str) -> bool:
    """True when key names an object under the job's own prefix, with no traversal in it."""
    parts = key.split("/")
    return (
        key.startswith(job_prefix(job_id))
        and not any(part in ("", ".", "..") for part in parts)
        and "\\" not in key
        and "\x00" not in key
    )


def source_key(job_id: str, original_name: str) -> str:
    return f"jobs/{job_id}/source/{safe_file_name(original_name)}"


def normalized_audio_key(job_id: str) -> str:
    return f"jobs/{job_id}/audio/normalized.flac"


def chunk_audio_key(job_id: str, index: int) -> str:
    return f"jobs/{job_id}/audio/chunks/{index:05d}.flac"


def chunk_plan_key(job_id: str) -> str:
    return f"jobs/{job_id}/audio/chunks.json"


def diarization_turns_key(job_id: str) -> str:
    return f"jobs/{job_id}/diarization/turns.json"


def diarization_rttm_key(job_id: str) -> str:
    return f"jobs/{job_id}/diarization/turns.rttm"


def chunk_transcript_key(job_id: str, index: int) -> str:
    return f"jobs/{job_id}/transcript/chunks/{index:05d}.json"


def transcript_key(job_id: str, extension: str = "json") -> str:
    return f"jobs/{job_id}/transcript/transcript.{extension}"


def summary_key(job_id: str, extension: str = "json") -> str:
    return f"jobs/{job_id}/summary/summary.{extension}"


# The first speaker rename keeps the stage's own JSON, with diarization labels, under this extension.
LABELLED_EXTENSION = "labels.json"


def labelled_transcript_key(job_id: str) -> str:
    """transcript.json as assemble wrote it (diarization labels), kept aside once speakers are named."""
    return transcript_key(job_id, LABELLED_EXTENSION)


def labelled_summary_key(job_id: str) -> str:
    """summary.json with diarization labels, kept aside once speakers are named."""
    return summary_key(job_id, LABELLED_EXTENSION)


def diarization_voices_key(job_id: str) -> str:
    """Each diarization label's voice vector (SpeakerVoices): what voice profiles are matched against."""
    return f"jobs/{job_id}/diarization/voices.json"


def transcript_revisions_key(job_id: str) -> str:
    """The edits people made to the transcript (RevisionLog); a transcript-kind artifact for retention."""
    return transcript_key(job_id, "revisions.json")


def owner_folder(owner: str | None) -> str:
    """A folder name for an API key's name (None: no keys configured): fixed length, no traversal."""
    return hashlib.sha256((owner or "").encode()).hexdigest()[:24]


def voice_profiles_prefix(owner: str | None) -> str:
    return f"profiles/{owner_folder(owner)}/"


def voice_profile_key(owner: str | None, person_id: str) -> str:
    return f"{voice_profiles_prefix(owner)}{person_id}.json"


def glossary_key(owner: str | None) -> str:
    return f"glossaries/{owner_folder(owner)}.json"


# Each kind of artifact lives under one prefix of its job's folder; retention is set per kind.
ARTIFACT_PREFIXES: dict[str, str] = {
    "source": "source/",
    "normalized_audio": "audio/normalized.flac",
    "chunk_audio": "audio/chunks/",
    "chunk_plan": "audio/chunks.json",
    "diarization": "diarization/",
    "chunk_transcripts": "transcript/chunks/",
    "transcript": "transcript/transcript.",
    "summary": "summary/",
}
ARTIFACT_KINDS: tuple[str, ...] = tuple(ARTIFACT_PREFIXES)
OTHER_KIND = "other"  # a key under a job's folder that no kind above names


def artifact_prefix(job_id: str, kind: str) -> str:
    """The prefix every artifact of one kind of one job starts with."""
    return job_prefix(job_id) + ARTIFACT_PREFIXES[kind]


def artifact_kind(key: str) -> str:
    """The kind of artifact a key under jobs/<id>/ names, or OTHER_KIND."""
    parts = key.split("/", 2)
    if len(parts) < 3 or parts[0] != "jobs":
        return OTHER_KIND
    inside = parts[2]
    return next((kind for kind, prefix in ARTIFACT_PREFIXES.items() if inside.startswith(prefix)), OTHER_KIND)
