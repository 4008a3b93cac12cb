"""The pipeline graph is written once (contracts/pipeline.py): everything derived from it agrees with it."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import msgspec
import pytest

from contracts import events as ev
from contracts import pipeline
from contracts.events import LANES, Stage
from contracts.subjects import EVENT_SUBJECTS, STAGE_INPUTS, Topology, consumer_name, message_id
from runtime.errors import PermanentError
from runtime.inputs import expect_input
from runtime.publish import publish_event
from runtime.registry import BUILT_STAGES, NOT_BUILT_STAGES, PIPELINE, SERVICE_MODULES
from runtime.replay import REPLAYABLE, RERUN

ROOT = Path(__file__).parent.parent
JOB = "20261125-000000-abcd"


def test_the_stage_type_names_every_stage_of_the_graph():
    assert set(get_args(Stage)) == set(pipeline.STAGES)
    assert len(pipeline.STAGES) == len(set(pipeline.STAGES))
    assert pipeline.STEPS == ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize")
    assert pipeline.OBSERVERS == ("notify",)


def test_every_event_is_published_by_one_stage_and_consumed_after_it():
    for kind in EVENT_SUBJECTS:
        publishers = [spec.name for spec in pipeline.GRAPH if kind in spec.publishes]
        assert publishers == ([] if kind is ev.JobFailed else [pipeline.publisher(kind)]), kind
        assert any(kind in spec.inputs for spec in pipeline.GRAPH), f"nobody consumes {kind.__name__}"
    seen: set[type[ev.Event]] = {ev.JobFailed}  # the runtime publishes it for any step
    for spec in pipeline.GRAPH:  # in order: every input comes from a stage before
        assert set(spec.inputs) <= seen, spec.name
        seen |= set(spec.publishes)


@pytest.mark.parametrize("lane", LANES)
def test_each_consumer_filters_on_the_subjects_of_its_stage_inputs(lane):
    topology = Topology("graph")
    assert list(STAGE_INPUTS) == [s.name for s in pipeline.GRAPH if s.inputs]
    for spec in pipeline.GRAPH:
        if not spec.inputs:
            assert spec.name not in STAGE_INPUTS
            continue
        assert STAGE_INPUTS[spec.name] == list(spec.inputs)
        assert topology.stage_subjects(spec.name, lane) == [
            topology.subject_for(k, lane) for k in spec.inputs
        ]
        assert consumer_name(spec.name, lane).startswith(spec.name)


def test_replay_starts_follow_from_the_graph():
    assert REPLAYABLE == ("transcode", "diarize", "transcribe", "assemble", "summarize")
    assert RERUN == {
        "transcode": ("transcode", "diarize", "transcribe", "assemble", "summarize"),
        "diarize": ("diarize", "assemble", "summarize"),
        "transcribe": ("transcribe", "assemble", "summarize"),
        "assemble": ("assemble", "summarize"),
        "summarize": ("summarize",),
    }
    starts = {stage: pipeline.replay_inputs(stage) for stage in REPLAYABLE}
    assert starts == {
        "transcode": (ev.JobSubmitted,),
        "diarize": (ev.AudioNormalized, ev.ChunkTranscribed),
        "transcribe": (ev.ChunkPlanned, ev.DiarizationCompleted),
        "assemble": (ev.ChunkTranscribed, ev.DiarizationCompleted),
        "summarize": (ev.TranscriptAssembled,),
    }
    for stage, kinds in starts.items():  # a replay starts each stage it runs that nothing it runs feeds
        fed = {k for s in RERUN[stage] for k in pipeline.stage(s).publishes}
        needed = {k for s in RERUN[stage] for k in pipeline.stage(s).inputs} - fed
        assert set(kinds) == needed


def test_the_registry_has_a_service_for_every_stage():
    assert list(SERVICE_MODULES) == list(pipeline.STAGES)
    for stage, module in SERVICE_MODULES.items():
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), stage
    assert PIPELINE == BUILT_STAGES == pipeline.STEPS
    assert NOT_BUILT_STAGES == ()


def test_no_service_module_imports_the_registry_of_another_package():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "services").rglob("*.py")
        if "services.registry" in path.read_text()
    ]
    assert offenders == []


def test_a_handler_guard_accepts_the_stage_inputs_and_refuses_the_rest():
    planned = ev.ChunkPlanned(job_id=JOB, index=0, count=1, start_s=0, end_s=1, chunk_key="k")
    assert expect_input(pipeline.TRANSCRIBE, planned) is planned
    with pytest.raises(
        PermanentError, match=r"^assemble expects chunk\.transcribed or diarization\.completed, got"
    ):
        expect_input(pipeline.ASSEMBLE, planned)
    failed = ev.JobFailed(job_id=JOB, stage="notify", reason="x")
    assert expect_input(pipeline.NOTIFY, failed) is failed
    assert msgspec.json.decode(ev.encode(failed))["stage"] == "notify"  # a stage of the contract now


def test_an_unknown_stage_is_refused_by_name():
    with pytest.raises(KeyError, match="unknown stage 'mix'"):
        pipeline.stage("mix")


async def test_publish_event_uses_the_event_subject_and_message_id(bus):
    event = ev.ChunkPlanned(
        job_id=JOB, index=1, count=2, start_s=0, end_s=1, chunk_key="k", lane="long", generation=2
    )
    topology = bus.settings.topology
    first = await publish_event(bus.js, topology, event)
    again = await publish_event(bus.js, topology, event)
    assert not first.duplicate and again.duplicate and again.seq == first.seq
    sub = await bus.js.subscribe(topology.subject_for(event), ordered_consumer=True)
    msg = await sub.next_msg(timeout=5)
    assert msg.subject == f"{topology.prefix}.long.chunk.planned"
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == message_id(event)
    assert ev.decode_event(msg.data) == event
    await sub.unsubscribe()
