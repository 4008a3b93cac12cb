"""The diarize stage's artifacts: turns.json for the assembler, RTTM for tools and scoring."""

from __future__ import annotations

from typing import Any

from contracts.artifacts import SpeakerTurn, SpeakerTurns, SpeakerVoice, SpeakerVoices, encode
from services.diarize.pipeline import Diarization


def turns_json(result: Diarization, model: dict[str, Any]) -> bytes:
    """turns.json, a SpeakerTurns: the speakers, their turns, the model that found them, the duration."""
    return encode(
        SpeakerTurns(
            speakers=list(result.speakers),
            turns=[SpeakerTurn(start=t.start, end=t.end, speaker=t.speaker) for t in result.turns],
            model=model,
            duration_s=round(result.duration_s, 3),
        )
    )


def rttm_text(result: Diarization, uri: str) -> str:
    """One RTTM SPEAKER line per turn."""
    return "".join(
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in result.turns
    )


def voices_json(result: Diarization, embedding_model: str) -> bytes:
    """voices.json, a SpeakerVoices: each label's voice vector, for voice profiles (never the audio)."""
    return encode(
        SpeakerVoices(
            model=embedding_model,
            speakers=[
                SpeakerVoice(
                    speaker=name,
                    speech_s=voice.speech_s,
                    vector=[round(float(x), 6) for x in voice.vector],
                )
                for name, voice in sorted(result.voices.items())
            ],
        )
    )
