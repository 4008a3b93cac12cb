"""Retention settings: how long each kind of artifact outlives its job, and how the sweeper runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.keys import ARTIFACT_KINDS

DAY_S = 86400.0
_DAYS = re.compile(r"^(\d+(?:\.\d+)?)\s*d?$")


@dataclass(frozen=True)
class Rule:
    """When one kind of artifact goes: `after_s` seconds after its job ended, or never (None)."""

    text: str  # as configured, normalised: "keep", "completed", "7d"
    after_s: float | None


def parse_rule(text: str) -> Rule:
    """`keep`, `completed`, or days after the job ended (`7d`, `7`, `0.5d`); ValueError otherwise."""
    cleaned = text.strip().lower()
    if cleaned == "keep":
        return Rule("keep", None)
    if cleaned == "completed":
        return Rule("completed", 0.0)
    match = _DAYS.match(cleaned)
    if not match:
        raise ValueError(
            f"{text!r} is not a retention rule: use keep, completed, or a number of days such as 7d"
        )
    days = float(match.group(1))
    return Rule(f"{days:g}d", days * DAY_S)


class RetentionSettings(BaseSettings):
    """Per kind of artifact, once its job ended: `keep`, `completed` (next sweep) or days (`7d`, `7`).

    The ingest API sweeps (runtime/retention/sweeper.py); transcripts and summaries are kept by default.
    """

    model_config = SettingsConfigDict(env_prefix="AODIO_RETENTION_", extra="ignore", env_ignore_empty=True)

    # One rule per kind of artifact: `keep`, `completed` (at the first sweep after the job ended) or a
    # number of days after it ended (`7d` or `7`).

    # The uploaded recording: a replay from transcode needs it, so it stays longest.
    source: str = "30d"
    # The 16 kHz FLAC (about 2 MB a minute): the page's player plays it, replays from diarize need it.
    normalized_audio: str = "7d"
    # The chunks' FLAC (as much again): replays from transcribe need them.
    chunk_audio: str = "7d"
    # Where each chunk starts and ends (a few KB): replays from diarize, transcribe and assemble need it.
    chunk_plan: str = "keep"
    # Each chunk's words (KB to MB): replays from diarize and assemble need them.
    chunk_transcripts: str = "keep"
    # Speaker turns (turns.json, .rttm; small): replays from transcribe and assemble need them.
    diarization: str = "keep"
    transcript: str = "keep"  # The transcript in every format: what the user came for.
    summary: str = "keep"  # The summary (JSON, Markdown): what the user came for.
    # A failed job keeps everything at least this many days, whatever the rules above say, so it can be
    # replayed from the stage that failed once the cause is fixed.
    failed_min_days: float = Field(default=7.0, ge=0)
    enabled: bool = True  # False: no sweep runs, nothing is ever deleted, storage use is not measured.
    # One sweep per interval over all the API's replicas (they share a lease in NATS).
    interval_s: float = Field(default=3600.0, ge=10)
    # A presigned upload not completed this long after its URLs expired (AODIO_INGEST_UPLOAD_URL_EXPIRY_S)
    # is aborted, its parts deleted and its job marked failed.
    upload_grace_s: float = Field(default=3600.0, ge=0)
    # Artifacts of a job id with no job state (a crash between the two steps of a delete, a refused
    # upload's leftovers) are removed once nothing under them changed for this long; a deleted job's at once.
    orphan_grace_s: float = Field(default=86400.0, ge=0)
    # False: leave job folders with no job state alone (several deployments sharing one bucket and
    # prefix; better: give each its own AODIO_STORAGE_S3_PREFIX).
    remove_orphans: bool = True

    @field_validator(*ARTIFACT_KINDS)
    @classmethod
    def _a_rule(cls, value: str) -> str:
        return parse_rule(value).text

    def rule(self, kind: str) -> Rule:
        """The rule for one kind of artifact (contracts/keys.py ARTIFACT_KINDS)."""
        return parse_rule(getattr(self, kind))

    def env_name(self, kind: str) -> str:
        """The variable that sets a kind's rule, for the record of what a rule removed."""
        return f"{self.model_config.get('env_prefix', '')}{kind}".upper()
