"""Quality on real speech: every recording of ../shared/realspeech through the real pipeline, scored.

    python -m bench.realspeech [--root ../shared/realspeech] [--direct] [--only ami-clips sppas-fr]
                               [--save bench/out] [--option key=value ...]

The folder holds real recordings with human references (read its MANIFEST.md); it is read here at
run time and never copied into the repository. Without it this prints why and exits 0.

Each file goes through an embedded stack (`aodio up`'s services, `summary_method` none) as a user's
upload would. Per file, and pooled per language, it prints:
- WER against the human transcript, and the share of reference words missing from the transcript
  (deletions of the minimum edit alignment, ties counted as substitutions);
- agreement with a large Whisper model's output where only that exists (`*.model-output.txt`):
  a guide, never a reference, so it is kept apart and never pooled with the WER;
- DER of the speaker turns (turns.json) and of the transcript's speaker segments against each RTTM,
  no collar, overlap scored; speakers found against the reference;
- the files whose transcript is empty, words invented on recordings without speech, and what the
  job state says the guards re-decoded, collapsed or dropped.

--direct also scores faster-whisper called directly on each file (sequential `transcribe`, VAD on,
the stage's beam, temperature fallback): the same model without Aodio around it.
AODIO_* settings in the environment reach the stack's services, so a setting is measured by
setting it for one run. The JSON goes to bench/out/realspeech-*.json with a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.word_errors import EditCounts, edit_counts, normalize_words
from cli.stack import LocalStack
from services.diarize.scoring import der, read_rttm

DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "realspeech"
AUDIO = (".wav", ".mp3", ".flac")
LANGUAGE_OF_FOLDER = {
    "ami-clips": "en",
    "en-misc": "en",
    "sppas-fr": "fr",
    "fr-misc": "fr",
    "no-speech": None,
}
_QUOTED = re.compile(r'"[^"]*"')
_MARKUP = re.compile(r"[\[(*][^\])*]*[\])*]")  # [laughter], (rires), *laughs*: marks, not words


@dataclass(frozen=True)
class Recording:
    path: Path
    folder: str
    language: str | None  # what is spoken (None: no speech)
    reference: str | None  # human transcript
    guide: str | None  # a large model's output: not human
    rttm: Path | None


def catalogue(root: Path, only: list[str] | None) -> list[Recording]:
    """Every audio file under root's folders, with whatever ground truth lies beside it."""
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if only and folder.name not in only:
            continue
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO):
            text = path.with_suffix(".txt")
            guide = path.parent / f"{path.name}.model-output.txt"
            rttm = path.with_suffix(".rttm")
            found.append(
                Recording(
                    path=path,
                    folder=folder.name,
                    language=LANGUAGE_OF_FOLDER.get(folder.name, "en"),
                    reference=text.read_text().strip() if text.exists() else None,
                    guide=guide.read_text().strip() if guide.exists() else None,
                    rttm=rttm if rttm.exists() else None,
                )
            )
    return found


def submit(client: httpx.Client, recording: Recording, options: dict[str, Any]) -> str:
    with recording.path.open("rb") as handle:
        reply = client.post(
            "/v1/jobs",
            files={"file": (recording.path.name, handle)},
            data={"options": json.dumps({"summary_method": "none", **options})},
        )
    reply.raise_for_status()
    job_id: str = reply.json()["job_id"]
    return job_id


def wait_ended(
    client: httpx.Client, job_ids: list[str], timeout_s: float = 3600
) -> dict[str, dict[str, Any]]:
    """The final state of every job (completed or failed)."""
    ended: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    while len(ended) < len(job_ids) and time.monotonic() < deadline:
        for job_id in job_ids:
            if job_id in ended:
                continue
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("completed", "failed"):
                ended[job_id] = job
        time.sleep(0.5)
    return ended


def spoken_words(text: str) -> list[str]:
    """The words of a transcript, laughter and noise marks left out."""
    return normalize_words(_MARKUP.sub(" ", text))


def word_scores(recording: Recording, words: list[str]) -> dict[str, Any]:
    """Invented words (no speech), WER and missing words (a human text), agreement with a guide."""
    scores: dict[str, Any] = {}
    if recording.language is None:
        scores["invented_words"] = len(words)
    if recording.reference is not None:
        scores["counts"] = edit_counts(spoken_words(recording.reference), words)._asdict()
        scores.update(rates(EditCounts(**scores["counts"])))
    if recording.guide is not None:
        scores["guide_wer"] = round(rates(edit_counts(spoken_words(recording.guide), words))["wer"], 3)
    return scores


def score_file(
    recording: Recording, job: dict[str, Any], transcript: dict[str, Any] | None, turns: Any
) -> dict[str, Any]:
    """One file's figures from its finished job."""
    segments = (transcript or {}).get("segments") or []
    text = " ".join(s["text"] for s in segments)
    words = spoken_words(text)
    row: dict[str, Any] = {
        "file": f"{recording.folder}/{recording.path.name}",
        "spoken": recording.language,
        "status": job.get("status"),
        "error": job.get("error"),
        "language": job.get("language") or (transcript or {}).get("language"),
        "duration_s": job.get("duration_s"),
        "words": len(words),
        "empty": recording.language is not None and not words,
        "transcription": job.get("transcription"),
        "warnings": [w.get("message") for w in job.get("warnings") or []],
        "text": text,
        "segments": segments,  # bench/out only: --keep writes the figures without what was said
    }
    row.update(word_scores(recording, words))
    if recording.rttm is not None:
        truth = read_rttm(recording.rttm)
        until = float(job.get("duration_s") or max(t[1] for t in truth))
        found = [
            (float(t["start"]), float(t["end"]), str(t["speaker"])) for t in (turns or {}).get("turns", [])
        ]
        by_segment = [
            (float(s["start"]), float(s["end"]), str(s["speaker"])) for s in segments if s.get("speaker")
        ]
        row["der_turns"] = round(der(truth, found, until), 4)
        row["der_segments"] = round(der(truth, by_segment, until), 4)
        row["speakers_reference"] = len({t[2] for t in truth})
        row["speakers_found"] = len({t[2] for t in found})
    return row


def figures_only(row: dict[str, Any]) -> dict[str, Any]:
    """A file's row without the transcript's text (nor the words warnings quote)."""
    kept = {k: v for k, v in row.items() if k not in ("text", "segments")}
    kept["warnings"] = [_QUOTED.sub('"…"', w or "") for w in row.get("warnings") or []]
    return kept


def rates(counts: EditCounts) -> dict[str, float]:
    reference = max(counts.reference, 1)
    return {"wer": round(counts.errors / reference, 4), "missing": round(counts.deletions / reference, 4)}


def pooled(rows: list[dict[str, Any]], key: str = "counts") -> dict[str, Any]:
    """Per language: WER and missing share over all the reference words together; DER means."""
    out: dict[str, Any] = {}
    for language in sorted({r["spoken"] for r in rows if r["spoken"]}):
        mine = [r for r in rows if r["spoken"] == language]
        scored = [EditCounts(**r[key]) for r in mine if key in r]
        entry: dict[str, Any] = {"files": len(mine), "empty": sum(r.get("empty", False) for r in mine)}
        if scored:
            total = EditCounts(*(sum(c[i] for c in scored) for i in range(4)))
            entry.update(reference_words=total.reference, **rates(total))
        meetings = [r for r in mine if "der_turns" in r]
        if meetings:
            entry["der_turns_mean"] = round(sum(r["der_turns"] for r in meetings) / len(meetings), 4)
            entry["der_segments_mean"] = round(sum(r["der_segments"] for r in meetings) / len(meetings), 4)
            entry["right_speaker_count"] = (
                f"{sum(r['speakers_found'] == r['speakers_reference'] for r in meetings)}/{len(meetings)}"
            )
        out[language] = entry
    return out


def run_pipeline(recordings: list[Recording], options: dict[str, Any]) -> list[dict[str, Any]]:
    with (
        tempfile.TemporaryDirectory(prefix="aodio-realspeech-") as data,
        LocalStack(Path(data), api_port=0) as stack,
        httpx.Client(base_url=stack.api_url, timeout=120) as client,
    ):
        job_ids = [submit(client, r, options) for r in recordings]
        ended = wait_ended(client, job_ids)
        rows = []
        for recording, job_id in zip(recordings, job_ids, strict=True):
            job = ended.get(job_id) or client.get(f"/v1/jobs/{job_id}").json()
            transcript = turns = None
            if job["status"] == "completed":
                transcript = client.get(f"/v1/jobs/{job_id}/transcript").json()
                if "diarization_turns" in job.get("outputs", {}):
                    turns = client.get(f"/v1/jobs/{job_id}/outputs/diarization_turns").json()
            rows.append(score_file(recording, job, transcript, turns))
    return rows


def run_direct(recordings: list[Recording]) -> list[dict[str, Any]]:
    """faster-whisper's own sequential transcribe on each file, for the same scores."""
    from services.transcribe.config import TranscribeSettings
    from services.transcribe.engine import EngineConfig, ModelCache, decode_audio

    settings = TranscribeSettings()
    model = ModelCache(
        EngineConfig(
            settings.device, settings.compute_type, settings.cpu_threads, settings.model_cache_dir, False
        )
    ).get(settings.model)
    rows = []
    for recording in recordings:
        audio = decode_audio(recording.path)
        segments, info = model.whisper.transcribe(audio, beam_size=settings.beam_size, vad_filter=True)
        text = " ".join(s.text for s in segments)
        words = spoken_words(text)
        row: dict[str, Any] = {
            "file": f"{recording.folder}/{recording.path.name}",
            "spoken": recording.language,
            "language": info.language,
            "words": len(words),
            "empty": recording.language is not None and not words,
        }
        rows.append({**row, **word_scores(recording, words)})
    return rows


FILE_COLUMNS = (
    "file",
    "lang",
    "words",
    "WER",
    "missing",
    "vs guide",
    "DER turns",
    "DER segments",
    "speakers",
    "notes",
)
POOLED_COLUMNS = (
    "language", "files", "empty", "reference words", "WER", "missing",
    "DER turns (mean)", "DER segments (mean)", "right speaker count",
)  # fmt: skip


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(report: dict[str, Any]) -> str:
    """The per-file table, the pooled table, and the direct model's pooled figures."""
    rows = []
    for r in report["files"]:
        speakers = f"{r['speakers_found']}/{r['speakers_reference']}" if "speakers_reference" in r else ""
        notes = ["EMPTY"] if r.get("empty") else []
        if r.get("invented_words"):
            notes.append(f"{r['invented_words']} invented words")
        if r.get("status") == "failed":
            notes.append(f"failed: {r.get('error')}")
        notes += r.get("warnings") or []
        rows.append(
            [r["file"], str(r.get("language")), str(r["words"])]
            + [_cell(r, k) for k in ("wer", "missing", "guide_wer", "der_turns", "der_segments")]
            + [speakers, "; ".join(notes)]
        )
    lines = [*_table(FILE_COLUMNS, rows), ""]
    pooled_rows = [
        [language, str(p["files"]), str(p["empty"]), str(p.get("reference_words", ""))]
        + [_cell(p, k) for k in ("wer", "missing", "der_turns_mean", "der_segments_mean")]
        + [str(p.get("right_speaker_count", ""))]
        for language, p in report["pooled"].items()
    ]
    lines += _table(POOLED_COLUMNS, pooled_rows)
    if report.get("direct"):
        lines += ["", "faster-whisper called directly (sequential, VAD, temperature fallback):", ""]
        direct_rows = [
            [
                language,
                str(p.get("reference_words", "")),
                _cell(p, "wer"),
                _cell(p, "missing"),
                str(p["empty"]),
            ]
            for language, p in report["direct_pooled"].items()
        ]
        lines += _table(("language", "reference words", "WER", "missing", "empty"), direct_rows)
    return "\n".join(lines) + "\n"


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--only", nargs="+", help="folders to run (default: all)")
    parser.add_argument("--direct", action="store_true", help="also score faster-whisper called directly")
    parser.add_argument("--option", action="append", default=[], help="a job option, key=value (JSON value)")
    parser.add_argument("--save", type=Path, default=Path("bench/out"))
    parser.add_argument("--label", default="", help="a word for the report's file name")
    parser.add_argument(
        "--keep", action="store_true", help="also write the figures, without what was said, to bench/results"
    )
    args = parser.parse_args()
    if not (args.root / "MANIFEST.md").exists():
        print(
            f"bench.realspeech: no real-speech folder at {args.root} (give --root): nothing measured",
            file=sys.stderr,
        )
        return
    options = {}
    for item in args.option:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    recordings = catalogue(args.root, args.only)
    started = time.monotonic()
    rows = run_pipeline(recordings, options)
    report: dict[str, Any] = {
        "root": str(args.root),
        "options": options,
        "settings": {k: v for k, v in sorted(__import__("os").environ.items()) if k.startswith("AODIO_")},
        "wall_s": round(time.monotonic() - started, 1),
        "files": rows,
        "pooled": pooled(rows),
    }
    if args.direct:
        report["direct"] = run_direct(recordings)
        report["direct_pooled"] = pooled(report["direct"])
    table = markdown(report)
    print(table)
    print(json.dumps({"pooled": report["pooled"], "direct_pooled": report.get("direct_pooled")}))
    args.save.mkdir(parents=True, exist_ok=True)
    stem = args.save / f"realspeech-{time.strftime('%Y%m%d-%H%M%S')}{'-' + args.label if args.label else ''}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    stem.with_suffix(".md").write_text(table)
    print(f"saved {stem}.json and .md", file=sys.stderr)
    if args.keep:  # what the recordings say stays out of the repository: figures and warnings only
        kept = (
            Path("bench/results")
            / f"{time.strftime('%Y-%m-%d')}-realspeech{'-' + args.label if args.label else ''}"
        )
        figures = {**report, "files": [figures_only(r) for r in rows]}
        figures.pop("direct", None)
        kept.with_suffix(".json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
        kept.with_suffix(".md").write_text(markdown({**figures, "direct": report.get("direct")}))
        print(f"kept {kept}.json and .md", file=sys.stderr)


if __name__ == "__main__":
    main()
