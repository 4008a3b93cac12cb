"""Chunks published mid-decode: the prefix hook, the handler's early events, determinism, odd lengths."""

from __future__ import annotations

import logging
import subprocess
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from contracts import keys
from contracts.artifacts import decode_chunk_plan
from contracts.events import AudioNormalized, ChunkPlanned, Event, JobSubmitted
from contracts.state import JobState
from runtime.stage import Outcome, StageContext
from runtime.storage.directory import DirectoryStorage
from services.transcode.chunking import fixed_count, plan_chunks
from services.transcode.config import TranscodeSettings
from services.transcode.errors import MediaError
from services.transcode.handler import TranscodeHandler
from services.transcode.normalize import PrefixHook, normalize
from services.transcode.probe import probe
from services.transcode.tests.test_normalize import decoded_samples
from tests.audio import looped

# Small numbers so a 163 s clip is a "long recording": chunks of 60 s after a first one of 20 s.
SETTINGS = TranscodeSettings(chunk_seconds=60, first_chunk_s=20)


def ffmpeg(*argv: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *argv], check=True)


@pytest.fixture(scope="module")
def clips(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """en_two_voices five times (163 s), and copies whose header says more or less than they hold."""
    root = tmp_path_factory.mktemp("early")
    five = looped(audio_dir / "en_two_voices.mp3", 5, root / "five.mp3")
    data = five.read_bytes()
    (root / "cut70.mp3").write_bytes(data[: len(data) * 7 // 10])  # a download stopped at 70 %
    (root / "cut40.mp3").write_bytes(data[: len(data) * 4 // 10])  # under half: truncated
    # A VBR file joined to itself byte for byte (a naive joiner): ffprobe underestimates it.
    ffmpeg("-i", str(five), "-c:a", "libmp3lame", "-q:a", "5", str(root / "vbr.mp3"))
    vbr = (root / "vbr.mp3").read_bytes()
    (root / "joined.mp3").write_bytes(vbr + vbr)
    return {
        "five": five,
        "cut70": root / "cut70.mp3",
        "cut40": root / "cut40.mp3",
        "joined": root / "joined.mp3",
        "short": audio_dir / "en_two_voices.mp3",
    }


class Recorder:
    """StageContext.publish for a test: records each event and what storage held at that moment."""

    def __init__(self, storage: DirectoryStorage, state: JobState) -> None:
        self.storage, self.state = storage, state
        self.events: list[ChunkPlanned] = []
        self.seen: list[dict[str, object]] = []

    def __call__(self, event: Event) -> None:
        assert isinstance(event, ChunkPlanned)
        self.events.append(event)
        self.seen.append(
            {
                "chunk_stored": self.storage.exists(event.chunk_key),
                "normalized_stored": self.storage.exists(keys.normalized_audio_key(event.job_id)),
                "chunks_total": self.state.chunks_total,
            }
        )


class Run:
    """One transcode of an upload by the real handler, its context recording what it published."""

    def __init__(self, root: Path, source: Path, job_id: str | None = None) -> None:
        self.job_id = job_id or f"job-{uuid.uuid4().hex[:12]}"
        self.storage = DirectoryStorage(root / "artifacts")
        self.state = JobState(job_id=self.job_id, created_at=time.time())
        self.published = Recorder(self.storage, self.state)
        self.source_key = f"jobs/{self.job_id}/source/{source.name}"
        self.storage.put_file(self.source_key, source)
        self.root = root

    async def transcode(self, settings: TranscodeSettings = SETTINGS, publish: bool = True) -> Outcome:
        async def update_job(mutate):  # the job state, in memory: a compare-and-set that always wins
            mutate(self.state)
            return self.state

        ctx = StageContext(
            job=self.state,
            attempt=1,
            storage=self.storage,
            scratch_dir=self.root / "scratch",
            progress=lambda *args, **kwargs: None,
            log=logging.LoggerAdapter(logging.getLogger(__name__), {"job_id": self.job_id}),
            update_job=update_job,
            publish=self.published if publish else None,
        )
        event = JobSubmitted(
            job_id=self.job_id, source_key=self.source_key, original_name="a.mp3", size_bytes=1
        )
        outcome = await TranscodeHandler(settings).handle(event, ctx)
        assert outcome.update is not None
        outcome.update(self.state)
        return outcome

    def samples(self, key: str) -> np.ndarray:
        path = self.root / "check.flac"
        path.write_bytes(self.storage.get_bytes(key))
        return decoded_samples(path)

    def check_chunks_concatenate(self, count: int) -> list[np.ndarray]:
        """Every chunk file is stored and they join, sample for sample, into the normalized audio."""
        plan = decode_chunk_plan(self.storage.get_bytes(keys.chunk_plan_key(self.job_id)))
        assert len(plan.chunks) == count == self.state.chunks_total
        parts = [self.samples(keys.chunk_audio_key(self.job_id, i)) for i in range(count)]
        for chunk, part in zip(plan.chunks, parts, strict=True):
            assert part.size == round(chunk.end_s * 16000) - round(chunk.start_s * 16000)
        whole = self.samples(keys.normalized_audio_key(self.job_id))
        assert np.array_equal(np.concatenate(parts), whole)
        return parts


def chunk_events(outcome: Outcome) -> list[ChunkPlanned]:
    return [e for e in outcome.events if isinstance(e, ChunkPlanned)]


def test_prefix_hook_gets_the_first_samples_of_the_flac(clips: dict[str, Path], tmp_path: Path) -> None:
    seen: list[tuple[np.ndarray, np.ndarray, int]] = []

    def keep(pcm: np.ndarray, levels: np.ndarray, start: int) -> None:
        seen.append((pcm, levels, start))

    dest = tmp_path / "n.flac"
    result = normalize(clips["five"], dest, prefix=PrefixHook(26.0, keep))
    ((pcm, levels, start),) = seen  # once
    assert pcm.dtype == np.int16 and pcm.size == 27 * 16000 and start == 0  # whole 3 s blocks
    assert levels.size == pcm.size // 480
    assert np.array_equal(pcm, decoded_samples(dest)[: pcm.size])
    assert result.duration_s == pytest.approx(163.0, abs=0.1)


def test_prefix_hook_gets_each_stretch_it_asks_for(clips: dict[str, Path], tmp_path: Path) -> None:
    seen: list[tuple[np.ndarray, np.ndarray, int]] = []
    spans = iter([(50.0, 100.0), (100.5, 120.0), (130.0, 400.0)])  # the last ends past the recording

    def next_span(pcm: np.ndarray, levels: np.ndarray, start: int) -> tuple[float, float] | None:
        seen.append((pcm, levels, start))
        return next(spans)

    dest = tmp_path / "n.flac"
    normalize(clips["five"], dest, prefix=PrefixHook(10.0, next_span))
    whole = decoded_samples(dest)
    # widened to whole 3 s blocks: [0, 12), [48, 102), [99, 120) s; [129, 402) is never reached
    assert [(start / 16000, pcm.size / 16000) for pcm, _, start in seen] == [(0, 12), (48, 54), (99, 21)]
    for pcm, levels, start in seen:
        assert np.array_equal(pcm, whole[start : start + pcm.size]) and levels.size == pcm.size // 480


def test_a_hook_that_asks_to_go_back_fails_normalize(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="behind what it has seen"):
        normalize(clips["five"], tmp_path / "n.flac", prefix=PrefixHook(30.0, lambda *_: (0.0, 20.0)))


def test_prefix_hook_is_not_called_on_a_shorter_recording(clips: dict[str, Path], tmp_path: Path) -> None:
    seen: list[object] = []
    normalize(clips["short"], tmp_path / "n.flac", prefix=PrefixHook(40.0, lambda *a: seen.append(a)))
    assert seen == []


def test_what_the_hook_raises_fails_normalize(clips: dict[str, Path], tmp_path: Path) -> None:
    def refuse(pcm: np.ndarray, levels: np.ndarray, start: int) -> None:
        raise ConnectionError("the bus is down")

    with pytest.raises(ConnectionError, match="the bus is down"):
        normalize(clips["five"], tmp_path / "n.flac", prefix=PrefixHook(10.0, refuse))


async def test_chunk_0_is_published_while_the_rest_decodes(
    clips: dict[str, Path], two_voices_truth: dict, tmp_path: Path
) -> None:
    run = Run(tmp_path, clips["five"])
    outcome = await run.transcode()
    count = fixed_count(probe(clips["five"]).duration_s, 60.0, 20.0)
    assert count == 3
    (first,) = run.published.events
    assert (first.index, first.count, first.start_s) == (0, count, 0.0)
    assert 16.0 <= first.end_s <= 24.0  # the first-chunk window: 20 s +- 20 %
    # cut in a pause between two sentences, not in the middle of one
    assert not any(seg["start"] < first.end_s < seg["end"] for seg in two_voices_truth["segments"])
    # when it went out, chunk 0 was stored and the count recorded, and the decode was not done
    assert run.published.seen == [{"chunk_stored": True, "normalized_stored": False, "chunks_total": 3}]
    # the handler's own events: audio.normalized, then the chunks not yet published
    assert isinstance(outcome.events[0], AudioNormalized) and outcome.events[0].chunk_count == count
    later = chunk_events(outcome)
    assert [e.index for e in later] == [1, 2] and all(e.count == count for e in later)
    assert later[0].start_s == first.end_s and later[-1].end_s == outcome.events[0].duration_s
    parts = run.check_chunks_concatenate(count)
    assert parts[0].size == round(first.end_s * 16000)


async def test_a_repeat_publishes_the_same_chunk_0(clips: dict[str, Path], tmp_path: Path) -> None:
    """A redelivered message (its worker died after the early publish) cuts and counts the same."""
    run = Run(tmp_path, clips["five"])
    outcome = await run.transcode()
    chunk_0 = run.samples(keys.chunk_audio_key(run.job_id, 0))
    again = await run.transcode()
    assert run.published.events[0] == run.published.events[1]
    assert again.events == outcome.events
    assert np.array_equal(run.samples(keys.chunk_audio_key(run.job_id, 0)), chunk_0)
    run.check_chunks_concatenate(3)


@pytest.mark.parametrize(("clip", "shorter"), [("cut70", True), ("joined", False)])
async def test_decoded_length_other_than_the_header(
    clips: dict[str, Path], tmp_path: Path, clip: str, shorter: bool
) -> None:
    """The count announced with chunk 0 holds; the chunks after it are just shorter or longer."""
    probed_s = probe(clips[clip]).duration_s
    run = Run(tmp_path, clips[clip])
    outcome = await run.transcode()
    decoded_s = outcome.events[0].duration_s  # type: ignore[attr-defined]
    assert (decoded_s < probed_s - 10) if shorter else (decoded_s > probed_s + 10)
    count = fixed_count(probed_s, 60.0, 20.0)
    early = list(run.published.events)  # chunk 0, and chunk 1 too where it ends before half the probe
    assert early and [e.index for e in early] == list(range(len(early)))
    assert all(e.count == count for e in early) and len(chunk_events(outcome)) == count - len(early)
    run.check_chunks_concatenate(count)
    even = (decoded_s - early[-1].end_s) / (count - len(early))
    assert (even < 60.0) if shorter else (even > 60.0)


async def test_a_truncated_upload_fails_after_chunk_0(clips: dict[str, Path], tmp_path: Path) -> None:
    """Truncation shows only at the end of the decode: chunk 0 is out, the job fails as before."""
    run = Run(tmp_path, clips["cut40"])
    with pytest.raises(MediaError, match="upload looks truncated"):
        await run.transcode()
    assert [e.index for e in run.published.events] == [0]


async def test_the_next_chunks_go_out_while_decoding_too(clips: dict[str, Path], tmp_path: Path) -> None:
    """30 s chunks: chunk 1 is decoded long before the end and goes out early; chunk 2 would end past
    half the probed length, so it waits for the decode (the rest can absorb a wrong probe)."""
    settings = TranscodeSettings(chunk_seconds=30, first_chunk_s=20, early_chunks=3)
    run = Run(tmp_path, clips["five"])
    outcome = await run.transcode(settings)
    count = fixed_count(probe(clips["five"]).duration_s, 30.0, 20.0)
    assert count == 6
    early = list(run.published.events)
    assert [(e.index, e.count) for e in early] == [(0, 6), (1, 6)]
    assert early[1].start_s == early[0].end_s and 16.0 <= early[0].end_s <= 24.0
    step = (probe(clips["five"]).duration_s - early[0].end_s) / 5  # an even share of the probed rest
    assert 0.8 * step <= early[1].end_s - early[1].start_s <= 1.2 * step
    assert all(seen["chunk_stored"] and not seen["normalized_stored"] for seen in run.published.seen)
    later = chunk_events(outcome)
    assert [e.index for e in later] == [2, 3, 4, 5] and later[0].start_s == early[1].end_s
    parts = run.check_chunks_concatenate(count)
    assert parts[1].size == round(early[1].end_s * 16000) - round(early[1].start_s * 16000)
    again = await run.transcode(settings)  # a redelivery cuts, writes and publishes the same
    assert run.published.events[2:] == early and again.events == outcome.events
    run.check_chunks_concatenate(count)
    one = Run(tmp_path / "one", clips["five"])
    await one.transcode(TranscodeSettings(chunk_seconds=30, first_chunk_s=20))  # the default: chunk 0 only
    (alone,) = one.published.events  # its own job id: the same cut, and nothing else goes out early
    assert (alone.index, alone.count, alone.start_s, alone.end_s) == (0, 6, early[0].start_s, early[0].end_s)


@pytest.mark.parametrize(
    ("clip", "settings", "publish"),
    [
        ("five", TranscodeSettings(chunk_seconds=60, first_chunk_s=20, early_first_chunk=False), True),
        ("five", SETTINGS, False),  # a runtime that cannot publish early
        ("five", TranscodeSettings(chunk_seconds=60, first_chunk_s=0), True),  # no short first chunk
        ("short", SETTINGS, True),  # 32.6 s: one chunk
    ],
)
async def test_otherwise_every_chunk_goes_out_at_the_end(
    clips: dict[str, Path], tmp_path: Path, clip: str, settings: TranscodeSettings, publish: bool
) -> None:
    run = Run(tmp_path, clips[clip])
    outcome = await run.transcode(settings, publish=publish)
    assert run.published.events == []
    normalized = outcome.events[0]
    assert isinstance(normalized, AudioNormalized)
    plan = decode_chunk_plan(run.storage.get_bytes(keys.chunk_plan_key(run.job_id)))
    expected = plan_chunks(
        normalized.duration_s,
        plan.silences,
        target_s=60.0,
        quiet_points=normalize(clips[clip], tmp_path / "again.flac").quiet_points,
        first_s=settings.first_chunk_s or None,
    )
    assert [(e.index, e.start_s, e.end_s) for e in chunk_events(outcome)] == [
        (c.index, c.start_s, c.end_s) for c in expected
    ]
    run.check_chunks_concatenate(len(expected))
