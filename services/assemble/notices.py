"""Warnings about the assembled transcript: empty although speech was heard, or silent where someone spoke."""

from __future__ import annotations

from contracts.artifacts import Transcript
from contracts.state import ChunkGuards, JobWarning

STAGE = "assemble"


def transcript_warnings(heard: ChunkGuards, transcript: Transcript) -> list[JobWarning]:
    """`heard`: the transcribe stage's totals (the job state's transcription record)."""
    warnings = []
    if not transcript.segments and (heard.speech_s > 0 or heard.quiet_windows):
        if heard.speech_s > 0:
            why = (
                f"although VAD found {heard.speech_s:.1f} s of speech in {heard.windows} window(s)"
                f" ({heard.dropped} left out as no speech; see the warnings)"
            )
        else:
            why = f"VAD heard only faint sound ({heard.quiet_windows} window(s)), and it decoded as no speech"
        message = f"the transcript has no words: {why}"
        warnings.append(JobWarning(stage=STAGE, code="transcript_empty", message=message))
    passages = (transcript.diarization or {}).get("untranscribed") or []
    if passages:
        seconds = sum(p["end"] - p["start"] for p in passages)
        first = passages[0]["start"]
        message = (
            f"the diarizer heard {seconds:.1f} s of speech in {len(passages)} passage(s) with no words in"
            f" the transcript (the first at {int(first // 60)}:{first % 60:04.1f}): quiet, far-field or"
            " overlapped speech the transcriber did not catch"
        )
        warnings.append(JobWarning(stage=STAGE, code="speech_without_words", message=message))
    return warnings
