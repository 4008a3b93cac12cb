"""The decode guards never drop speech silently: loops are re-decoded or collapsed, quiet speech comes
back, silence and noise stay empty, and the job state counts what was done (real tiny.en model)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faster_whisper", reason="transcribe extra not installed")

from faster_whisper.transcribe import Segment

from cli.jobs import print_guards
from contracts.state import ChunkGuards, JobState, JobWarning, TranscriptionRecord
from services.transcribe import guards
from services.transcribe.config import TranscribeSettings
from services.transcribe.handler import TranscribeHandler, record_chunk
from services.transcribe.words import normalize_words
from tests.test_transcribe import AUDIO, Stage, ffmpeg, to_flac, words_of

SENTENCE = "the quarterly report is ready and the team agreed to publish it on tuesday"


@pytest.fixture(scope="module", params=[True, False], ids=["batched", "sequential"])
def handler(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> TranscribeHandler:
    cache = tmp_path_factory.mktemp("models")
    return TranscribeHandler(
        TranscribeSettings(model="tiny.en", model_cache_dir=cache, batched=request.param)
    )


@pytest.fixture
def stage(handler: TranscribeHandler, tmp_path: Path) -> Stage:
    return Stage(handler, tmp_path)


def mean_volume_db(path: Path) -> float:
    """ffmpeg's volumedetect mean (RMS) level of a file, in dBFS."""
    report = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return float(re.search(r"mean_volume: (-?[\d.]+) dB", report).group(1))  # type: ignore[union-attr]


def said(document: dict[str, Any]) -> list[str]:
    return normalize_words(" ".join(w["word"] for w in words_of(document)))


# ---- loops: the words before a loop, and one copy of the loop, always stay -------------------------


def looped_decode(prefix: str, phrase: str, repeats: int, seconds_per_word: float) -> list[dict[str, Any]]:
    """A decode as faster-whisper gives it: a correct start, then one phrase again and again."""
    segments, t = [], 0.0
    for text in [prefix, *[phrase] * repeats]:
        words = []
        for token in text.split():
            words.append({"start": t, "end": t + seconds_per_word, "word": " " + token, "probability": 0.9})
            t += seconds_per_word
        segments.append({"start": words[0]["start"], "end": words[-1]["end"], "text": text, "words": words})
    return segments


def test_a_decoding_loop_is_cut_to_its_first_occurrence() -> None:
    decode = looped_decode("Usually in Windows you right click.", "It opens a menu.", 40, 0.05)
    kept, removed = guards.collapse_loops(decode)
    text = " ".join(s["text"] for s in kept)
    assert text == "Usually in Windows you right click. It opens a menu."
    assert guards.removed_words(removed) == 39 * 4


def test_a_phrase_said_again_and_again_at_speaking_pace_is_kept() -> None:
    decode = looped_decode("Listen.", "Say it again.", 6, 0.4)  # 2.5 words a second, sure of each
    kept, removed = guards.collapse_loops(decode)
    assert kept == decode and removed == ""


@pytest.mark.parametrize("text", ["no no no", "thank you, thank you", "very very good", "yes yes yes yes"])
def test_short_repetitions_are_speech_not_loops(text: str) -> None:
    assert guards.find_loop(normalize_words(text)) is None


def test_a_loop_split_into_short_segments_flags_its_window() -> None:
    segments = [
        Segment(
            id=i,
            seek=0,
            start=i,
            end=i + 1,
            text=" It opens a menu.",
            tokens=[],
            avg_logprob=-0.3,
            compression_ratio=0.9,
            no_speech_prob=0.01,
            words=None,
            temperature=0.0,
        )
        for i in range(20)
    ]  # each segment compresses badly alone: only the window as a whole shows the loop
    assert guards.window_flag(segments) is not None
    assert guards.window_flag(segments)[0] == "repetition"  # type: ignore[index]
    assert guards.window_flag(segments[:1]) is None


async def test_repeated_speech_is_redecoded_and_every_copy_kept(stage: Stage, tmp_path: Path) -> None:
    """The sentence six times in one window looks like a loop to the first decode; none is lost."""
    listing = tmp_path / "six.txt"
    listing.write_text("".join(f"file '{AUDIO / 'en_short.wav'}'\n" for _ in range(6)))
    six = tmp_path / "six.wav"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-ac", "1", "-ar", "16000", str(six))
    document, outcome = await stage.run(to_flac(six, tmp_path / "six.flac"))
    words = said(document)
    assert words.count("quarterly") >= 5, words
    state = JobState(job_id=stage.job_id)
    assert outcome.update is not None
    outcome.update(state)
    assert state.transcription.total.windows >= 1
    assert state.transcription.total.words == len(words_of(document))
    assert document["guards"]["collapsed"] == 0  # said six times at speaking pace: kept
    if stage.handler.settings.batched:
        assert document["guards"]["redecoded"] >= 1
        assert {e["reason"] for e in document["guards"]["events"]} == {"repetition"}


# ---- quiet speech comes back; silence and noise stay empty ---------------------------------------


async def test_quiet_speech_comes_back_with_its_words(stage: Stage, tmp_path: Path) -> None:
    """The sentence at -35 dBFS RMS (far-field level), alone in 10 s of room tone."""
    quiet = tmp_path / "quiet.flac"
    gain_db = -35.0 - mean_volume_db(AUDIO / "en_short.wav")
    ffmpeg(
        "-i",
        str(AUDIO / "en_short.wav"),
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=pink:amplitude=0.0005:d=10",
        "-filter_complex",
        f"[0:a]aformat=channel_layouts=mono,aresample=16000,volume={gain_db:.1f}dB,adelay=3000[s];"
        "[1:a]aresample=16000[n];[s][n]amix=inputs=2:duration=longest:normalize=0",
        "-ac",
        "1",
        "-ar",
        "16000",
        "-c:a",
        "flac",
        str(quiet),
    )
    assert mean_volume_db(quiet) < -34.0
    document, _ = await stage.run(quiet)
    words = said(document)
    assert len(set(words) & set(SENTENCE.split())) >= 8, words


@pytest.mark.parametrize("source", ["silence", "noise"])
async def test_silence_and_noise_give_no_words(stage: Stage, tmp_path: Path, source: str) -> None:
    clip = tmp_path / f"{source}.flac"
    if source == "silence":
        to_flac(AUDIO / "silence.wav", clip)
    else:
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=color=brown:amplitude=0.3:d=12:seed=7",
            "-ar",
            "16000",
            "-c:a",
            "flac",
            str(clip),
        )
    document, outcome = await stage.run(clip)
    assert words_of(document) == []
    state = JobState(job_id=stage.job_id)
    assert outcome.update is not None
    outcome.update(state)
    record = state.transcription.total
    # a window VAD took for speech and the decode found none is on record, never silently gone
    assert record.dropped == record.windows
    assert all(w.code in ("speech_dropped", "chunk_empty") for w in state.warnings)
    assert bool(state.warnings) == bool(record.windows)


# ---- the job state counts it, and `aodio show` prints it -----------------------------------------


def test_the_job_state_sums_the_chunks_once_each() -> None:
    state = JobState(job_id="j")
    dropped = JobWarning(
        stage="transcribe", code="speech_dropped", chunk=1, message="chunk 2: 1 window left out"
    )
    for _ in range(2):  # a redelivered chunk is recorded once
        record_chunk(
            state, 0, 2, "en", ChunkGuards(windows=4, words=50, redecoded=1, collapsed=1, words_removed=30)
        )
        record_chunk(state, 1, 2, "en", ChunkGuards(windows=3, words=20, dropped=1, dropped_s=2.5), [dropped])
    total = state.transcription.total
    assert (total.windows, total.words, total.redecoded, total.collapsed, total.dropped) == (7, 70, 1, 1, 1)
    assert total.words_removed == 30 and total.dropped_s == 2.5
    assert state.warnings == [dropped]
    assert state.transcription == TranscriptionRecord(chunks=state.transcription.chunks, total=total)


def test_show_prints_the_counts_and_the_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    job = {
        "transcription": {
            "total": {
                "windows": 7,
                "speech_s": 61.0,
                "words": 70,
                "redecoded": 2,
                "dropped": 1,
                "dropped_s": 2.5,
            }
        },
        "warnings": [
            {"stage": "transcribe", "code": "speech_dropped", "message": "chunk 2: 1 of 3 windows left out"}
        ],
    }
    print_guards(job, Console(width=200))
    out = capsys.readouterr().out
    assert "7 windows" in out and "re-decoded 2" in out and "dropped 1 (2.5 s)" in out
    assert "chunk 2: 1 of 3 windows left out" in out


# ---- the languages a deployment expects, and what an unsure detection does ------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("base-models")


async def test_detection_chooses_among_the_expected_languages(model_dir: Path, tmp_path: Path) -> None:
    """French audio where only German and English are expected: never French, and said to be unsure."""
    settings = TranscribeSettings(model="base", model_cache_dir=model_dir, languages="de,en")
    stage = Stage(TranscribeHandler(settings), tmp_path)
    document, outcome = await stage.run(to_flac(AUDIO / "fr_one_voice.mp3", tmp_path / "fr.flac"))
    assert document["language"] in ("de", "en")
    state = JobState(job_id=stage.job_id)
    assert outcome.update is not None
    outcome.update(state)
    (warning,) = [w for w in state.warnings if w.code == "language_uncertain"]
    assert "choosing among de, en" in warning.message
    assert state.language is None  # an unsure guess is not the job's language


async def test_an_unsure_detection_falls_back_to_the_default_language(
    model_dir: Path, tmp_path: Path
) -> None:
    settings = TranscribeSettings(
        model="base", model_cache_dir=model_dir, default_language="fr", language_min_probability=0.999
    )
    stage = Stage(TranscribeHandler(settings), tmp_path)
    document, outcome = await stage.run(to_flac(AUDIO / "en_short.wav", tmp_path / "en.flac"))
    assert document["language"] == "fr"
    state = JobState(job_id=stage.job_id)
    assert outcome.update is not None
    outcome.update(state)
    (warning,) = state.warnings
    assert warning.code == "language_uncertain" and "AODIO_TRANSCRIBE_DEFAULT_LANGUAGE" in warning.message
    assert "en with probability" in warning.message


def test_a_language_setting_that_is_not_a_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ISO 639-1"):
        TranscribeSettings(languages="en,French")


@pytest.mark.parametrize(
    ("heard", "says"),
    [
        (ChunkGuards(windows=2, speech_s=12.5, dropped=2, dropped_s=12.5), "VAD found 12.5 s of speech"),
        (ChunkGuards(quiet_windows=1), "only faint sound"),
    ],
)
def test_an_empty_transcript_of_heard_audio_is_a_warning(heard: ChunkGuards, says: str) -> None:
    from contracts.artifacts import Transcript
    from services.assemble.handler import record_transcript

    state = JobState(job_id="j")
    state.transcription.record(0, heard)
    empty = Transcript(language="en", duration_s=30.0, speakers=[], segments=[], model={})
    record_transcript(state, empty)
    (warning,) = state.warnings
    assert warning.code == "transcript_empty" and says in warning.message
    silent = JobState(job_id="k")
    silent.transcription.record(0, ChunkGuards())
    record_transcript(silent, empty)
    assert silent.warnings == []  # nothing heard, nothing to warn of
