"""Replay: run a job again from one stage, with new options, reusing every artifact upstream of it.

Each replay is a new generation. The worker skips messages of older generations, and every stage's
record of its work is written only when the generation still matches, so an older run never
overwrites a newer one's state. The events that start the new run are rebuilt from stored artifacts;
a replay whose inputs are gone is refused with the stage to replay from instead, or told that nothing
is left to replay from. Artifacts retention has recorded as removed from this run count as gone
even while their deletion is under way (runtime/retention/sweeper.py records, then deletes).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import msgspec

from contracts import keys, pipeline
from contracts.artifacts import (
    PlannedChunk,
    decode_chunk_plan,
    decode_chunk_transcript,
    decode_speaker_turns,
)
from contracts.events import (
    AudioNormalized,
    ChunkPlanned,
    ChunkTranscribed,
    DiarizationCompleted,
    Event,
    JobSubmitted,
    TranscriptAssembled,
)
from contracts.options import JobOptions, parse_options
from contracts.state import AssemblyState, JobState, Removal, RunRecord, StageState, TranscriptionRecord
from runtime.storage.base import ObjectNotFound, Storage

REPLAYABLE: tuple[str, ...] = pipeline.REPLAYABLE
# The stages each replay runs again, from the graph (observers always follow, so the webhook fires
# for the new run).
RERUN: dict[str, tuple[str, ...]] = {stage: pipeline.rerun_from(stage) for stage in REPLAYABLE}


class ReplayRefused(Exception):
    """The replay cannot run as asked; the message says why and what to do instead."""

    def __init__(self, message: str, instead: str | None = None) -> None:
        super().__init__(message)
        self.instead = instead  # the stage to replay from instead, when one might do


@dataclass
class ReplayPlan:
    from_stage: str
    options: JobOptions
    events: list[Event]
    generation: int
    removals: int = 0  # retention's records when planned: start_run refuses if one was added since


class _Reads(Protocol):
    def exists(self, key: str) -> bool: ...
    def get_bytes(self, key: str) -> bytes: ...
    def why(self, key: str) -> str: ...


class _Surviving:
    """Storage as a replay sees it: what retention recorded as removed from this run is gone."""

    def __init__(self, storage: Storage, state: JobState) -> None:
        self._storage = storage
        self._gone = {r.kind for r in state.removed if r.generation == state.generation}
        self._removals: dict[str, Removal] = {r.kind: r for r in state.removed}  # the latest per kind

    def exists(self, key: str) -> bool:
        return keys.artifact_kind(key) not in self._gone and self._storage.exists(key)

    def get_bytes(self, key: str) -> bytes:
        if keys.artifact_kind(key) in self._gone:
            raise ObjectNotFound(f"retention removed {key}")
        return self._storage.get_bytes(key)

    def why(self, key: str) -> str:
        """How the key went, when retention removed its kind: " (retention removed it on ...)"."""
        removal = self._removals.get(keys.artifact_kind(key))
        if removal is None:
            return ""
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(removal.at))
        return f" (retention removed it on {when}: {removal.rule})"


def merged_options(current: JobOptions, changes: dict[str, Any]) -> JobOptions:
    """The job's options with `changes` applied (a null value returns a field to its default)."""
    merged = {**msgspec.to_builtins(current), **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    try:
        return parse_options(msgspec.json.encode(merged))
    except (msgspec.ValidationError, ValueError) as exc:
        raise ReplayRefused(f"bad options: {exc}") from exc


_Artifact = TypeVar("_Artifact")


def _read(
    storage: _Reads, key: str, decode: Callable[[bytes], _Artifact], needed_by: str, instead: str
) -> _Artifact:
    name = f"{key.rsplit('/', 2)[-2]}/{key.rsplit('/', 1)[-1]}"
    try:
        return decode(storage.get_bytes(key))
    except ObjectNotFound as exc:
        raise ReplayRefused(
            f"a replay from {needed_by} needs {name}, which is "
            f"gone from storage{storage.why(key)}: replay from {instead}",
            instead,
        ) from exc
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise ReplayRefused(
            f"a replay from {needed_by} needs {name}, which is not valid ({exc}): replay from {instead}",
            instead,
        ) from exc


def _require(storage: _Reads, key: str, needed_by: str, instead: str) -> None:
    if not storage.exists(key):
        raise ReplayRefused(
            f"a replay from {needed_by} needs {key.rsplit('/', 1)[-1]}, which is gone from storage"
            f"{storage.why(key)}: replay from {instead}",
            instead,
        )


def _chunk_plan(storage: _Reads, job_id: str, needed_by: str) -> list[PlannedChunk]:
    plan = _read(storage, keys.chunk_plan_key(job_id), decode_chunk_plan, needed_by, "transcode")
    return list(plan.chunks)


def _diarization(storage: _Reads, job_id: str, needed_by: str) -> DiarizationCompleted:
    turns = _read(storage, keys.diarization_turns_key(job_id), decode_speaker_turns, needed_by, "diarize")
    return DiarizationCompleted(
        job_id=job_id,
        turns_key=keys.diarization_turns_key(job_id),
        rttm_key=keys.diarization_rttm_key(job_id),
        speaker_count=len(turns.speakers),
    )


def _transcribed(storage: _Reads, job_id: str, chunks: list[PlannedChunk], needed_by: str) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        key = keys.chunk_transcript_key(job_id, chunk.index)
        words = _read(storage, key, decode_chunk_transcript, needed_by, "transcribe")
        events.append(
            ChunkTranscribed(
                job_id=job_id,
                index=chunk.index,
                count=len(chunks),
                transcript_key=key,
                language=words.language,
                language_probability=words.language_probability,
                model=words.model,
            )
        )
    return events


def _planned(
    storage: _Reads, state: JobState, chunks: list[PlannedChunk], options: JobOptions
) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        key = keys.chunk_audio_key(state.job_id, chunk.index)
        _require(storage, key, "transcribe", "transcode")
        events.append(
            ChunkPlanned(
                job_id=state.job_id,
                index=chunk.index,
                count=len(chunks),
                start_s=chunk.start_s,
                end_s=chunk.end_s,
                chunk_key=key,
                options=options,
            )
        )
    return events


def plan_replay(state: JobState, from_stage: str, changes: dict[str, Any], storage: Storage) -> ReplayPlan:
    """The events that start the new run, rebuilt from what is stored; raises ReplayRefused.

    When the stage the refusal points to cannot run either, the refusal says so, down to "nothing is
    left to replay from" once the recording itself is gone.
    """
    surviving = _Surviving(storage, state)
    try:
        return _plan(state, from_stage, changes, surviving)
    except ReplayRefused as refused:
        reason, instead = str(refused), refused.instead
        while instead is not None:
            try:
                _plan(state, instead, changes, surviving)
                break  # the stage named instead can run: the refusal stands as it is
            except ReplayRefused as deeper:
                reason = f"{reason}; but a replay from {instead} cannot run either: {deeper}"
                instead = deeper.instead
        raise ReplayRefused(reason, refused.instead) from refused


def _plan(state: JobState, from_stage: str, changes: dict[str, Any], storage: _Reads) -> ReplayPlan:
    if from_stage not in REPLAYABLE:
        raise ReplayRefused(f"cannot replay from {from_stage!r}: use one of {', '.join(REPLAYABLE)}")
    if state.status in ("uploading", "queued", "running"):
        raise ReplayRefused(
            f"job {state.job_id} is {state.status}: replay it once it has completed or failed"
        )
    options = merged_options(state.options, changes)
    job_id, generation = state.job_id, state.generation + 1
    # A deployment without diarize never ran it (and its assemble does not wait for speaker turns).
    diarize = state.stages.get("diarize")
    diarization = (diarize is not None and diarize.status == "done") or storage.exists(
        keys.diarization_turns_key(job_id)
    )
    chunks = functools.cache(lambda: _chunk_plan(storage, job_id, from_stage))  # read once, if needed
    # How each event a replay can start with is rebuilt; the graph says which ones a stage needs.
    rebuild: dict[type[Event], Callable[[], list[Event]]] = {
        JobSubmitted: lambda: [_submitted(state, storage, options)],
        AudioNormalized: lambda: [_normalized(state, storage, len(chunks()), options, from_stage)],
        ChunkPlanned: lambda: _planned(storage, state, chunks(), options),
        ChunkTranscribed: lambda: _transcribed(storage, job_id, chunks(), from_stage),
        DiarizationCompleted: lambda: [_diarization(storage, job_id, from_stage)] if diarization else [],
        TranscriptAssembled: lambda: [_assembled(state, storage, options, from_stage)],
    }
    events = [event for kind in pipeline.replay_inputs(from_stage) for event in rebuild[kind]()]
    # A replay of a long job stays in the long lane (a replay from transcode decides again).
    lane = state.lane if from_stage != "transcode" else "standard"
    stamped = [msgspec.structs.replace(e, generation=generation, lane=lane) for e in events]
    return ReplayPlan(from_stage, options, stamped, generation, len(state.removed))


def _submitted(state: JobState, storage: _Reads, options: JobOptions) -> JobSubmitted:
    source = state.outputs.get("source")
    if source is None or not storage.exists(source):
        why = storage.why(source) if source else ""
        raise ReplayRefused(
            f"the uploaded recording is gone from storage{why}: nothing is left to replay from; "
            "submit it again"
        )
    return JobSubmitted(
        job_id=state.job_id,
        source_key=source,
        original_name=state.original_name,
        size_bytes=state.size_bytes,
        options=options,
    )


def _normalized(
    state: JobState, storage: _Reads, chunk_count: int, options: JobOptions, needed_by: str
) -> AudioNormalized:
    key = keys.normalized_audio_key(state.job_id)
    _require(storage, key, needed_by, pipeline.publisher(AudioNormalized))
    return AudioNormalized(
        job_id=state.job_id,
        normalized_key=key,
        duration_s=state.duration_s or 0.0,
        chunk_count=chunk_count,
        options=options,
    )


def _assembled(state: JobState, storage: _Reads, options: JobOptions, needed_by: str) -> TranscriptAssembled:
    key = keys.transcript_key(state.job_id)
    _require(storage, key, needed_by, pipeline.publisher(TranscriptAssembled))
    return TranscriptAssembled(
        job_id=state.job_id, transcript_key=key, language=state.language, options=options
    )


def start_run(state: JobState, plan: ReplayPlan) -> bool | None:
    """The job state for the new generation (a compare-and-set edit; False if another replay won)."""
    if state.generation + 1 != plan.generation or len(state.removed) != plan.removals:
        return False  # another replay won, or retention removed artifacts since the plan was made
    now = time.time()
    state.history.append(
        RunRecord(
            generation=state.generation,
            from_stage=state.run_from,
            status=state.status,
            started_at=state.run_started_at or state.created_at,
            ended_at=state.updated_at,
            options=state.options,
            error=state.error,
        )
    )
    state.generation, state.run_from, state.run_started_at = plan.generation, plan.from_stage, now
    state.options, state.status, state.error, state.failed_stage = plan.options, "running", None, None
    rerun = set(RERUN[plan.from_stage])
    for stage in (*RERUN[plan.from_stage], *pipeline.OBSERVERS):
        if stage in state.stages or stage in rerun:
            state.stages[stage] = StageState()
    if "assemble" in rerun:
        state.assembly = AssemblyState()
    if "transcode" in rerun:  # the chunks are planned again, maybe more or fewer: no stale count
        state.chunks_total = None
    if "transcribe" in rerun:
        state.chunks_done = []
        state.language = None
        state.transcription = TranscriptionRecord()
    state.warnings = [w for w in state.warnings if w.stage not in rerun]
    return None
