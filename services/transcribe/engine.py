"""faster-whisper behind two calls: load a model once per process, transcribe one chunk's audio."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from services.transcribe import guards
from services.transcribe.guards import GuardReport
from services.transcribe.models import ModelError, is_local_model, resolve_model
from services.transcribe.speech import QUIET_VAD_THRESHOLD, VAD_THRESHOLD, SpeechPlan, plan_windows

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

SAMPLE_RATE = 16000
# A window that fails every temperature (speech that really repeats does) costs one decode per
# temperature, each sampling best_of candidates: faster-whisper's six temperatures and five
# candidates made a re-decode cost 10 CPU-s on the 4 h 15 bench (1291 CPU-s of transcription
# against 1024 without re-decodes); two more temperatures with two candidates each keep what it
# finds on ../shared/realspeech (python -m bench.realspeech).
REDECODE_TEMPERATURES = (0.0, 0.4, 0.8)
REDECODE_BEST_OF = 2
QUIET_BELOW_S = 1.0  # a chunk with less speech than this at the usual VAD threshold is listened to again

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


@dataclass(frozen=True)
class LoadedModel:
    name: str
    path: str
    whisper: WhisperModel
    batched: BatchedInferencePipeline | None


@dataclass(frozen=True)
class EngineConfig:
    device: str = "cpu"
    compute_type: str = "auto"
    cpu_threads: int = 1
    cache_dir: Path = Path("data/models")
    batched: bool = False


class ModelCache:
    """One loaded model per name for the life of the process; thread-safe (loads run in threads)."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> LoadedModel:
        """The model called `name`, loading it on first use; raises ModelError."""
        with self._lock:
            if name not in self._models:
                self._models[name] = self._load(name)
            return self._models[name]

    def _load(self, name: str) -> LoadedModel:
        path = resolve_model(name, self.config.cache_dir)
        if is_local_model(path):
            # set before faster_whisper (and so huggingface_hub) is first imported: it reads this once
            os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        device = _device(self.config.device)
        compute_type = self.config.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        try:
            whisper = WhisperModel(
                path,
                device=device,
                compute_type=compute_type,
                cpu_threads=self.config.cpu_threads,
                num_workers=1,
            )
        except Exception as exc:  # ctranslate2 and the hub raise many kinds; all mean "cannot load"
            raise ModelError(f"cannot load whisper model {name!r} ({path}): {exc}") from exc
        batched = BatchedInferencePipeline(whisper) if self.config.batched else None
        return LoadedModel(name=name, path=path, whisper=whisper, batched=batched)


def _device(setting: str) -> str:
    if setting != "auto":
        return setting
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def decode_audio(path: Path) -> np.ndarray:
    """16 kHz mono float32 samples of an audio file."""
    from faster_whisper import decode_audio as fw_decode

    return fw_decode(str(path), sampling_rate=SAMPLE_RATE)


@dataclass(frozen=True)
class Transcription:
    segments: list[dict[str, Any]]  # times relative to the audio's start
    guards: GuardReport


def transcribe_audio(model: LoadedModel, audio: np.ndarray, **options: Any) -> list[dict[str, Any]]:
    """Segments with words, times relative to the audio's start (transcribe_chunk without the record)."""
    return transcribe_chunk(model, audio, **options).segments


def transcribe_chunk(
    model: LoadedModel,
    audio: np.ndarray,
    *,
    language: str | None,
    beam_size: int,
    batch_size: int = 8,
    vad_threshold: float = VAD_THRESHOLD,
    quiet_vad_threshold: float = QUIET_VAD_THRESHOLD,
    on_segment: Callable[[float], None] | None = None,
) -> Transcription:
    """Segments with words, and what the guards did; consumes faster-whisper's lazy generators here.

    VAD cuts the speech into windows of up to 30 s. The batched pipeline decodes them all at
    temperature 0; a window whose decode the guards flag (services/transcribe/guards.py) is decoded
    again alone the sequential way (temperature fallback, the no-speech rule), and a loop that
    survives is collapsed. A chunk where VAD hears (almost) nothing is listened to again at
    `quiet_vad_threshold`, and what that finds is decoded the sequential way. Without batching,
    faster-whisper's sequential transcribe decodes the whole chunk. Either way a window that ends
    with no words is recorded as dropped, with why.
    """
    if not model.whisper.model.is_multilingual:
        language = "en"
    report = GuardReport()
    decode = _Decode(language, beam_size, batch_size, vad_threshold)
    plan = plan_windows(audio, vad_threshold)
    if plan.speech_s < QUIET_BELOW_S and quiet_vad_threshold < vad_threshold:
        quiet = plan_windows(audio, quiet_vad_threshold)
        if quiet.speech_s > plan.speech_s:
            return _quiet(model, audio, quiet, replace(decode, vad_threshold=quiet_vad_threshold), report)
    report.windows, report.speech_s = len(plan.windows), plan.speech_s
    if not plan.windows:
        return Transcription([], report)
    if model.batched is None:
        return Transcription(_sequential(model, audio, plan, decode, report, on_segment), report)
    first_pass = _batched_pass(model, plan, decode)
    out: list[dict[str, Any]] = []
    for index, segments in enumerate(first_pass):
        flag = guards.window_flag(segments) if segments else ("no_speech", "the first decode gave no words")
        if flag is None:
            placed = [plan.restore(_as_dict(s)) for s in segments]
        else:
            placed = _redecode(model, audio, plan, index, decode, segments, flag, report)
        out += placed
        if on_segment is not None and placed:
            on_segment(placed[-1]["end"])
    return Transcription(out, report)


@dataclass(frozen=True)
class _Decode:
    language: str | None
    beam_size: int
    batch_size: int
    vad_threshold: float

    def sequential(self, after_first_pass: bool = False) -> dict[str, Any]:
        """faster-whisper's sequential options: its VAD (at our threshold), the guards, and a shorter
        fallback than its default; after the batched pass, temperature 0 has been tried already."""
        vad = {"threshold": self.vad_threshold, "neg_threshold": max(0.01, self.vad_threshold - 0.15)}
        options = {"language": self.language, "beam_size": self.beam_size, "best_of": REDECODE_BEST_OF}
        temperatures = REDECODE_TEMPERATURES[1:] if after_first_pass else REDECODE_TEMPERATURES
        guards = {**DECODE_GUARDS, "temperature": temperatures}
        return {**options, "vad_filter": True, "vad_parameters": vad, **guards}


def _batched_pass(model: LoadedModel, plan: SpeechPlan, decode: _Decode) -> list[list[Any]]:
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


def _quiet(
    model: LoadedModel, audio: np.ndarray, plan: SpeechPlan, decode: _Decode, report: GuardReport
) -> Transcription:
    """Far-field or very quiet speech that VAD missed at its usual threshold: every window it now
    finds is decoded alone with the no-speech rule, which keeps noise from becoming words."""
    report.quiet_windows = len(plan.windows)
    detail = f"VAD heard it only at threshold {decode.vad_threshold:g}"
    out: list[dict[str, Any]] = []
    for index in range(len(plan.windows)):
        out += _redecode(model, audio, plan, index, decode, [], ("quiet", detail), report)
    return Transcription(out, report)


def _sequential(
    model: LoadedModel,
    audio: np.ndarray,
    plan: SpeechPlan,
    decode: _Decode,
    report: GuardReport,
    on_segment: Callable[[float], None] | None,
) -> list[dict[str, Any]]:
    """faster-whisper's own sequential decode of the chunk; windows it left without words recorded."""
    segments, _ = model.whisper.transcribe(audio, **decode.sequential())
    decoded = []
    for segment in segments:
        decoded.append(_as_dict(segment))
        if on_segment is not None:
            on_segment(segment.end)
    middles = [(w["start"] + w["end"]) / 2 for s in decoded for w in s["words"]]
    for index in range(len(plan.windows)):
        start, end = plan.original_span(index)
        if not any(start <= t <= end for t in middles):
            _dropped(
                report, start, end, "the sequential decode found no speech (no_speech_prob and avg_logprob)"
            )
    return _collapse(decoded, report, plan.original_span(0)[0], plan.original_span(len(plan.windows) - 1)[1])


def _redecode(
    model: LoadedModel,
    audio: np.ndarray,
    plan: SpeechPlan,
    index: int,
    decode: _Decode,
    first: list[Any],
    flag: tuple[guards.Reason, str],
    report: GuardReport,
) -> list[dict[str, Any]]:
    """One flagged window decoded alone, as the sequential path does; chunk-clock segments.

    The window's span of the chunk is decoded with its pauses (faster-whisper's sequential VAD keeps
    the short ones, which the decoder reads as sentence breaks) and the temperature fallback.
    """
    start, end = plan.original_span(index)
    first_sample, last_sample = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
    options = decode.sequential(after_first_pass=flag[0] != "quiet")
    segments, _ = model.whisper.transcribe(audio[first_sample:last_sample], **options)
    decoded = [_shift(_as_dict(s), first_sample / SAMPLE_RATE) for s in segments]
    reason, detail = flag
    kept = [s for s in decoded if not guards.unreliable(s)]
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


def _as_dict(segment: Any) -> dict[str, Any]:
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
