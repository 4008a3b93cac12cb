"""The artifacts stages hand each other: each round-trips, and what the dict writers wrote still decodes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from contracts import keys
from contracts.artifacts import (
    ActionItem,
    Chapter,
    ChunkGuardRecord,
    ChunkPlan,
    ChunkTranscript,
    Decision,
    GuardEvent,
    PlannedChunk,
    Segment,
    SpeakerNote,
    SpeakerTurn,
    SpeakerTurns,
    Summary,
    TranscribedSegment,
    TranscribedWord,
    Transcript,
    Word,
    decode_chunk_plan,
    decode_chunk_transcript,
    decode_speaker_turns,
    decode_summary,
    decode_transcript,
    encode,
)
from runtime.errors import PermanentError
from runtime.storage.directory import DirectoryStorage
from services.assemble.handler import _chunk
from services.transcribe.transcript import chunk_transcript_json

JOB = "20261203-000000-artf"
Artifact = ChunkPlan | ChunkTranscript | SpeakerTurns | Transcript | Summary

# What the writers wrote before the artifacts were typed (json.dumps of dicts), byte for byte.
OLD_CHUNK_PLAN = json.dumps(
    {
        "chunks": [{"index": 0, "start_s": 0.0, "end_s": 31.5}, {"index": 1, "start_s": 31.5, "end_s": 60.0}],
        "silences": [[31.2, 31.8]],
    }
).encode()
OLD_SEGMENT = {
    "start": 0.52,
    "end": 1.4,
    "text": "Voilà, l'homme.",
    "avg_logprob": -0.21,
    "no_speech_prob": 0.01,
    "words": [
        {"start": 0.52, "end": 0.9, "word": " Voilà,", "probability": 0.93},
        {"start": 0.9, "end": 1.1, "word": " l'", "probability": 0.88},
        {"start": 1.1, "end": 1.4, "word": "homme.", "probability": 0.97},
    ],
}
OLD_GUARDS = {
    "windows": 2,
    "speech_s": 1.2,
    "redecoded": 1,
    "collapsed": 0,
    "dropped": 0,
    "dropped_s": 0.0,
    "words_removed": 0,
    "quiet_windows": 0,
    "events": [
        {"start": 3.0, "end": 4.0, "action": "redecoded", "reason": "repetition", "detail": "x", "text": ""}
    ],
}
OLD_CHUNK = {
    "index": 0,
    "start_s": 0.0,
    "end_s": 31.5,
    "language": "fr",
    "language_probability": 0.98,
    "model": "large-v3-turbo",
    "segments": [OLD_SEGMENT],
    "guards": OLD_GUARDS,
}
OLD_TURNS = msgspec.json.encode(
    {
        "speakers": ["SPEAKER_00", "SPEAKER_01"],
        "turns": [{"start": 0.0, "end": 1.2, "speaker": "SPEAKER_00"}],
        "model": {"segmentation": "pyannote/segmentation-3.0"},
        "duration_s": 60.0,
    }
)


def _transcript() -> Transcript:
    words = [Word(0.5, 0.9, " Bonjour", 0.9, "SPEAKER_1"), Word(0.9, 1.2, " Marc.", 0.8, "SPEAKER_1")]
    segment = Segment(0.5, 1.2, "SPEAKER_1", "Bonjour Marc.", words)
    return Transcript("fr", 60.0, ["SPEAKER_1"], [segment], {"transcribe": "base"}, {"speaker_map": {}})


def _summary() -> Summary:
    return Summary(
        method="extractive",
        model=None,
        language="fr",
        title="Réunion",
        key_points=["un point"],
        decisions=[Decision(text="on livre", at_s=12.0)],
        action_items=[ActionItem(text="écrire", owner="SPEAKER_1", due="lundi", at_s=3.0)],
        chapters=[Chapter(title="début", start_s=0.0)],
        speakers=[SpeakerNote(speaker="SPEAKER_1", contribution="parle", share=1.0)],
        made_by={"chapters": "keywords"},
    )


@pytest.mark.parametrize(
    ("artifact", "decode"),
    [
        (
            ChunkPlan(chunks=[PlannedChunk(index=0, start_s=0.0, end_s=9.5)], silences=[(9.2, 9.8)]),
            decode_chunk_plan,
        ),
        (
            ChunkTranscript(
                index=3,
                start_s=90.0,
                end_s=120.0,
                language="en",
                language_probability=0.9,
                model="base",
                segments=[
                    TranscribedSegment(
                        start=90.1,
                        end=91.0,
                        text="hi",
                        words=[TranscribedWord(start=90.1, end=91.0, word=" hi", probability=0.9)],
                    )
                ],
                guards=ChunkGuardRecord(
                    windows=1, events=[GuardEvent(start=1.0, end=2.0, action="dropped", reason="no_speech")]
                ),
            ),
            decode_chunk_transcript,
        ),
        (
            SpeakerTurns(speakers=["A"], turns=[SpeakerTurn(start=0.0, end=1.0, speaker="A")]),
            decode_speaker_turns,
        ),
        (_transcript(), decode_transcript),
        (_summary(), decode_summary),
    ],
    ids=["chunk_plan", "chunk_transcript", "speaker_turns", "transcript", "summary"],
)
def test_every_artifact_round_trips(artifact: Artifact, decode: Callable[[bytes], Artifact]) -> None:
    assert decode(encode(artifact)) == artifact


def test_a_chunk_plan_written_by_json_dumps_still_decodes() -> None:
    plan = decode_chunk_plan(OLD_CHUNK_PLAN)
    assert [c.index for c in plan.chunks] == [0, 1]
    assert plan.chunks[1].start_s == 31.5 and plan.silences == [(31.2, 31.8)]
    assert json.loads(encode(plan)) == json.loads(OLD_CHUNK_PLAN)


def test_a_chunk_transcript_keeps_the_shape_faster_whisper_gave_it() -> None:
    """The writer's JSON is what the dict pass-through wrote, and old files (extra keys too) decode."""
    written = chunk_transcript_json(
        index=0,
        start_s=0.0,
        end_s=31.5,
        language="fr",
        language_probability=0.98,
        model="large-v3-turbo",
        segments=[OLD_SEGMENT],
        guards=OLD_GUARDS,
    )
    assert _without_new_defaults(json.loads(written), OLD_CHUNK) == OLD_CHUNK
    assert json.loads(written).get("vocabulary") is None  # the one field added since: empty without one
    old = json.dumps({**OLD_CHUNK, "someday": 1}, ensure_ascii=False).encode()
    chunk = decode_chunk_transcript(old)
    assert chunk.segments[0].words[1].word == " l'" and chunk.guards is not None
    assert decode_chunk_transcript(json.dumps({**OLD_CHUNK, "guards": None})).guards is None


def test_speaker_turns_written_before_still_decode() -> None:
    turns = decode_speaker_turns(OLD_TURNS)
    assert turns.speakers == ["SPEAKER_00", "SPEAKER_01"] and turns.turns[0].speaker == "SPEAKER_00"
    assert encode(turns) == OLD_TURNS


def test_a_summary_without_newer_fields_decodes_with_defaults() -> None:
    summary = decode_summary(b'{"method": "none", "model": null, "language": "en"}')
    assert summary.key_points == [] and summary.made_by == {} and summary.note is None


def test_the_labelled_copies_sit_beside_the_stage_json() -> None:
    assert keys.labelled_transcript_key(JOB) == f"jobs/{JOB}/transcript/transcript.labels.json"
    assert keys.labelled_summary_key(JOB) == f"jobs/{JOB}/summary/summary.labels.json"
    assert keys.artifact_kind(keys.labelled_transcript_key(JOB)) == "transcript"
    assert keys.artifact_kind(keys.labelled_summary_key(JOB)) == "summary"


def test_a_malformed_chunk_transcript_fails_assembly_with_a_reason(tmp_path: Path) -> None:
    storage = DirectoryStorage(tmp_path)
    key = keys.chunk_transcript_key(JOB, 0)
    storage.put_bytes(key, b'{"index": "zero", "start_s": 0', "application/json")
    with pytest.raises(PermanentError, match=r"not a valid chunk transcript.*re-run the job from transcribe"):
        _chunk(storage, key)


STORED_JOBS = Path(__file__).parent / "fixtures" / "stored_job" / "artifacts" / "jobs"
DECODERS: dict[str, Callable[[bytes], Artifact]] = {
    "audio/chunks.json": decode_chunk_plan,
    "diarization/turns.json": decode_speaker_turns,
    "transcript/chunks/": decode_chunk_transcript,
    "transcript/transcript.json": decode_transcript,
    "summary/summary.json": decode_summary,
}


def _without_new_defaults(encoded: object, raw: object) -> object:
    """`encoded` less the keys `raw` lacks that hold an empty default: fields added since, with defaults."""
    if isinstance(encoded, dict) and isinstance(raw, dict):
        return {
            key: _without_new_defaults(value, raw.get(key))
            for key, value in encoded.items()
            if key in raw or value not in (None, [], {})
        }
    if isinstance(encoded, list) and isinstance(raw, list) and len(encoded) == len(raw):
        return [_without_new_defaults(e, r) for e, r in zip(encoded, raw, strict=True)]
    return encoded


def test_the_stored_job_s_artifacts_decode_to_the_same_json() -> None:
    """Every artifact of the job stored before the artifacts were typed (tests/fixtures/stored_job/)."""
    found = sorted(STORED_JOBS.glob("*/**/*.json"))
    if not found:
        pytest.skip("no stored job fixture")
    decoded = set()
    for path in found:
        inside = path.relative_to(next(STORED_JOBS.iterdir())).as_posix()
        decode = next((d for prefix, d in DECODERS.items() if inside.startswith(prefix)), None)
        if decode is not None:
            raw = path.read_bytes()
            before = json.loads(raw)
            assert _without_new_defaults(json.loads(encode(decode(raw))), before) == before, inside
            decoded.add(decode)
    assert len(decoded) == len(DECODERS)
