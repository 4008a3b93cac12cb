"""Exports of a job's results with its speaker names applied; renaming rewrites the stored exports.

transcript.json and summary.json as the stages wrote them carry diarization labels (SPEAKER_1...).
The first rename keeps them as transcript.labels.json and summary.labels.json; every export is then
rendered from those with the job's names, so renaming twice (or back) never compounds.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts import keys
from runtime.storage.base import ObjectNotFound, Storage
from services.assemble import formats
from services.assemble.transcript import Transcript
from services.summarize import summary as summaries

TRANSCRIPT_FORMATS: dict[str, tuple[str, Callable[[Transcript], bytes | str]]] = {
    "json": ("application/json", formats.to_json),
    "srt": ("application/x-subrip; charset=utf-8", formats.to_srt),
    "vtt": ("text/vtt; charset=utf-8", formats.to_vtt),
    "txt": ("text/plain; charset=utf-8", formats.to_txt),
    "md": ("text/markdown; charset=utf-8", formats.to_markdown),
}
SUMMARY_FORMATS: dict[str, tuple[str, Callable[[summaries.Summary], bytes | str]]] = {
    "json": ("application/json", summaries.to_json),
    "md": ("text/markdown; charset=utf-8", summaries.to_markdown),
}
LABELS = "labels.json"


def _as_bytes(body: bytes | str) -> bytes:
    return body if isinstance(body, bytes) else body.encode()


def _labelled(storage: Storage, key_for: Callable[[str], str]) -> bytes:
    """The stage's own JSON (with labels): the kept copy after a rename, else the stored one."""
    try:
        return storage.get_bytes(key_for(LABELS))
    except ObjectNotFound:
        return storage.get_bytes(key_for("json"))


def labelled_transcript(storage: Storage, job_id: str) -> Transcript:
    """The transcript as assemble wrote it, with diarization labels; raises ObjectNotFound before it."""
    return formats.from_json(_labelled(storage, lambda ext: keys.transcript_key(job_id, ext)))


def transcript(storage: Storage, job_id: str, names: dict[str, str]) -> Transcript:
    """The job's transcript with its speaker names; raises ObjectNotFound before assembly."""
    labelled = labelled_transcript(storage, job_id)
    return formats.rename_speakers(labelled, names) if names else labelled


def summary(storage: Storage, job_id: str, names: dict[str, str]) -> summaries.Summary:
    """The job's summary with its speaker names; raises ObjectNotFound before it is written."""
    labelled = summaries.from_json(_labelled(storage, lambda ext: keys.summary_key(job_id, ext)))
    return summaries.rename_speakers(labelled, names)


def render_transcript(t: Transcript, fmt: str) -> bytes:
    return _as_bytes(TRANSCRIPT_FORMATS[fmt][1](t))


def render_summary(s: summaries.Summary, fmt: str) -> bytes:
    return _as_bytes(SUMMARY_FORMATS[fmt][1](s))


def rewrite_exports(storage: Storage, job_id: str, names: dict[str, str], labelled: Transcript) -> None:
    """Keep the labelled JSONs once, then write every stored export again with the names applied."""
    for key_for in (lambda ext: keys.transcript_key(job_id, ext), lambda ext: keys.summary_key(job_id, ext)):
        if not storage.exists(key_for(LABELS)) and storage.exists(key_for("json")):
            storage.put_bytes(key_for(LABELS), storage.get_bytes(key_for("json")), "application/json")
    t = formats.rename_speakers(labelled, names) if names else labelled
    for ext in TRANSCRIPT_FORMATS:
        storage.put_bytes(
            keys.transcript_key(job_id, ext), render_transcript(t, ext), TRANSCRIPT_FORMATS[ext][0]
        )
    try:
        s = summary(storage, job_id, names)
    except ObjectNotFound:
        return  # not summarised yet: the summary stage reads the names when it writes
    for ext in SUMMARY_FORMATS:
        storage.put_bytes(keys.summary_key(job_id, ext), render_summary(s, ext), SUMMARY_FORMATS[ext][0])
