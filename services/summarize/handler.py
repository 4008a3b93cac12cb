"""Summarize: the assembled transcript in, summary.json and summary.md out (summary.completed); job done.

What produces the summary, in order: the job's summary_method ("none" writes a summary.json that says
none was requested, so the job and its outputs look the same either way), then the deployment's
(AODIO_SUMMARIZE_METHOD=extractive runs no model), then the model: the job's summary_model, else
AODIO_SUMMARIZE_MODEL. A model that fails for good (invalid JSON after a repair prompt, a refused
request) gives way to the extractive summary, whose `note` says so. Rate limits and timeouts are
retried by JetStream; refused credentials fail the job with what to set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import msgspec

from contracts import keys
from contracts.artifacts import Summary, Transcript, decode_transcript
from contracts.events import PipelineEvent, SummaryCompleted
from contracts.pipeline import SUMMARIZE
from contracts.state import JobState
from exports.formats import SUMMARY_FORMATS, render_summary
from exports.summary import rename_speakers
from runtime.errors import PermanentError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from runtime.storage.base import ObjectNotFound, Storage
from services.summarize.config import SummarizeSettings
from services.summarize.extractive import summarize_extractive
from services.summarize.guard import guard
from services.summarize.llm import CallLimits, LlmFailure, LlmTarget, summarize_map_reduce
from services.summarize.local import LocalModels
from services.summarize.salient import summarize_salient

STAGE = "summarize"
log = logging.getLogger(__name__)


class SummarizeHandler:
    stage = STAGE

    def __init__(self, settings: SummarizeSettings, local: LocalModels | None = None) -> None:
        self.settings = settings
        self.local = local or LocalModels(settings)

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        event = expect_input(SUMMARIZE, event)
        # A rename before the summary keeps the labelled transcript aside: summarise that one.
        labelled_key = keys.labelled_transcript_key(event.job_id)
        labelled = await asyncio.to_thread(ctx.storage.exists, labelled_key)
        transcript_key = labelled_key if labelled else event.transcript_key
        transcript = await asyncio.to_thread(_read_transcript, ctx.storage, transcript_key)
        ctx.progress(0.0, 1.0, "summary", f"{len(transcript.segments)} segments")
        options = event.options
        summary = await self.summarize(
            transcript, options.summary_method, options.summary_model, options.vocabulary
        )
        ctx.log.info(
            "summary by %s (%s)%s", summary.method, summary.model, f": {summary.note}" if summary.note else ""
        )
        json_key, md_key = keys.summary_key(event.job_id, "json"), keys.summary_key(event.job_id, "md")
        names = ctx.job.speaker_names
        labelled_json = keys.labelled_summary_key(event.job_id)
        if names:  # the user named speakers already: keep the labelled summary aside, write the named one
            await asyncio.to_thread(
                ctx.storage.put_bytes, labelled_json, render_summary(summary, "json"), "application/json"
            )
            summary = rename_speakers(summary, names)
        else:  # a labelled copy an earlier run kept aside would hide this new summary
            await asyncio.to_thread(ctx.storage.delete_prefix, labelled_json)
        await asyncio.to_thread(_write, ctx.storage, summary, json_key, md_key)
        done = SummaryCompleted(
            job_id=event.job_id,
            generation=event.generation,
            summary_key=json_key,
            markdown_key=md_key,
            method=summary.method,
        )
        return Outcome(events=[done], update=lambda state: _record(state, json_key, md_key))

    async def summarize(
        self,
        transcript: Transcript,
        method: str = "llm",
        model: str | None = None,
        vocabulary: Sequence[str] = (),
    ) -> Summary:
        """The summary a job asked for, through the guard (guard.py) that keeps the sanity rules.

        A model is told to spell the job's vocabulary as given; the extractive summary quotes the
        transcript, so the vocabulary changes nothing there. The guard's extractive reference is made
        while the model writes: a local model leaves part of a core free, and this is one core's work
        (seconds on a 4 h recording) that would otherwise run alone after the answer.
        """
        if self._extractive_only(method):
            summary = await self._summary(transcript, method, model, vocabulary)
            return await asyncio.to_thread(guard, summary, transcript, summary)
        reference = asyncio.ensure_future(asyncio.to_thread(summarize_extractive, transcript))
        try:
            summary = await self._summary(transcript, method, model, vocabulary)
        except BaseException:
            reference.cancel()
            raise
        plain = await reference
        return await asyncio.to_thread(guard, summary, transcript, plain)

    async def _summary(
        self, transcript: Transcript, method: str, model: str | None, vocabulary: Sequence[str] = ()
    ) -> Summary:
        """The summary a job asked for, falling back to extractive when the model fails for good."""
        if method == "none":
            return Summary(
                method="none", model=None, language=transcript.language, duration_s=transcript.duration_s
            )
        if self._extractive_only(method):
            return await asyncio.to_thread(summarize_extractive, transcript)
        name = model or self.settings.model
        try:
            if name.startswith("local/"):
                async with self.local.use(name) as target:
                    return await self._with_model(transcript, target, vocabulary)
            return await self._with_model(transcript, self._hosted(name), vocabulary)
        except LlmFailure as exc:
            log.warning("summary model %s failed for good, summarising extractively: %s", name, exc.reason)
            return await asyncio.to_thread(
                summarize_extractive, transcript, f"LLM {name} failed: {exc.reason}"
            )

    def _extractive_only(self, method: str) -> bool:
        """Whether the job's summary is the extractive one, with no model ("none" asks for none)."""
        return method != "none" and (method == "extractive" or self.settings.method == "extractive")

    async def _with_model(
        self, transcript: Transcript, target: LlmTarget, vocabulary: Sequence[str] = ()
    ) -> Summary:
        settings = self.settings
        limits = CallLimits(settings.max_output_tokens, settings.temperature, settings.request_timeout_s)
        strategy = settings.strategy
        if strategy == "auto":
            strategy = "salient" if target.local else "map_reduce"
        if strategy == "salient":
            return await summarize_salient(transcript, target, limits, settings.prompt_words, vocabulary)
        return await summarize_map_reduce(
            transcript, target, limits, settings.window_words, settings.map_concurrency, vocabulary
        )

    def _hosted(self, name: str) -> LlmTarget:
        return LlmTarget(
            model=name, label=name, api_base=self.settings.api_base, api_key=self.settings.api_key
        )

    def close(self) -> None:
        """Stop the local model servers this handler started."""
        self.local.close()


def _read_transcript(storage: Storage, key: str) -> Transcript:
    try:
        return decode_transcript(storage.get_bytes(key))
    except ObjectNotFound as exc:
        raise PermanentError(
            f"transcript {key} is missing from storage: re-run the job from assemble"
        ) from exc
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise PermanentError(
            f"transcript {key} is not a valid transcript ({exc}): re-run the job from assemble"
        ) from exc


def _write(storage: Storage, summary: Summary, json_key: str, md_key: str) -> None:
    for key, fmt in ((json_key, "json"), (md_key, "md")):
        storage.put_bytes(key, render_summary(summary, fmt), SUMMARY_FORMATS[fmt][0])


def _record(state: JobState, json_key: str, md_key: str) -> None:
    state.outputs["summary_json"] = json_key
    state.outputs["summary_md"] = md_key
    state.status = "completed"
