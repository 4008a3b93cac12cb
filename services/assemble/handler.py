"""Assemble: when the speaker turns and every chunk's words are in, write the transcript in every format."""

from __future__ import annotations

import asyncio

import msgspec

from contracts import keys
from contracts.artifacts import (
    ChunkTranscript,
    SpeakerTurns,
    Transcript,
    decode_chunk_transcript,
    decode_speaker_turns,
)
from contracts.events import PipelineEvent, TranscriptAssembled
from contracts.pipeline import ASSEMBLE
from contracts.state import JobState
from exports.formats import TRANSCRIPT_FORMATS as FORMATS
from exports.formats import render_transcript
from exports.transcript import rename_speakers
from runtime.errors import PermanentError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from runtime.storage.base import ObjectNotFound, Storage
from services.assemble.config import AssembleSettings
from services.assemble.fanin import (
    expected_inputs,
    input_key,
    record_and_claim,
    should_assemble,
    waiting_for,
)
from services.assemble.identify import Identification, identify_speakers, names_after, record_identities
from services.assemble.notices import transcript_warnings
from services.assemble.speakers import assemble


class AssembleHandler:
    stage = "assemble"

    def __init__(self, settings: AssembleSettings) -> None:
        self.settings = settings

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        event = expect_input(ASSEMBLE, event)
        assert ctx.update_job is not None, "the runtime gives fan-in stages update_job"
        key, require = input_key(event), self.settings.require_diarization
        state = await ctx.update_job(lambda s: record_and_claim(s, key, require))
        expected = expected_inputs(state, require) or set()
        received = len(expected & set(state.assembly.received))
        if not should_assemble(state, key):
            ctx.progress(float(received), float(len(expected) or 1), "inputs", waiting_for(state, require))
            return Outcome(stage_done=False)
        ctx.progress(float(received), float(len(expected)), "inputs", "assembling")
        transcript, found = await asyncio.to_thread(self._assemble, state, ctx.storage)
        return Outcome(
            events=[
                TranscriptAssembled(
                    job_id=state.job_id,
                    generation=event.generation,
                    transcript_key=keys.transcript_key(state.job_id),
                    language=transcript.language,
                    options=state.options,
                )
            ],
            update=lambda s: record_transcript(s, transcript, found),
        )

    def _assemble(self, state: JobState, storage: Storage) -> tuple[Transcript, Identification | None]:
        job_id, count = state.job_id, state.chunks_total or 0
        try:
            chunks = [_chunk(storage, keys.chunk_transcript_key(job_id, i)) for i in range(count)]
            turns = _turns(storage, job_id) if self.settings.require_diarization else None
        except ObjectNotFound as exc:
            raise PermanentError(
                f"an input of the transcript is gone from storage ({exc}); re-run the job from transcribe"
            ) from exc
        transcript = assemble(chunks, turns)
        # who speaks, by voice, before rendering: so every export carries the names
        found = identify_speakers(storage, state, transcript, self.settings.voice_match_threshold)
        shown = keep_labelled(storage, job_id, transcript, names_after(state, found))
        for extension, (content_type, render) in FORMATS.items():
            storage.put_bytes(keys.transcript_key(job_id, extension), render(shown), content_type)
        return transcript, found


def keep_labelled(storage: Storage, job_id: str, transcript: Transcript, names: dict[str, str]) -> Transcript:
    """The transcript to store, as a rename does (services/ingest/exports.py), run after run.

    Named speakers: the labelled transcript is kept aside (exports and summarize read it) and the named
    one is stored. No names: a copy an earlier run kept aside would hide this new transcript, so it goes.
    """
    labelled_key = keys.labelled_transcript_key(job_id)
    if not names:
        storage.delete_prefix(labelled_key)  # exactly that key
        return transcript
    storage.put_bytes(labelled_key, render_transcript(transcript, "json"), "application/json")
    return rename_speakers(transcript, names)


def _chunk(storage: Storage, key: str) -> ChunkTranscript:
    try:
        return decode_chunk_transcript(storage.get_bytes(key))
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise PermanentError(
            f"chunk transcript {key} is not a valid chunk transcript ({exc}); re-run the job from transcribe"
        ) from exc


def _turns(storage: Storage, job_id: str) -> SpeakerTurns:
    key = keys.diarization_turns_key(job_id)
    try:
        return decode_speaker_turns(storage.get_bytes(key))
    except msgspec.DecodeError as exc:
        raise PermanentError(
            f"speaker turns {key} are not valid speaker turns ({exc}); re-run the job from diarize"
        ) from exc


def record_transcript(state: JobState, transcript: Transcript, found: Identification | None = None) -> None:
    """Idempotent: outputs, language, who speaks; a warning when it is empty but speech was heard."""
    record_identities(state, found)
    for extension in FORMATS:
        state.outputs[f"transcript_{extension}"] = keys.transcript_key(state.job_id, extension)
    if transcript.language:
        state.language = state.language or transcript.language
    for warning in transcript_warnings(state.transcription.total, transcript):
        state.warn(warning)
