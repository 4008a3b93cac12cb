"""Diarize: the normalised recording in, speaker turns out (turns.json + RTTM, diarization.completed).

The recording is processed in windows read block by block (services/diarize/pipeline.py), so memory
stays bounded for a 4 h file, and the window centroids are clustered at the end so that a speaker
keeps one label throughout. A job's `speakers`, or `min_speakers`/`max_speakers`, bound the count.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import torch

from contracts import keys
from contracts.events import AudioNormalized, DiarizationCompleted, PipelineEvent
from contracts.options import JobOptions
from contracts.pipeline import DIARIZE
from contracts.state import JobState
from runtime.errors import PermanentError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from runtime.storage.base import ObjectNotFound
from services.diarize.clustering import SpeakerBounds
from services.diarize.config import DiarizeSettings
from services.diarize.models import DeviceError, DiarizeModelError, DiarizerCache, ModelNames, WindowDiarizer
from services.diarize.output import rttm_text, turns_json, voices_json
from services.diarize.pipeline import AudioError, Diarization, diarize_file

STAGE = "diarize"


class DiarizeHandler:
    stage = STAGE

    def __init__(self, settings: DiarizeSettings) -> None:
        self.settings = settings
        self.diarizers = DiarizerCache(settings.window_tuning(), settings.device)
        torch.set_num_threads(settings.cpu_threads)

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        event = expect_input(DIARIZE, event)
        return await asyncio.to_thread(self._diarize, event, ctx)

    def _diarize(self, event: AudioNormalized, ctx: StageContext) -> Outcome:
        names = self._model_names(event.options)
        diarizer = self._diarizer(names, event.duration_s)
        ctx.scratch_dir.mkdir(parents=True, exist_ok=True)
        ctx.progress(0.0, event.duration_s, "s", "diarizing")
        with tempfile.TemporaryDirectory(dir=ctx.scratch_dir, prefix=f"diarize-{event.job_id}-") as tmp:
            try:
                with ctx.storage.local_file(event.normalized_key, Path(tmp)) as audio_path:
                    result = diarize_file(
                        audio_path,
                        diarizer,
                        speaker_bounds(event.options),
                        self.settings.global_tuning(),
                        progress=lambda done, total: ctx.progress(done, total, "s", "diarizing"),
                    )
            except ObjectNotFound as exc:
                raise PermanentError(
                    f"normalized audio {event.normalized_key} is missing from storage: "
                    "re-run the job from transcode"
                ) from exc
            except AudioError as exc:
                raise PermanentError(f"normalized audio is unreadable: {exc}") from exc
        ctx.log.info(
            "%s: %d speaker(s), %d turns over %.1f s in %d window(s)",
            event.job_id,
            len(result.speakers),
            len(result.turns),
            result.duration_s,
            result.windows,
        )
        return self._store(event, ctx, result, names)

    def _store(
        self, event: AudioNormalized, ctx: StageContext, result: Diarization, names: ModelNames
    ) -> Outcome:
        turns_key, rttm_key = (
            keys.diarization_turns_key(event.job_id),
            keys.diarization_rttm_key(event.job_id),
        )
        tuning = self.settings.window_tuning(event.duration_s)
        model = {
            "segmentation": names.segmentation,
            "embedding": names.embedding,
            "window_s": self.settings.window_s,
            "local_threshold": self.settings.local_threshold,
            "global_threshold": self.settings.global_threshold,
            "chunk_step": tuning.chunk_step,
            "speech_threshold": tuning.speech_threshold,
        }
        storage = ctx.storage
        storage.put_bytes(turns_key, turns_json(result, model), "application/json")
        storage.put_bytes(rttm_key, rttm_text(result, event.job_id).encode(), "text/plain")
        voices_key = keys.diarization_voices_key(event.job_id)
        storage.put_bytes(
            voices_key, voices_json(result, embedding_name(names.embedding)), "application/json"
        )
        done = DiarizationCompleted(
            job_id=event.job_id,
            generation=event.generation,
            turns_key=turns_key,
            rttm_key=rttm_key,
            speaker_count=len(result.speakers),
        )
        return Outcome(
            events=[done], update=lambda state: record_outputs(state, turns_key, rttm_key, voices_key)
        )

    def _model_names(self, options: JobOptions) -> ModelNames:
        return ModelNames(
            segmentation=options.diarize_segmentation_model or self.settings.segmentation_path(),
            embedding=options.diarize_embedding_model or self.settings.embedding_path(),
        )

    def _diarizer(self, names: ModelNames, duration_s: float) -> WindowDiarizer:
        try:
            return self.diarizers.get(names, self.settings.window_tuning(duration_s))
        except DeviceError as exc:  # the worker's setting, not the job's: its reason says what to do
            raise PermanentError(exc.reason) from exc
        except DiarizeModelError as exc:
            raise PermanentError(
                f"{exc.reason}. Set it (or the job's diarize_segmentation_model / diarize_embedding_model) "
                "to a local model path, or unset it for the bundled models"
            ) from exc


def speaker_bounds(options: JobOptions) -> SpeakerBounds:
    """The job's speaker count options as clustering bounds."""
    return SpeakerBounds(exact=options.speakers, low=options.min_speakers, high=options.max_speakers)


def embedding_name(embedding: str) -> str:
    """The embedding model as voice vectors name it: the file or hub name, without the local folders."""
    return Path(embedding).name or embedding


def record_outputs(state: JobState, turns_key: str, rttm_key: str, voices_key: str | None = None) -> None:
    """Idempotent: name the diarization artifacts in the job's outputs."""
    state.outputs["diarization_turns"] = turns_key
    state.outputs["diarization_rttm"] = rttm_key
    if voices_key is not None:
        state.outputs["diarization_voices"] = voices_key
