"""What a chunk's guards did, as the job state records it: counts, and warnings a user reads."""

from __future__ import annotations

from typing import Any

from contracts.state import ChunkGuards, JobWarning
from services.transcribe.guards import GuardReport

STAGE = "transcribe"


def chunk_guards(report: GuardReport, segments: list[dict[str, Any]]) -> ChunkGuards:
    """The job state's record of one chunk, `segments` being what its transcript kept."""
    return ChunkGuards(
        windows=report.windows,
        speech_s=round(report.speech_s, 2),
        words=sum(len(s["words"]) for s in segments),
        redecoded=report.redecoded,
        collapsed=report.collapsed,
        dropped=report.dropped,
        dropped_s=round(report.dropped_s, 2),
        words_removed=report.words_removed,
        quiet_windows=report.quiet_windows,
    )


def chunk_warnings(index: int, record: ChunkGuards, report: GuardReport) -> list[JobWarning]:
    """Warnings for content a guard removed from chunk `index`, and for speech that gave no words."""
    where = f"chunk {index + 1}"
    warnings = []
    echoes = [e for e in report.events if e.action == "dropped" and e.reason == "vocabulary"]
    dropped = record.dropped - len(echoes)
    if dropped:
        first = next(e for e in report.events if e.action == "dropped" and e.reason != "vocabulary")
        heard = f' (the first read "{first.text}")' if first.text else ""
        seconds = record.dropped_s - sum(e.end - e.start for e in echoes)
        warnings.append(
            JobWarning(
                stage=STAGE,
                code="speech_dropped",
                chunk=index,
                message=(
                    f"{where}: {dropped} passage(s) VAD took for speech, {seconds:.1f} s,"
                    f" left out: decoded again, they read as no speech (noise, laughter){heard}"
                ),
            )
        )
    if echoes:
        texts = "; ".join(f'"{e.text}"' for e in echoes[:3])
        warnings.append(
            JobWarning(
                stage=STAGE,
                code="vocabulary_echo",
                chunk=index,
                message=(
                    f"{where}: {len(echoes)} segment(s) where the decoder wrote the vocabulary terms it "
                    f"was given, not what it heard, left out: decoded again without them, they read as "
                    f"no speech ({texts})"
                ),
            )
        )
    if record.collapsed:
        warnings.append(
            JobWarning(
                stage=STAGE,
                code="loop_collapsed",
                chunk=index,
                message=(
                    f"{where}: {record.collapsed} window(s) decoded as a repetition loop; the repeats "
                    f"({record.words_removed} words) were cut and the first occurrence kept"
                ),
            )
        )
    if record.windows and not record.words and record.dropped < record.windows:  # drops say why already
        warnings.append(
            JobWarning(
                stage=STAGE,
                code="chunk_empty",
                chunk=index,
                message=(
                    f"{where}: VAD found {record.speech_s:.1f} s of speech, but the transcript has no words"
                ),
            )
        )
    return warnings
