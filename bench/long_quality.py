"""WER and DER of a transcript of the generated 4 h 15 recording, against what was generated.

    python -m bench.long_quality [bench/out/last-transcript.json] [--truth bench/audio/long_4h15]

`python -m bench.run` keeps the run's transcript in bench/out/last-transcript.json; the truth is the
JSON (turns and the words espeak-ng spoke) and RTTM that bench/generate_long.py wrote beside the MP3.
WER is taken over windows of --window seconds (each turn or segment in the window of its midpoint),
since one edit distance over 37,000 words is too slow here; DER is of the transcript's segments
against the RTTM, over the whole recording, no collar. Numbers only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

from bench.word_errors import edit_counts
from services.diarize.scoring import der, read_rttm

WINDOW_S = 300.0


def windowed(items: Iterable[tuple[float, float, str]], window_s: float) -> dict[int, str]:
    """The texts of each window, by the midpoint of each item."""
    out: dict[int, list[str]] = {}
    for start, end, text in items:
        out.setdefault(int((start + end) / 2 // window_s), []).append(text)
    return {k: " ".join(v) for k, v in out.items()}


def score(transcript: dict, truth: dict, rttm: Path, window_s: float = WINDOW_S) -> dict[str, float | int]:
    ref = windowed(((t["start"], t["end"], t["text"]) for t in truth["turns"]), window_s)
    hyp = windowed(((s["start"], s["end"], s["text"]) for s in transcript["segments"]), window_s)
    words = errors = deletions = 0
    for k in sorted(set(ref) | set(hyp)):
        counts = edit_counts(ref.get(k, ""), hyp.get(k, ""))
        words, errors, deletions = (
            words + counts.reference,
            errors + counts.errors,
            deletions + counts.deletions,
        )
    found = [(s["start"], s["end"], s["speaker"]) for s in transcript["segments"]]
    return {
        "wer": round(errors / max(words, 1), 4),
        "deletions": round(deletions / max(words, 1), 4),
        "reference_words": words,
        "der_segments": round(der(read_rttm(rttm), found, float(truth["duration_s"])), 4),
        "speakers_found": len(transcript["speakers"]),
        "speakers_true": len(truth["voices"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("transcript", nargs="?", type=Path, default=Path("bench/out/last-transcript.json"))
    parser.add_argument(
        "--truth", type=Path, default=Path("bench/audio/long_4h15"), help="path without suffix"
    )
    parser.add_argument("--window", type=float, default=WINDOW_S)
    args = parser.parse_args()
    transcript = json.loads(args.transcript.read_text())
    truth = json.loads(args.truth.with_suffix(".json").read_text())
    print(json.dumps(score(transcript, truth, args.truth.with_suffix(".rttm"), args.window)))


if __name__ == "__main__":
    main()
