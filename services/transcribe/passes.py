"""The decode passes a chunk's speech windows go through, and what each records in the GuardReport.

The batched pass decodes every window at temperature 0; a window the guards flag is decoded again
alone the sequential way (`redecode`); a chunk that seemed silent is listened to again (`_quiet`);
without batching faster-whisper's sequential decode takes the whole chunk (`sequential_pass`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from services.transcribe import guards
from services.transcribe.guards import GuardReport
from services.transcribe.speech import SAMPLE_RATE, SpeechPlan, silence_threshold

if TYPE_CHECKING:
    from services.transcribe.engine import LoadedModel

# Guards for long recordings. Not conditioning on the previous text stops one hallucination from
# repeating through every window after it (the classic loop across long silences); the three
# thresholds send a window that looks like noise, or decodes as a repetition, to the temperature
# fallback (services/transcribe/guards.py decides, and records, what happens to it).
DECODE_GUARDS: dict[str, Any] = {
    "task": "transcribe",
    "word_timestamps": True,
    "condition_on_previous_text": False,
    "no_speech_threshold": guards.NO_SPEECH_THRESHOLD,
    "compression_ratio_threshold": guards.COMPRESSION_RATIO_THRESHOLD,
    "log_prob_threshold": guards.LOG_PROB_THRESHOLD,
    "temperature": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
}


# A window that fails every temperature (speech that really repeats does) costs one decode per
# temperature, each sampling best_of candidates: faster-whisper's six temperatures and five
# candidates made a re-decode cost 10 CPU-s on the 4 h 15 bench (1291 CPU-s of transcription
# against 1024 without re-decodes); two more temperatures with two candidates each keep what it
# finds on ../shared/realspeech (python -m bench.realspeech).
REDECODE_TEMPERATURES = (0.0, 0.4, 0.8)
REDECODE_BEST_OF = 2
QUIET_BELOW_S = 1.0  # a chunk with less speech than this at the usual VAD threshold is listened to again


@dataclass(frozen=True)
class Decode:
    language: str | None
    beam_size: int
    batch_size: int
    vad_threshold: float
    # the job's vocabulary (services/transcribe/vocabulary.py): faster-whisper's hotwords and initial_prompt
    hotwords: str | None = None
    initial_prompt: str | None = None

    def vocabulary(self) -> dict[str, Any]:
        """The vocabulary options for faster-whisper, only those set."""
        given = {"hotwords": self.hotwords, "initial_prompt": self.initial_prompt}
        return {name: value for name, value in given.items() if value}

    def sequential(self, after_first_pass: bool = False) -> dict[str, Any]:
        """faster-whisper's sequential options: its VAD (at our threshold), the guards, and a shorter
        fallback than its default; after the batched pass, temperature 0 has been tried already."""
        vad = {"threshold": self.vad_threshold, "neg_threshold": silence_threshold(self.vad_threshold)}
        options = {"language": self.language, "beam_size": self.beam_size, "best_of": REDECODE_BEST_OF}
        temperatures = REDECODE_TEMPERATURES[1:] if after_first_pass else REDECODE_TEMPERATURES
        guards = {**DECODE_GUARDS, "temperature": temperatures}
        return {**options, "vad_filter": True, "vad_parameters": vad, **guards, **self.vocabulary()}


def batched_pass(model: LoadedModel, plan: SpeechPlan, decode: Decode) -> list[list[Any]]:
    """The batched pipeline's segments of each window (on the stitched, speech-only clock)."""
    assert model.batched is not None
    segments, _ = model.batched.transcribe(
        plan.stitched,
        language=decode.language,
        beam_size=decode.beam_size,
        batch_size=decode.batch_size,
        clip_timestamps=plan.clips(),
        vad_filter=False,
        **DECODE_GUARDS,
        **decode.vocabulary(),
    )
    by_window: list[list[Any]] = [[] for _ in plan.windows]
    fps = model.whisper.frames_per_second
    # the pipeline names each segment's window by its first frame, from the clip's start sample
    first_frames = {
        int(int(window.offset_s * SAMPLE_RATE) / SAMPLE_RATE * fps): i
        for i, window in enumerate(plan.windows)
    }
    for segment in segments:
        by_window[first_frames[segment.seek]].append(segment)
    return by_window


def quiet_pass(
    model: LoadedModel, audio: np.ndarray, plan: SpeechPlan, decode: Decode, report: GuardReport
) -> list[dict[str, Any]]:
    """Far-field or very quiet speech that VAD missed at its usual threshold: every window it now
    finds is decoded alone with the no-speech rule, which keeps noise from becoming words."""
    report.quiet_windows = len(plan.windows)
    detail = f"VAD heard it only at threshold {decode.vad_threshold:g}"
    out: list[dict[str, Any]] = []
    for index in range(len(plan.windows)):
        out += redecode(model, audio, plan, index, decode, [], ("quiet", detail), report)
    return out


def sequential_pass(
    model: LoadedModel,
    audio: np.ndarray,
    plan: SpeechPlan,
    decode: Decode,
    report: GuardReport,
    on_segment: Callable[[float], None] | None,
) -> list[dict[str, Any]]:
    """faster-whisper's own sequential decode of the chunk; windows it left without words recorded."""
    segments, _ = model.whisper.transcribe(audio, **decode.sequential())
    decoded = []
    for segment in segments:
        decoded.append(as_dict(segment))
        if on_segment is not None:
            on_segment(segment.end)
    middles = [(w["start"] + w["end"]) / 2 for s in decoded for w in s["words"]]
    for index in range(len(plan.windows)):
        start, end = plan.original_span(index)
        if any(start <= t <= end for t in middles):
            continue
        if decode.vocabulary():  # the bias can silence a hard window: heard again without it
            again = _without_vocabulary(model, audio, decode, start, end, report)
            if again:
                decoded += again
                continue
        _dropped(report, start, end, "the sequential decode found no speech (no_speech_prob and avg_logprob)")
    decoded.sort(key=lambda s: s["start"])
    return _collapse(decoded, report, plan.original_span(0)[0], plan.original_span(len(plan.windows) - 1)[1])


def redecode(
    model: LoadedModel,
    audio: np.ndarray,
    plan: SpeechPlan,
    index: int,
    decode: Decode,
    first: list[Any],
    flag: tuple[guards.Reason, str],
    report: GuardReport,
) -> list[dict[str, Any]]:
    """One flagged window decoded alone, as the sequential path does; chunk-clock segments.

    The window's span of the chunk is decoded with its pauses (faster-whisper's sequential VAD keeps
    the short ones, which the decoder reads as sentence breaks) and the temperature fallback.
    With the job's vocabulary, a decode that would leave speech out or loops is done once more
    without it: the bias can turn a hard window into a loop or into nothing (bench/vocabulary.py:
    a film dialogue lost whole), and the vocabulary must never cost words.
    """
    start, end = plan.original_span(index)
    first_sample, last_sample = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
    options = decode.sequential(after_first_pass=flag[0] != "quiet")
    segments, _ = model.whisper.transcribe(audio[first_sample:last_sample], **options)
    decoded = [_shift(as_dict(s), first_sample / SAMPLE_RATE) for s in segments]
    reason, detail = flag
    kept = [s for s in decoded if not guards.unreliable(s)]
    if decode.vocabulary() and (not decoded or len(kept) < len(decoded) or guards.collapse_loops(kept)[1]):
        said = " ".join(s["text"] for s in decoded)
        why = "with the vocabulary the fallback decode left speech out or looped; decoded again without it"
        report.events.append(guards.GuardEvent(start, end, "redecoded", "vocabulary", why, guards.clip(said)))
        plain = replace(decode, hotwords=None, initial_prompt=None)
        return redecode(model, audio, plan, index, plain, first, flag, report)
    if reason == "quiet":  # never taken for speech: what is left out of it is noise, nothing to warn of
        for segment in decoded:
            if why := guards.unreliable(segment):
                event = guards.GuardEvent(
                    segment["start"], segment["end"], "dropped", "quiet", why, guards.clip(segment["text"])
                )
                report.events.append(event)
        return _collapse(kept, report, start, end)
    report.redecoded += 1
    report.events.append(guards.GuardEvent(start, end, "redecoded", reason, detail))
    if not decoded:
        said = " ".join(s.text.strip() for s in first).strip()
        _dropped(report, start, end, f"{detail}; the fallback decode found no speech either", said)
        return []
    for segment in decoded:
        if why := guards.unreliable(segment):
            _dropped(
                report,
                segment["start"],
                segment["end"],
                f"{detail}; the fallback decode: {why}",
                segment["text"],
            )
    return _collapse(kept, report, start, end)


def _without_vocabulary(
    model: LoadedModel, audio: np.ndarray, decode: Decode, start: float, end: float, report: GuardReport
) -> list[dict[str, Any]]:
    """A span the decode with the vocabulary left without words, decoded as it would be without one
    (the same temperatures and no-speech rule): what that keeps, with the decision recorded."""
    first_sample, last_sample = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
    plain = replace(decode, hotwords=None, initial_prompt=None).sequential()
    segments, _ = model.whisper.transcribe(audio[first_sample:last_sample], **plain)
    kept = [s for s in (_shift(as_dict(d), first_sample / SAMPLE_RATE) for d in segments) if s["words"]]
    kept = [s for s in kept if not guards.unreliable(s)]
    if kept:
        why = "with the vocabulary the decode found no speech; decoded again without it"
        report.redecoded += 1
        report.events.append(guards.GuardEvent(start, end, "redecoded", "vocabulary", why))
    return kept


def without_echoes(
    model: LoadedModel,
    audio: np.ndarray,
    decode: Decode,
    segments: list[dict[str, Any]],
    terms: tuple[tuple[str, ...], ...],
    report: GuardReport,
) -> list[dict[str, Any]]:
    """The chunk's segments with every vocabulary echo (guards.vocabulary_echo) decoded again
    without the vocabulary: what was said stays, in the decoder's own spelling; all on the record."""
    plain = replace(decode, hotwords=None, initial_prompt=None).sequential()
    chunk_end = len(audio) / SAMPLE_RATE
    out: list[dict[str, Any]] = []
    for n, segment in enumerate(segments):
        why = guards.vocabulary_echo(segment, terms)
        if not why:
            out.append(segment)
            continue
        start = max(segment["start"] - 0.2, out[-1]["end"] if out else 0.0)
        end = min(segment["end"] + 0.2, segments[n + 1]["start"] if n + 1 < len(segments) else chunk_end)
        first_sample, last_sample = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        decoded, _ = model.whisper.transcribe(audio[first_sample:last_sample], **plain)
        shifted = [_shift(as_dict(d), first_sample / SAMPLE_RATE) for d in decoded]
        kept = [s for s in shifted if not guards.unreliable(s)]
        said = guards.clip(segment["text"])
        if kept:
            report.redecoded += 1
            report.events.append(guards.GuardEvent(start, end, "redecoded", "vocabulary", why, said))
            out += _collapse(kept, report, start, end)
        else:
            report.dropped += 1
            report.dropped_s += end - start
            detail = f"{why}; decoded again without it: no speech"
            report.events.append(guards.GuardEvent(start, end, "dropped", "vocabulary", detail, said))
    return out


def _dropped(report: GuardReport, start: float, end: float, why: str, said: str = "") -> None:
    report.dropped += 1
    report.dropped_s += end - start
    report.events.append(guards.GuardEvent(start, end, "dropped", "no_speech", why, guards.clip(said)))


def _collapse(
    decoded: list[dict[str, Any]], report: GuardReport, start: float, end: float
) -> list[dict[str, Any]]:
    """The segments with decoding loops cut to their first occurrence, recorded in `report`."""
    collapsed, removed = guards.collapse_loops(decoded)
    if removed:
        report.collapsed += 1
        report.words_removed += guards.removed_words(removed)
        ratio = guards.compression_ratio(" ".join(s["text"] for s in decoded))
        report.events.append(
            guards.GuardEvent(
                start, end, "collapsed", "repetition", f"compression ratio {ratio:.2f}", guards.clip(removed)
            )
        )
    return collapsed


def as_dict(segment: Any) -> dict[str, Any]:
    return {
        "start": segment.start,
        "end": segment.end,
        "text": segment.text.strip(),
        "avg_logprob": segment.avg_logprob,
        "no_speech_prob": segment.no_speech_prob,
        "words": [
            {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
            for w in segment.words or ()
        ],
    }


def _shift(segment: dict[str, Any], offset_s: float) -> dict[str, Any]:
    return {
        **segment,
        "start": round(float(segment["start"]) + offset_s, 3),
        "end": round(float(segment["end"]) + offset_s, 3),
        "words": [
            {
                **w,
                "start": round(float(w["start"]) + offset_s, 3),
                "end": round(float(w["end"]) + offset_s, 3),
            }
            for w in segment["words"]
        ],
    }
