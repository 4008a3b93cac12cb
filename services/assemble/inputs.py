"""Assemble's inputs as contract structs: diarization turns given as structs or as plain mappings.

Stored inputs are decoded by contracts.artifacts; tests and tools often build the same documents as
dicts, so the functions taking turns accept either and convert once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from contracts.artifacts import SpeakerTurn, SpeakerTurns

TurnLike = SpeakerTurn | Mapping[str, Any]
TurnsLike = SpeakerTurns | Mapping[str, Any]


def speaker_turns(turns: Iterable[TurnLike] | None) -> list[SpeakerTurn]:
    """The turns as SpeakerTurn structs, in the order given."""
    return [t if isinstance(t, SpeakerTurn) else msgspec.convert(t, SpeakerTurn) for t in turns or ()]


def diarization_of(diarization: TurnsLike | None) -> SpeakerTurns | None:
    """The diarization as a SpeakerTurns struct (None when diarization is off)."""
    if diarization is None or isinstance(diarization, SpeakerTurns):
        return diarization
    return msgspec.convert(diarization, SpeakerTurns)
