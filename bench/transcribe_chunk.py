"""Real-time factor and peak memory of one 10-minute chunk: `python -m bench.transcribe_chunk`.

Cuts a piece of bench/audio/long_4h15.mp3 at pauses (16 kHz mono FLAC, as transcode would), then runs
each (model, beam, batched) in a fresh process so peak RSS is that configuration's own. Prints one
JSON line per configuration; numbers only, no pass/fail.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECORDING = Path("bench/audio/long_4h15.mp3")


def cut_piece(recording: Path, start_s: float, seconds: float, target: Path) -> tuple[float, float, str]:
    """Cut [start, end) at the pauses nearest start_s and start_s + seconds; return it with its text."""
    turns = json.loads(recording.with_suffix(".json").read_text())["turns"]

    def pause_before(t: float) -> float:
        after = next(i for i, turn in enumerate(turns) if turn["start"] >= t)
        return (turns[after - 1]["end"] + turns[after]["start"]) / 2 if after else 0.0

    start, end = pause_before(start_s), pause_before(start_s + seconds)
    text = " ".join(turn["text"] for turn in turns if start <= turn["start"] and turn["end"] <= end)
    window = ["-ss", f"{start:.3f}", "-to", f"{end:.3f}", "-i", str(recording)]
    output = ["-ac", "1", "-ar", "16000", "-c:a", "flac", str(target)]
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *window, *output], check=True)
    return start, end, text


def run_one(
    flac: Path, reference: str, model_name: str, beam: int, batched: bool, threads: int, batch_size: int = 8
) -> dict[str, object]:
    from bench.word_errors import word_error_rate
    from services.transcribe.engine import EngineConfig, ModelCache, decode_audio, transcribe_audio
    from services.transcribe.language import detect_language

    cpu0, t0 = time.process_time(), time.perf_counter()
    model = ModelCache(EngineConfig(cpu_threads=threads, cache_dir=Path("data/models"), batched=batched)).get(
        model_name
    )
    load_s = time.perf_counter() - t0
    audio = decode_audio(flac)
    audio_s = len(audio) / 16000
    t1 = time.perf_counter()
    guess = detect_language(model.whisper, audio)
    detect_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    segments = transcribe_audio(
        model, audio, language=guess.language if guess else None, beam_size=beam, batch_size=batch_size
    )
    transcribe_s = time.perf_counter() - t2
    hypothesis = " ".join(w["word"] for s in segments for w in s["words"])
    return {
        "model": model_name,
        "beam": beam,
        "batched": batched,
        "threads": threads,
        "batch_size": batch_size,
        "audio_s": round(audio_s, 1),
        "load_s": round(load_s, 2),
        "detect_s": round(detect_s, 2),
        "transcribe_s": round(transcribe_s, 1),
        "rtf": round((detect_s + transcribe_s) / audio_s, 4),
        "cpu_s": round(time.process_time() - cpu0, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "language": guess.language if guess else None,
        "words": len(hypothesis.split()),
        "wer": round(word_error_rate(reference, hypothesis), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, default=RECORDING)
    parser.add_argument("--start", type=float, default=3600.0)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--beams", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--batched", nargs="+", choices=["no", "yes"], default=["no", "yes"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[8])
    parser.add_argument("--one", nargs=3, metavar=("FLAC", "MODEL", "BEAM"), help=argparse.SUPPRESS)
    parser.add_argument("--reference", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        flac, model, beam = args.one
        result = run_one(
            Path(flac),
            args.reference,
            model,
            int(beam),
            args.batched == ["yes"],
            args.threads,
            args.batch_sizes[0],
        )
        print(json.dumps(result), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        flac = Path(tmp) / "chunk.flac"
        start, end, reference = cut_piece(args.recording, args.start, args.seconds, flac)
        print(json.dumps({"piece": [round(start, 3), round(end, 3)]}), flush=True)
        grid = itertools.product(args.models, args.beams, args.batched, args.batch_sizes)
        for model, beam, batched, batch_size in grid:
            one = [
                "--one",
                str(flac),
                model,
                str(beam),
                "--batched",
                batched,
                "--reference",
                reference,
                "--batch-sizes",
                str(batch_size),
            ]
            module = [sys.executable, "-m", "bench.transcribe_chunk"]
            subprocess.run([*module, *one, "--threads", str(args.threads)], check=True)


if __name__ == "__main__":
    main()
