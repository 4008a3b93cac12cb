"""Job options: what a user may ask of one run of a job."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code")]
SpeakerCount = Annotated[int, msgspec.Meta(ge=1, le=32)]
ChunkSeconds = Annotated[float, msgspec.Meta(ge=30, le=3600)]
WebhookUrl = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[^\s]+$", max_length=2048, description="called on completion and failure"
    ),
]

VocabularyTerm = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
Vocabulary = Annotated[
    list[VocabularyTerm],
    msgspec.Meta(max_length=200, description="names, products and jargon to spell as given"),
]
PersonId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{7,63}$")]

SummaryMethod = Literal["llm", "extractive", "none"]


class JobOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Options for one job; every field optional, unset means the deployment default."""

    language: LanguageCode | None = None
    per_chunk_language: bool = False
    speakers: SpeakerCount | None = None
    min_speakers: SpeakerCount | None = None
    max_speakers: SpeakerCount | None = None
    transcribe_model: str | None = None
    diarize_segmentation_model: str | None = None
    diarize_embedding_model: str | None = None
    summary_method: SummaryMethod = "llm"
    summary_model: str | None = None
    chunk_seconds: ChunkSeconds | None = None
    webhook_url: WebhookUrl | None = None
    # with the API key's glossary merged in at submission (services/ingest): what transcribe and summarize use
    vocabulary: Vocabulary = msgspec.field(default_factory=list)
    # a voice sample: after diarization, the speaker with the most speech is enrolled into this profile
    enroll_person: PersonId | None = None

    def __post_init__(self) -> None:
        low, high = self.min_speakers, self.max_speakers
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_speakers ({low}) is greater than max_speakers ({high})")
        if self.speakers is not None and (low is not None or high is not None):
            raise ValueError("give either speakers, or min_speakers/max_speakers, not both")


_options_decoder = msgspec.json.Decoder(JobOptions)


def parse_options(raw: bytes | str) -> JobOptions:
    """Decode and validate options from JSON; raises msgspec.ValidationError with the reason."""
    if isinstance(raw, str):
        raw = raw.encode()
    return _options_decoder.decode(raw or b"{}")
