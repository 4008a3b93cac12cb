"""The transcribe stage with the real models on the committed audio: no NATS, a directory store."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import multiprocessing
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faster_whisper", reason="transcribe extra not installed")

from bench.word_errors import word_error_rate
from contracts import keys
from contracts.events import ChunkPlanned, ChunkTranscribed
from contracts.options import JobOptions
from contracts.state import JobState
from runtime.errors import PermanentError
from runtime.stage import Outcome, StageContext
from runtime.storage.directory import DirectoryStorage
from services.transcribe.config import TranscribeSettings
from services.transcribe.handler import TranscribeHandler, record_chunk
from services.transcribe.models import BASE_MODEL_SHA256, resolve_model
from services.transcribe.transcript import place_segments

AUDIO = Path(__file__).resolve().parent / "fixtures" / "audio"


# ---- helpers -------------------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def to_flac(source: Path, target: Path, start_s: float | None = None, end_s: float | None = None) -> Path:
    """16 kHz mono FLAC of source, optionally cut [start_s, end_s): what transcode hands on."""
    window = [*(["-ss", str(start_s)] if start_s else []), *(["-to", str(end_s)] if end_s else [])]
    ffmpeg("-i", str(source), *window, "-ac", "1", "-ar", "16000", "-c:a", "flac", str(target))
    return target


def truth(name: str) -> dict[str, Any]:
    return json.loads((AUDIO / f"{name}.json").read_text())


class Stage:
    """A handler with a directory store on tmp_path; `run` transcribes one local FLAC as one chunk."""

    def __init__(self, handler: TranscribeHandler, root: Path) -> None:
        self.handler, self.root = handler, root
        self.storage = DirectoryStorage(root / "store")
        self.job_id = f"job-{uuid.uuid4().hex[:12]}"

    def context(self, job: JobState | None = None) -> StageContext:
        return StageContext(
            job=job or JobState(job_id=self.job_id),
            attempt=1,
            storage=self.storage,
            scratch_dir=self.root / "scratch",
            progress=lambda *args, **kwargs: None,
            log=logging.LoggerAdapter(logging.getLogger("t"), {}),
        )

    def planned(
        self, flac: Path | None, index: int, count: int, start_s: float, end_s: float, **opts: Any
    ) -> ChunkPlanned:
        key = keys.chunk_audio_key(self.job_id, index)
        if flac is not None:
            self.storage.put_file(key, flac)
        return ChunkPlanned(
            job_id=self.job_id,
            index=index,
            count=count,
            start_s=start_s,
            end_s=end_s,
            chunk_key=key,
            options=JobOptions(**opts),
        )

    async def run(
        self,
        flac: Path,
        index: int = 0,
        count: int = 1,
        start_s: float = 0.0,
        job: JobState | None = None,
        **opts: Any,
    ) -> tuple[dict[str, Any], Outcome]:
        event = self.planned(flac, index, count, start_s, start_s + 1.0, **opts)
        outcome = await self.handler.handle(event, self.context(job))
        (done,) = outcome.events
        assert isinstance(done, ChunkTranscribed)
        return json.loads(self.storage.get_bytes(done.transcript_key)), outcome


def words_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [word for segment in document["segments"] for word in segment["words"]]


def text_of(documents: list[dict[str, Any]]) -> str:
    return " ".join(w["word"] for doc in documents for w in words_of(doc))


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session", params=[True, False], ids=["batched", "sequential"])
def tiny_handler(model_cache: Path, request: pytest.FixtureRequest) -> TranscribeHandler:
    settings = TranscribeSettings(model="tiny.en", model_cache_dir=model_cache, batched=request.param)
    return TranscribeHandler(settings)


@pytest.fixture(scope="session")
def base_handler(model_cache: Path) -> TranscribeHandler:
    return TranscribeHandler(TranscribeSettings(model="base", model_cache_dir=model_cache))


@pytest.fixture
def tiny(tiny_handler: TranscribeHandler, tmp_path: Path) -> Stage:
    return Stage(tiny_handler, tmp_path)


@pytest.fixture
def base(base_handler: TranscribeHandler, tmp_path: Path) -> Stage:
    return Stage(base_handler, tmp_path)


# ---- the spoken words come back, on the recording's clock ------------------------------------------


async def test_known_sentence_with_absolute_monotonic_word_times(tiny: Stage, tmp_path: Path) -> None:
    flac = to_flac(AUDIO / "en_short.wav", tmp_path / "short.flac")
    start_s = 600.0  # as if this were the second 10-minute chunk
    document, outcome = await tiny.run(flac, index=1, count=3, start_s=start_s)

    assert word_error_rate(truth("en_short")["text"], text_of([document])) < 0.3
    times = [(w["start"], w["end"]) for w in words_of(document)]
    assert times and all(start <= end for start, end in times)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(times))
    assert start_s <= times[0][0] and times[-1][1] <= document["end_s"] <= start_s + 4.6
    assert document["language"] == "en" and document["index"] == 1

    state = JobState(job_id=tiny.job_id)
    outcome.update(state)
    assert state.chunks_done == [1] and state.language == "en"
    assert state.stages["transcribe"].status != "done"


async def test_chunks_give_the_same_words_as_the_whole(tiny: Stage, tmp_path: Path) -> None:
    source, cut_s = AUDIO / "en_two_voices.mp3", 11.9  # inside the pause after the third sentence
    whole, _ = await tiny.run(to_flac(source, tmp_path / "whole.flac"))
    first, _ = await tiny.run(to_flac(source, tmp_path / "0.flac", end_s=cut_s), 0, 2, 0.0)
    second, _ = await tiny.run(to_flac(source, tmp_path / "1.flac", start_s=cut_s), 1, 2, cut_s)

    assert all(w["end"] <= cut_s + 0.05 for w in words_of(first))
    assert all(w["start"] >= cut_s - 0.05 for w in words_of(second))
    # Cutting in a pause loses nothing: the chunks are as right as the whole file, measured against
    # what was said (not against the whole file's own errors, which differ between CPUs' int8 kernels).
    said = truth("en_two_voices")["text"]
    chunked_wer = word_error_rate(said, text_of([first, second]))
    whole_wer = word_error_rate(said, text_of([whole]))
    assert chunked_wer <= whole_wer + 0.05, (chunked_wer, whole_wer)
    assert chunked_wer < 0.3
    # the same word lands at the same time of the recording, whichever way it was cut
    whole_starts = {w["word"].strip(): w["start"] for w in words_of(whole)}
    moved = [
        abs(w["start"] - whole_starts[w["word"].strip()])
        for w in words_of(second)
        if w["word"].strip() in whole_starts
    ]
    assert moved and sorted(moved)[len(moved) // 2] < 0.5


async def test_silence_gives_no_words(tiny: Stage, tmp_path: Path) -> None:
    document, _ = await tiny.run(to_flac(AUDIO / "silence.wav", tmp_path / "silence.flac"))
    assert document["segments"] == []


async def test_job_language_is_followed(base: Stage, tmp_path: Path) -> None:
    flac = to_flac(AUDIO / "en_short.wav", tmp_path / "short.flac")
    job = JobState(job_id=base.job_id, language="en")
    document, _ = await base.run(flac, job=job)
    assert document["language"] == "en" and document["language_probability"] is None


async def test_french_is_detected_with_base(base: Stage, tmp_path: Path) -> None:
    document, _ = await base.run(to_flac(AUDIO / "fr_one_voice.mp3", tmp_path / "fr.flac"))
    assert document["language"] == "fr"
    assert word_error_rate(truth("fr_one_voice")["text"], text_of([document])) < 0.6


async def test_a_jingle_at_the_start_does_not_decide_the_language(base: Stage, tmp_path: Path) -> None:
    jingle_then_speech = tmp_path / "jingle_fr.flac"
    ffmpeg(
        *("-f", "lavfi", "-i", "sine=frequency=440:duration=35:sample_rate=16000"),
        *("-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:duration=35:sample_rate=16000"),
        *("-i", str(AUDIO / "fr_one_voice.mp3")),
        "-filter_complex",
        "[0][1]amix=inputs=2:normalize=0[j];[2]aresample=16000,aformat=channel_layouts=mono[s];"
        "[j][s]concat=n=2:v=0:a=1[out]",
        *("-map", "[out]", "-ac", "1", "-ar", "16000", str(jingle_then_speech)),
    )
    document, _ = await base.run(jingle_then_speech)
    assert document["language"] == "fr"
    assert all(w["start"] >= 34.0 for w in words_of(document))


# ---- failures a user can act on --------------------------------------------------------------------


async def test_missing_chunk_is_permanent_with_a_reason(tiny: Stage) -> None:
    event = tiny.planned(None, 0, 1, 0.0, 10.0)
    with pytest.raises(PermanentError, match="missing from storage"):
        await tiny.handler.handle(event, tiny.context())


async def test_unloadable_model_names_the_setting(tmp_path: Path) -> None:
    stage = Stage(TranscribeHandler(TranscribeSettings(model=str(tmp_path / "nowhere/x/y"))), tmp_path)
    event = stage.planned(to_flac(AUDIO / "en_short.wav", tmp_path / "s.flac"), 0, 1, 0.0, 4.0)
    with pytest.raises(PermanentError, match="AODIO_TRANSCRIBE_MODEL"):
        await stage.handler.handle(event, stage.context())


async def test_english_only_model_refuses_another_language(tiny: Stage, tmp_path: Path) -> None:
    event = tiny.planned(to_flac(AUDIO / "en_short.wav", tmp_path / "s.flac"), 0, 1, 0.0, 4.0, language="fr")
    with pytest.raises(PermanentError, match="English-only"):
        await tiny.handler.handle(event, tiny.context())


# ---- job state, edges and model files (no model run) -------------------------------------------------


def test_recording_chunks_is_idempotent_and_finishes_the_stage() -> None:
    state = JobState(job_id="job-00000001")
    for index in (2, 0, 2, 1, 0):
        record_chunk(state, index, 3, "fr" if index == 2 else "en")
    assert state.chunks_done == [0, 1, 2] and state.language == "fr"
    stage = state.stages["transcribe"]
    assert (stage.status, stage.done, stage.total, stage.unit) == ("done", 3.0, 3.0, "chunks")


def test_words_are_owned_by_the_chunk_holding_their_midpoint() -> None:
    def word(start: float, end: float, text: str) -> dict[str, Any]:
        return {"start": start, "end": end, "word": text, "probability": 0.9}

    segment = {"start": -0.4, "end": 10.5, "text": "a b c", "avg_logprob": -0.2, "no_speech_prob": 0.0}
    words = [word(-0.4, 0.2, " a"), word(1.0, 2.0, " b"), word(9.8, 10.5, " c")]
    (placed,) = place_segments([{**segment, "words": words}], start_s=100.0, length_s=10.0)
    assert [w["word"] for w in placed["words"]] == [" b"]
    assert (placed["start"], placed["end"], placed["text"]) == (101.0, 102.0, "b")


def _resolve_base(cache_dir: str) -> str:
    return resolve_model("base", Path(cache_dir))


def test_base_is_joined_once_even_when_two_processes_race(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        paths = pool.map(_resolve_base, [str(tmp_path)] * 2)
    assert paths[0] == paths[1] == str(tmp_path / "whisper-base")
    model_bin = tmp_path / "whisper-base" / "model.bin"
    assert hashlib.sha256(model_bin.read_bytes()).hexdigest() == BASE_MODEL_SHA256
    assert (tmp_path / "whisper-base" / "LICENSE").read_text().startswith("MIT License")
    assert not [p for p in (tmp_path / "whisper-base").iterdir() if p.name.startswith(".")]
