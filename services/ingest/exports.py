"""Exports of a job's results with its speaker names applied; renaming rewrites the stored exports.

transcript.json and summary.json as the stages wrote them carry diarization labels (SPEAKER_1...).
The first rename keeps them as transcript.labels.json and summary.labels.json; every export is then
rendered from those with the job's names, so renaming twice (or back) never compounds.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts import keys
from contracts.artifacts import SpeakerNames, Summary, Transcript, decode_summary, decode_transcript
from exports import summary as summaries
from exports import transcript as transcripts
from exports.formats import SUMMARY_FORMATS, TRANSCRIPT_FORMATS, render_summary, render_transcript
from runtime.storage.base import ObjectNotFound, Storage


def _labelled(storage: Storage, key_for: Callable[[str], str]) -> bytes:
    """The stage's own JSON (with labels): the kept copy after a rename, else the stored one."""
    try:
        return storage.get_bytes(key_for(keys.LABELLED_EXTENSION))
    except ObjectNotFound:
        return storage.get_bytes(key_for("json"))


def labelled_transcript(storage: Storage, job_id: str) -> Transcript:
    """The transcript as assemble wrote it, with diarization labels; raises ObjectNotFound before it."""
    return decode_transcript(_labelled(storage, lambda ext: keys.transcript_key(job_id, ext)))


def transcript(storage: Storage, job_id: str, names: SpeakerNames) -> Transcript:
    """The job's transcript with its speaker names; raises ObjectNotFound before assembly."""
    labelled = labelled_transcript(storage, job_id)
    return transcripts.rename_speakers(labelled, names) if names else labelled


def summary(storage: Storage, job_id: str, names: SpeakerNames) -> Summary:
    """The job's summary with its speaker names; raises ObjectNotFound before it is written."""
    labelled = decode_summary(_labelled(storage, lambda ext: keys.summary_key(job_id, ext)))
    return summaries.rename_speakers(labelled, names)


def rewrite_exports(storage: Storage, job_id: str, names: SpeakerNames, labelled: Transcript) -> None:
    """Keep the labelled JSONs once, then write every stored export again with the names applied."""
    kept = (
        (keys.labelled_transcript_key(job_id), keys.transcript_key(job_id)),
        (keys.labelled_summary_key(job_id), keys.summary_key(job_id)),
    )
    for labelled_key, json_key in kept:
        if not storage.exists(labelled_key) and storage.exists(json_key):
            storage.put_bytes(labelled_key, storage.get_bytes(json_key), "application/json")
    t = transcripts.rename_speakers(labelled, names) if names else labelled
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
