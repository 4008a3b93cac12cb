"""Measure the summary of a long recording: time, the llama.cpp server's peak memory, and late recall.

The transcript is made from the generated recording's ground truth (bench/audio/long_4h15.json: every
turn's speaker, start, end and text), so no Whisper run is needed. Recall: a sentence the recording
marks as a decision or action ("That is the decision then.", "Let's write that down as an action
item." right after it) is a ground-truth item; it counts as recalled when a decision or action item of
the summary names the same owner and the same subject ("Maria" and "release checklist"). Reported for
the last quarter of the recording and for all of it, by distinct (owner, subject) pair.

    .venv/bin/python -m bench.summarize_long [--method llm|extractive] [--model local/...]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench.generate_long import WORDS
from contracts.artifacts import Segment, Summary, Transcript, Word
from exports.summary import to_markdown
from services.summarize.config import SummarizeSettings
from services.summarize.handler import SummarizeHandler
from services.summarize.llm import _litellm

_SENTENCES = re.compile(r"(?<=[.!?])\s+")
MARKERS = {
    "en": ("Let's write that down as an action item.", "That is the decision then."),
    "fr": ("Notons-le comme action.", "C'est donc décidé."),
}


def transcript_from_truth(truth: dict[str, Any]) -> Transcript:
    """A transcript with one segment per ground-truth turn, its words spread evenly over the turn."""
    segments = []
    for turn in truth["turns"]:
        tokens = turn["text"].split()
        step = (turn["end"] - turn["start"]) / max(len(tokens), 1)
        words = [
            Word(turn["start"] + i * step, turn["start"] + (i + 1) * step, " " + token, 1.0, turn["speaker"])
            for i, token in enumerate(tokens)
        ]
        segments.append(Segment(turn["start"], turn["end"], turn["speaker"], turn["text"], words))
    speakers = list(dict.fromkeys(t["speaker"] for t in truth["turns"]))
    return Transcript(
        truth["language"], float(truth["duration_s"]), speakers, segments, {"transcribe": "truth"}
    )


def marked_items(truth: dict[str, Any]) -> list[tuple[float, str, str]]:
    """(start, owner, subject) of every sentence a marker points at."""
    language = truth["language"]
    words = WORDS[language]
    items = []
    for turn in truth["turns"]:
        sentences = _SENTENCES.split(turn["text"])
        for before, after in itertools.pairwise(sentences):
            if after.strip() in MARKERS[language]:
                owner = next((w for w in words["who"] if before.lower().startswith(w.lower())), None)
                subject = next((w for w in words["what"] if w.lower() in before.lower()), None)
                if owner and subject:
                    items.append((turn["start"], owner.lower(), subject.lower()))
    return items


def recall(summary: Summary, items: list[tuple[float, str, str]], since_s: float) -> tuple[int, int]:
    """(recalled, total) distinct (owner, subject) pairs of the items said at or after since_s."""
    texts = [d.text.lower() for d in summary.decisions]
    texts += [f"{a.owner or ''} {a.text}".lower() for a in summary.action_items]
    pairs = {(o, s) for t, o, s in items if t >= since_s}
    found = {(o, s) for o, s in pairs if any(o in text and s in text for text in texts)}
    return len(found), len(pairs)


async def run(args: argparse.Namespace, truth: dict[str, Any]) -> tuple[Summary, dict[str, Any]]:
    transcript = transcript_from_truth(truth)
    settings = SummarizeSettings(**({"model": args.model} if args.model else {}))
    handler = SummarizeHandler(settings)
    try:
        if args.method == "llm" and settings.model.startswith("local/"):
            started = time.perf_counter()
            async with handler.local.use(settings.model):  # start the server outside the timed part
                pass
            _litellm()  # imported once per service process, not per job
            server_start_s = time.perf_counter() - started
        else:
            server_start_s = None
        started = time.perf_counter()
        summary = await handler.summarize(transcript, args.method)
        elapsed = time.perf_counter() - started
        servers = list(handler.local._servers.values())
        peak = servers[0].peak_rss_bytes() if servers else None
    finally:
        handler.close()
    items = marked_items(truth)
    late_from = 0.75 * transcript.duration_s
    late = recall(summary, items, late_from)
    whole = recall(summary, items, 0.0)
    timed = [d.at_s for d in summary.decisions] + [a.at_s for a in summary.action_items]
    timed_s = [t for t in timed if t is not None]
    return summary, {
        "words": sum(len(s.words) for s in transcript.segments),
        "duration_s": transcript.duration_s,
        "method": summary.method,
        "model": summary.model,
        "note": summary.note,
        "server_start_s": server_start_s,
        "summary_s": round(elapsed, 1),
        "server_peak_rss_mib": round(peak / 2**20) if peak else None,
        "late_recall": f"{late[0]}/{late[1]}",
        "whole_recall": f"{whole[0]}/{whole[1]}",
        "items_in_last_quarter": f"{sum(t >= late_from for t in timed_s)}/{len(timed)}",
        "decisions": len(summary.decisions),
        "action_items": len(summary.action_items),
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", default="bench/audio/long_4h15.json")
    parser.add_argument("--method", choices=("llm", "extractive"), default="llm")
    parser.add_argument("--model", default=None)
    parser.add_argument("--markdown", default=None, help="also write summary.md here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` still stops the llama server
    summary, result = asyncio.run(run(args, json.loads(Path(args.truth).read_text())))
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(summary))
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
