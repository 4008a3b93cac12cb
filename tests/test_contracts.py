"""The wire contract: a schema snapshot so drift shows in review, options and keys that refuse bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pytest

from contracts import keys
from contracts.events import ChunkPlanned, JobSubmitted, decode_event, encode
from contracts.options import JobOptions, parse_options
from contracts.schema import contract_schema
from contracts.subjects import EVENT_SUBJECTS, STAGE_INPUTS, Topology, message_id

SNAPSHOT = Path(__file__).parent / "snapshots" / "contract_schema.json"


def test_schema_matches_snapshot():
    current = json.dumps(contract_schema(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "the wire contract changed: add fields only with defaults; "
        "if intended, run UPDATE_SNAPSHOTS=1 make test and commit the snapshot"
    )


def test_every_event_round_trips_and_has_a_subject():
    event = ChunkPlanned(
        job_id="20261125-000000-abcd",
        index=2,
        count=3,
        start_s=0,
        end_s=9.5,
        chunk_key="jobs/x/audio/chunks/00002.flac",
    )
    assert decode_event(encode(event)) == event
    assert type(event) in EVENT_SUBJECTS
    assert Topology().subject_for(event) == "aodio.v1.chunk.planned"
    assert Topology("acme").subject_for(event) == "acme.aodio.v1.chunk.planned"
    assert set(STAGE_INPUTS) == {"transcode", "diarize", "transcribe", "assemble", "summarize", "notify"}


def test_old_payload_without_new_fields_still_decodes():
    raw = (
        b'{"type":"job.submitted","job_id":"20261125-000000-abcd","source_key":"k",'
        b'"original_name":"a.mp3","size_bytes":3}'
    )
    event = decode_event(raw)
    assert isinstance(event, JobSubmitted) and event.generation == 1 and event.options == JobOptions()


def test_message_ids_are_deterministic_per_logical_event():
    a = ChunkPlanned(job_id="20261125-000000-abcd", index=1, count=2, start_s=0, end_s=1, chunk_key="k")
    b = ChunkPlanned(job_id="20261125-000000-abcd", index=1, count=2, start_s=0, end_s=1, chunk_key="k")
    c = ChunkPlanned(job_id="20261125-000000-abcd", index=0, count=2, start_s=0, end_s=1, chunk_key="k")
    assert message_id(a) == message_id(b) != message_id(c)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"language": "French"}', "language"),
        (b'{"speakers": 0}', "speakers"),
        (b'{"min_speakers": 4, "max_speakers": 2}', "greater than max_speakers"),
        (b'{"speakers": 2, "min_speakers": 1}', "not both"),
        (b'{"summary_method": "magic"}', "summary_method"),
        (b'{"colour": "blue"}', "colour"),
        (b"[1, 2]", "Expected `object`"),
    ],
)
def test_bad_options_are_refused_with_the_reason(raw, fragment):
    with pytest.raises(msgspec.ValidationError, match=fragment):
        parse_options(raw)


def test_good_options_parse():
    options = parse_options(b'{"language": "fr", "min_speakers": 2, "max_speakers": 4}')
    assert options.language == "fr" and options.max_speakers == 4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("réunion d'équipe.mp3", "r_union_d_quipe.mp3"),
        ("C:\\Users\\me\\talk.wav", "talk.wav"),
        ("...", "upload"),
        ("", "upload"),
    ],
)
def test_source_keys_never_escape_the_job(name, expected):
    key = keys.source_key("20261125-000000-abcd", name)
    assert key == f"jobs/20261125-000000-abcd/source/{expected}"
    assert ".." not in key.split("/")


def test_job_id_shape():
    assert keys.is_valid_job_id("20261125-093000-1f2e3d4c")
    assert not keys.is_valid_job_id("../x") and not keys.is_valid_job_id("short")
