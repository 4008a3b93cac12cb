"""The assembly fan-in under real compare-and-set: one claimer, whatever the interleaving."""

from __future__ import annotations

import asyncio

from services.assemble.fanin import DIARIZATION, record_and_claim, should_assemble, waiting_for
from tests.stagekit import new_job_state


async def test_last_chunk_and_diarization_at_once_give_exactly_one_claim(bus):
    for round_ in range(20):  # many interleavings, each on a fresh job
        job = new_job_state()
        job.chunks_total = 3
        await bus.jobs.create(job)
        for key in ("chunk:0", "chunk:1"):
            await bus.jobs.update(job.job_id, lambda s, k=key: record_and_claim(s, k, True))
        finishers = ["chunk:2", DIARIZATION] if round_ % 2 else [DIARIZATION, "chunk:2"]
        states = await asyncio.gather(
            *(bus.jobs.update(job.job_id, lambda s, k=k: record_and_claim(s, k, True)) for k in finishers)
        )
        winners = [k for k, state in zip(finishers, states, strict=True) if should_assemble(state, k)]
        assert len(winners) == 1
        final = await bus.jobs.get(job.job_id)
        assert final.assembly.claimed_by == winners[0]
        assert sorted(final.assembly.received) == sorted(["chunk:0", "chunk:1", "chunk:2", DIARIZATION])


async def test_redelivered_claimer_assembles_again_and_others_do_not(bus):
    job = new_job_state()
    job.chunks_total = 1
    await bus.jobs.create(job)
    await bus.jobs.update(job.job_id, lambda s: record_and_claim(s, DIARIZATION, True))
    first = await bus.jobs.update(job.job_id, lambda s: record_and_claim(s, "chunk:0", True))
    assert should_assemble(first, "chunk:0")
    again = await bus.jobs.update(job.job_id, lambda s: record_and_claim(s, "chunk:0", True))
    assert should_assemble(again, "chunk:0")  # the crashed claimer's redelivery
    late = await bus.jobs.update(job.job_id, lambda s: record_and_claim(s, DIARIZATION, True))
    assert not should_assemble(late, DIARIZATION)  # a redelivered non-claimer never assembles


def test_waiting_message_says_what_is_missing():
    job = new_job_state()
    assert waiting_for(job, True) == "waiting for the chunk plan"
    job.chunks_total = 3
    record_and_claim(job, "chunk:1", True)
    assert waiting_for(job, True) == "waiting for 2 chunk(s) and diarization"
    assert waiting_for(job, False) == "waiting for 2 chunk(s)"
    record_and_claim(job, "chunk:0", False)
    record_and_claim(job, "chunk:2", False)
    assert job.assembly.claimed_by == "chunk:2" and waiting_for(job, False) == "assembling"
