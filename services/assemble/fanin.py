"""The fan-in decision, as pure edits of the job state (run under compare-and-set).

Every input (each transcribed chunk, the diarization) is recorded in one CAS write that also claims the
right to assemble when that input completes the set. Exactly one input's message wins the claim, even
when the last chunk and the diarization finish at the same instant on two machines; a redelivery of the
winning message (its worker crashed) finds its own claim and assembles again, idempotently.
"""

from __future__ import annotations

from contracts.events import ChunkTranscribed, DiarizationCompleted
from contracts.state import JobState

DIARIZATION = "diarization"


def input_key(event: ChunkTranscribed | DiarizationCompleted) -> str:
    return DIARIZATION if isinstance(event, DiarizationCompleted) else f"chunk:{event.index}"


def expected_inputs(state: JobState, require_diarization: bool) -> set[str] | None:
    """Every input the transcript needs; None while the chunk count is not known yet."""
    if state.chunks_total is None:
        return None
    expected = {f"chunk:{i}" for i in range(state.chunks_total)}
    return expected | {DIARIZATION} if require_diarization else expected


def record_and_claim(state: JobState, key: str, require_diarization: bool) -> None:
    """Note that `key` arrived; claim the assembly for it if it completes the set and nobody has."""
    if key not in state.assembly.received:
        state.assembly.received.append(key)
        state.assembly.received.sort()
    expected = expected_inputs(state, require_diarization)
    complete = expected is not None and expected <= set(state.assembly.received)
    if complete and state.assembly.claimed_by is None:
        state.assembly.claimed_by = key


def should_assemble(state: JobState, key: str) -> bool:
    return state.assembly.claimed_by == key


def waiting_for(state: JobState, require_diarization: bool) -> str:
    """What the assembly still waits for, in words."""
    expected = expected_inputs(state, require_diarization)
    if expected is None:
        return "waiting for the chunk plan"
    received = set(state.assembly.received)
    chunks_left = sum(1 for key in expected - received if key.startswith("chunk:"))
    parts = [f"{chunks_left} chunk(s)"] if chunks_left else []
    if require_diarization and DIARIZATION not in received:
        parts.append("diarization")
    return "waiting for " + " and ".join(parts) if parts else "assembling"
