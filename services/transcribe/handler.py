"""Transcribe: one planned chunk in, its words with absolute timestamps out (chunk.transcribed).

Language, one per job without a coordinator: a language the user gave wins. Otherwise each chunk
votes over its own speech windows (language.detect_language) unless the job already has a language
recorded by a chunk that finished earlier, which it then follows; a chunk records its guess in the
job state only when the state has none yet and the guess is confident. Failure mode: chunks that
start together, before any has finished, each decide alone, so a job can end with chunks in two
languages (a chunk of music or of a guest speaking another language among them). Each chunk's
artifact and event name the language it used, so assembly can see and report the disagreement;
`per_chunk_language` makes that the intended behaviour for code-switching recordings.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from contracts import keys
from contracts.events import ChunkPlanned, ChunkTranscribed, PipelineEvent
from contracts.pipeline import TRANSCRIBE
from contracts.state import ChunkGuards, JobState, JobWarning
from runtime.errors import PermanentError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from runtime.storage.base import ObjectNotFound
from services.transcribe.config import TranscribeSettings
from services.transcribe.engine import (
    SAMPLE_RATE,
    EngineConfig,
    LoadedModel,
    ModelCache,
    Transcription,
    decode_audio,
    transcribe_chunk,
)
from services.transcribe.guards import GuardReport
from services.transcribe.language import LanguageGuess, detect_language
from services.transcribe.models import WhisperModelError
from services.transcribe.report import chunk_guards, chunk_warnings
from services.transcribe.transcript import chunk_transcript_json, place_segments
from services.transcribe.vocabulary import DecoderHint, decoder_hint

STAGE = "transcribe"


class TranscribeHandler:
    stage = STAGE

    def __init__(self, settings: TranscribeSettings) -> None:
        self.settings = settings
        self.models = ModelCache(
            EngineConfig(
                device=settings.device,
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
                cache_dir=settings.model_cache_dir,
                batched=settings.batched,
            )
        )

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        event = expect_input(TRANSCRIBE, event)
        return await asyncio.to_thread(self._transcribe, event, ctx)

    def _transcribe(self, event: ChunkPlanned, ctx: StageContext) -> Outcome:
        model = self._model(event.options.transcribe_model or self.settings.model)
        label = f"chunk {event.index + 1}/{event.count}"
        ctx.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ctx.scratch_dir, prefix=f"transcribe-{event.job_id}-") as tmp:
            try:
                with ctx.storage.local_file(event.chunk_key, Path(tmp)) as chunk_path:
                    audio = decode_audio(chunk_path)
            except ObjectNotFound as exc:
                raise PermanentError(
                    f"chunk audio {event.chunk_key} is missing from storage: re-run the job from transcode"
                ) from exc
        length_s = len(audio) / SAMPLE_RATE
        ctx.progress(float(len(ctx.job.chunks_done)), event.count, "chunks", label)
        language, probability, for_job, unsure = self._language(event, ctx.job, model, audio)
        ctx.log.info("%s: %.1f s, language %s (p=%s)", label, length_s, language, probability)
        hint = self._hint(event, model)
        result = Transcription([], GuardReport())
        if language is not None:
            result = transcribe_chunk(
                model,
                audio,
                language=language,
                beam_size=self.settings.beam_size,
                batch_size=self.settings.batch_size,
                vad_threshold=self.settings.vad_threshold,
                quiet_vad_threshold=self.settings.quiet_vad_threshold,
                on_segment=lambda done_s: ctx.progress(
                    len(ctx.job.chunks_done) + min(done_s / length_s, 1.0), event.count, "chunks", label
                ),
                hint=hint,
            )
        segments = place_segments(result.segments, event.start_s, length_s)
        record = chunk_guards(result.guards, segments)
        warnings = chunk_warnings(event.index, record, result.guards) + ([unsure] if unsure else [])
        warnings += vocabulary_warnings(hint, self.settings.vocabulary_tokens)
        if record.redecoded or record.dropped or record.collapsed:
            ctx.log.info(
                "%s: %d of %d windows re-decoded, %d collapsed, %d dropped (%.1f s)",
                label,
                record.redecoded,
                record.windows,
                record.collapsed,
                record.dropped,
                record.dropped_s,
            )
        transcript_key = keys.chunk_transcript_key(event.job_id, event.index)
        ctx.storage.put_bytes(
            transcript_key,
            chunk_transcript_json(
                index=event.index,
                start_s=event.start_s,
                end_s=event.start_s + length_s,
                language=language,
                language_probability=probability,
                model=model.name,
                segments=segments,
                guards=result.guards.as_json(event.start_s),
                vocabulary=hint.record() if hint is not None else None,
            ),
            "application/json",
        )
        done = ChunkTranscribed(
            job_id=event.job_id,
            generation=event.generation,
            index=event.index,
            count=event.count,
            transcript_key=transcript_key,
            language=language,
            language_probability=probability,
            model=model.name,
        )
        return Outcome(
            events=[done],
            update=lambda state: record_chunk(state, event.index, event.count, for_job, record, warnings),
            stage_done=False,
        )

    def _hint(self, event: ChunkPlanned, model: LoadedModel) -> DecoderHint | None:
        """The job's vocabulary fitted for the decoder in the deployment's mode; None without one."""
        tokenizer = model.whisper.hf_tokenizer
        return decoder_hint(
            event.options.vocabulary,
            self.settings.vocabulary_mode,
            lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids),
            self.settings.vocabulary_tokens,
        )

    def _model(self, name: str) -> LoadedModel:
        try:
            return self.models.get(name)
        except WhisperModelError as exc:
            raise PermanentError(
                f"{exc.reason}. Set AODIO_TRANSCRIBE_MODEL (or the job's transcribe_model) to "
                "'base', 'tiny.en', a CTranslate2 model directory, or a hub name"
            ) from exc

    def _language(
        self, event: ChunkPlanned, job: JobState, model: LoadedModel, audio: Any
    ) -> tuple[str | None, float | None, str | None, JobWarning | None]:
        """(language for this chunk, its probability, language to record for the job or None, a warning)."""
        requested = event.options.language
        if requested and requested != "en" and not model.whisper.model.is_multilingual:
            raise PermanentError(
                f"the job asks for language {requested!r} but model {model.name!r} is English-only: "
                "use a multilingual model (AODIO_TRANSCRIBE_MODEL=base or the job's transcribe_model)"
            )
        if requested:
            return requested, 1.0, requested, None
        if job.language and not event.options.per_chunk_language:
            return job.language, None, None, None
        among = self.settings.expected_languages()
        guess: LanguageGuess | None = None
        for threshold in dict.fromkeys((self.settings.vad_threshold, self.settings.quiet_vad_threshold)):
            guess = guess or detect_language(
                model.whisper, audio, self.settings.language_windows, among, threshold
            )
        if guess is None:  # no speech in this chunk: nothing to transcribe, nothing to vote
            return None, None, None, None
        if guess.probability is None:
            return guess.language, None, guess.language, None
        probability = round(guess.probability, 4)
        if probability >= self.settings.language_min_probability:
            return guess.language, probability, guess.language, None
        language = self.settings.default_language or guess.language
        return language, probability, None, self._unsure(event, guess.language, probability, language)

    def _unsure(self, event: ChunkPlanned, guessed: str, probability: float, language: str) -> JobWarning:
        among = ", ".join(self.settings.expected_languages()) or "any language"
        used = (
            f"transcribed as {language} (AODIO_TRANSCRIBE_DEFAULT_LANGUAGE)"
            if language != guessed
            else f"transcribed as {guessed}; set the job's language if that is wrong"
        )
        return JobWarning(
            stage=STAGE,
            code="language_uncertain",
            chunk=event.index,
            message=(
                f"chunk {event.index + 1}: the spoken language is unsure ({guessed} with probability "
                f"{probability:.2f}, choosing among {among}); {used}"
            ),
        )


def vocabulary_warnings(hint: DecoderHint | None, budget: int) -> list[JobWarning]:
    """A warning (one per job: no chunk) when terms did not fit in the decoder's token budget."""
    if hint is None or not hint.left_out:
        return []
    shown = ", ".join(hint.left_out[:5]) + (", ..." if len(hint.left_out) > 5 else "")
    return [
        JobWarning(
            stage=STAGE,
            code="vocabulary_truncated",
            message=(
                f"{len(hint.left_out)} vocabulary term(s) were not given to the transcription model: "
                f"the first {len(hint.terms)} fill its budget of {budget} tokens "
                f"(AODIO_TRANSCRIBE_VOCABULARY_TOKENS); the summary still gets them all ({shown})"
            ),
        )
    ]


def record_chunk(
    state: JobState,
    index: int,
    count: int,
    language: str | None,
    guards: ChunkGuards | None = None,
    warnings: list[JobWarning] | None = None,
) -> None:
    """Idempotent: note the chunk as done, the job's language if none yet, and the stage's progress."""
    if guards is not None:
        state.transcription.record(index, guards)
    for warning in warnings or ():
        state.warn(warning)
    if index not in state.chunks_done:
        state.chunks_done.append(index)
        state.chunks_done.sort()
    if state.language is None and language is not None:
        state.language = language
    stage = state.stage(STAGE)
    done = len(state.chunks_done)
    stage.done, stage.total, stage.unit = float(done), float(count), "chunks"
    if done >= count and stage.status != "done":
        stage.status = "done"
        stage.finished_at = time.time()
        stage.wall_s = stage.finished_at - (stage.started_at or stage.finished_at)
        stage.eta_s = 0.0
        stage.message = f"{count} chunks"
