"""Summaries measured against what was decided: generated meetings (bench/meetings.py), scored.

    python -m bench.summary_eval [--only en_standup_5 ...] [--source audio|script]
                                 [--method llm|extractive] [--model local/...] [--label TEXT]
                                 [--save bench/results]

Each meeting's script knows every decision and action item spoken (its keys, owner, due date and
when it was said). `--source audio` (the default) synthesizes the meetings when needed and puts each
through an embedded stack as a user's upload, summary on, then reads summary.json and transcript.json
back from the API; `--source script` summarizes the script itself as a perfect transcript (no ASR,
no diarization: the summarizer alone). Per meeting, and pooled per language, it prints:
- decisions and action items: predicted, in the truth, matched; precision, recall (precision is 1
  when nothing is predicted, recall 1 when the truth has none: the raw counts are beside them);
- owner right (of the matched actions with an owner) and due right (of those with a due date);
- invented: items predicted on a meeting where none were decided or assigned;
- violations: what services.summarize.sanity.check finds wrong with the summary;
- the method, model and strategy that produced the summary, and the wall time.

A predicted item matches a truth item of its kind when it was said within 30 s of the truth's sentence
(if it says when) and its text mentions at least half of the truth's keys (case, accents, plurals and
French elisions folded); each truth item matches at most one prediction, best coverage first.
The JSON (per-meeting matches, unmatched predictions, missed items) and a Markdown table go to
<save>/<date>-summary-<label>.json and .md (bench/out by default).

Before and after a change, on the same transcripts: `--keep DIR` writes each meeting's transcript (from
audio), truth and summary; `--source saved --saved DIR` summarizes those transcripts again with the code
of the tree it runs in (an older commit's worktree, say), and `--source summaries --saved DIR` scores
summaries kept by any tree with this tree's scorer and sanity rules (no model run):

    python -m bench.summary_eval --keep bench/out/meetings-after --label audio-llm
    (cd ../old && python -m bench.summary_eval --source saved --saved ../main/bench/out/meetings-after \
        --keep /tmp/old-summaries)        # bench/ copied into the old worktree first
    python -m bench.summary_eval --source summaries --saved /tmp/old-summaries --label audio-llm-before

`--set heldout` runs the meetings whose phrasings the summarizer was never tuned on (bench/meetings.py).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import meetings
from contracts.artifacts import Summary, Transcript

log = logging.getLogger(__name__)
WINDOW_S = 30.0
KINDS = (("decision", "decisions"), ("action", "actions"))
DUE_STOPWORDS = frozenset(
    "by before the of until on at in this a ici avant la le du de des au pour en".split()
)
_DETERMINERS = re.compile(r"^(?:(?:the|our|notre|les|le|la)\s+|l')")
_ELIDED = re.compile(r"^(?:l|d|j|qu|n|s|c|m|t)'")


def fold(text: str) -> str:
    """Casefolded, accents removed, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Words of a text, folded, French elisions dropped ("l'équipe" -> "equipe"), plurals made singular."""
    out = []
    for raw in re.findall(r"[a-z0-9']+", fold(text)):
        for word in _ELIDED.sub("", raw).split("'"):
            if len(word) > 3 and word.endswith("aux"):
                word = word[:-3] + "al"
            elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
                word = word[:-1]
            if word:
                out.append(word)
    return out


def coverage(keys: Sequence[str], text: str) -> float:
    """The share of the keys the text mentions."""
    said = set(tokens(text))
    wanted = [tokens(k)[0] for k in keys if tokens(k)]
    return sum(k in said for k in wanted) / max(len(wanted), 1)


def owner_name(owner: str) -> str:
    """An owner as compared: folded, leading article or determiner left out."""
    return _DETERMINERS.sub("", fold(" ".join(owner.split())).strip(" .,:;")).strip()


def due_right(predicted: str | None, truth: str) -> bool:
    """Every content word of the truth's due phrase is in the predicted one."""
    said = set(tokens(predicted or ""))
    return all(w in said for w in tokens(truth) if w not in DUE_STOPWORDS)


def speaker_labels(truth: dict[str, Any], transcript: Transcript | None) -> dict[str, str]:
    """Each script speaker (S1...) -> the transcript's label that overlaps its sentences the most."""
    if transcript is None:
        return {}
    sentences = sorted(truth["sentences"], key=lambda s: s["start"])
    starts = [s["start"] for s in sentences]
    overlap: dict[tuple[str, str], float] = {}
    for segment in transcript.segments:
        if segment.speaker is None:
            continue
        first = max(bisect.bisect_right(starts, segment.start) - 1, 0)
        for sentence in sentences[first : bisect.bisect_left(starts, segment.end)]:
            shared = min(segment.end, sentence["end"]) - max(segment.start, sentence["start"])
            if shared > 0:
                key = (sentence["speaker"], segment.speaker)
                overlap[key] = overlap.get(key, 0.0) + shared
    best: dict[str, tuple[float, str]] = {}
    for (script_speaker, label), seconds in overlap.items():
        if seconds > best.get(script_speaker, (0.0, ""))[0]:
            best[script_speaker] = (seconds, label)
    return {speaker: label for speaker, (_, label) in best.items()}


def _predictions(summary: Summary, kind: str) -> list[dict[str, Any]]:
    if kind == "decision":
        return [{"text": d.text, "at_s": d.at_s} for d in summary.decisions]
    return [{"text": a.text, "at_s": a.at_s, "owner": a.owner, "due": a.due} for a in summary.action_items]


def match(preds: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[tuple[int, int, float]]:
    """(pred, truth, coverage) pairs: near enough in time, half the keys or more, greedy one to one."""
    candidates = []
    for p, pred in enumerate(preds):
        for t, item in enumerate(items):
            at = pred.get("at_s")
            if at is not None and not item["start"] - WINDOW_S <= at <= item["end"] + WINDOW_S:
                continue
            covered = coverage(item["keys"], pred["text"])
            if covered >= 0.5:
                distance = abs(at - item["start"]) if at is not None else 0.0
                candidates.append((-covered, distance, p, t))
    pairs, used_p, used_t = [], set(), set()
    for negative, _, p, t in sorted(candidates):
        if p not in used_p and t not in used_t:
            pairs.append((p, t, -negative))
            used_p.add(p)
            used_t.add(t)
    return sorted(pairs, key=lambda pair: pair[1])


def rates(predicted: int, truth: int, matched: int) -> dict[str, Any]:
    """Counts with precision, recall and F1 (P is 1 with nothing predicted, R 1 with nothing to find)."""
    precision = matched / predicted if predicted else 1.0
    recall = matched / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "predicted": predicted,
        "truth": truth,
        "matched": matched,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
    }


def score(summary: Summary, truth: dict[str, Any], transcript: Transcript | None = None) -> dict[str, Any]:
    """A summary's decisions and action items against the meeting's truth."""
    labels = speaker_labels(truth, transcript)
    result: dict[str, Any] = {"matches": [], "unmatched": [], "missed": []}
    for kind, plural in KINDS:
        preds = _predictions(summary, kind)
        items = [i for i in truth["items"] if i["kind"] == kind]
        pairs = match(preds, items)
        result[plural] = rates(len(preds), len(items), len(pairs))
        for p, t, covered in pairs:
            result["matches"].append(_judged(kind, preds[p], items[t], covered, labels))
        matched_p, matched_t = {p for p, _, _ in pairs}, {t for _, t, _ in pairs}
        result["unmatched"] += [{"kind": kind, **preds[p]} for p in range(len(preds)) if p not in matched_p]
        result["missed"] += [_brief(items[t]) for t in range(len(items)) if t not in matched_t]
    actions = [m for m in result["matches"] if m["kind"] == "action"]
    owned = [m for m in actions if m["owner_right"] is not None]
    dated = [m for m in actions if m["due_right"] is not None]
    result["owner"] = {"right": sum(m["owner_right"] for m in owned), "of": len(owned)}
    result["due"] = {"right": sum(m["due_right"] for m in dated), "of": len(dated)}
    predicted = len(summary.decisions) + len(summary.action_items)
    result["invented"] = predicted if not truth["items"] else None
    result["speaker_labels"] = labels
    result["violations"] = sanity_violations(summary, transcript) if transcript is not None else None
    return result


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("kind", "text", "keys", "owner", "due", "start", "end")
    return {k: item[k] for k in keep}


def _judged(
    kind: str, pred: dict[str, Any], item: dict[str, Any], covered: float, labels: dict[str, str]
) -> dict[str, Any]:
    judged: dict[str, Any] = {
        "kind": kind,
        "pred": pred,
        "truth": _brief(item),
        "coverage": round(covered, 2),
    }
    owner_right = due_ok = None
    if kind == "action" and item["owner"]:
        said = pred.get("owner") or ""
        label = labels.get(item["owner_speaker"] or "")
        owner_right = bool(said) and (
            owner_name(said) == owner_name(item["owner"]) or (label is not None and said.strip() == label)
        )
    if kind == "action" and item["due"]:
        due_ok = due_right(pred.get("due"), item["due"])
    return {**judged, "owner_right": owner_right, "due_right": due_ok}


def sanity_violations(summary: Summary, transcript: Transcript) -> list[dict[str, str]] | None:
    """services.summarize.sanity.check's findings; None where that module does not exist yet."""
    try:
        from services.summarize.sanity import check
    except ImportError:
        return None
    return [{"rule": v.rule, "detail": v.detail} for v in check(summary, transcript)]


def pooled(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per language: the counts summed over its meetings, and the rates of those sums."""
    out: dict[str, dict[str, Any]] = {}
    for language in sorted({r["language"] for r in rows}):
        mine = [r["scores"] for r in rows if r["language"] == language and r.get("scores")]
        entry: dict[str, Any] = {"meetings": len(mine)}
        for _, plural in KINDS:
            counts = [sum(s[plural][k] for s in mine) for k in ("predicted", "truth", "matched")]
            entry[plural] = rates(*counts)
        for name in ("owner", "due"):
            entry[name] = {k: sum(s[name][k] for s in mine) for k in ("right", "of")}
        entry["invented"] = sum(s["invented"] or 0 for s in mine)
        checked = [s["violations"] for s in mine if s["violations"] is not None]
        entry["violations"] = sum(len(v) for v in checked) if checked else None
        out[language] = entry
    return out


# --- running the meetings ---------------------------------------------------------------------------


def produced_by(summary: Summary, settings: Any) -> dict[str, Any]:
    """What made the summary: method and model from summary.json, and the strategy where one applies."""
    strategy = getattr(summary, "strategy", None)
    if strategy is None and summary.method == "llm":
        strategy = settings.strategy
        if strategy == "auto":
            strategy = "salient" if (summary.model or "").startswith("local/") else "map_reduce"
    return {"method": summary.method, "model": summary.model, "strategy": strategy, "note": summary.note}


def _row(spec: meetings.MeetingSpec, truth: dict[str, Any], summary: Summary, transcript: Transcript,
         wall_s: float, settings: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "name": spec.name,
        "language": spec.language,
        "minutes": spec.minutes,
        "duration_s": truth["duration_s"],
        "truth_items": {"decisions": spec.n_decisions, "actions": spec.n_actions},
        "summary": produced_by(summary, settings),
        "wall_s": round(wall_s, 1),
        "scores": score(summary, truth, transcript),
    }


async def run_script(
    specs: list[meetings.MeetingSpec],
    method: str,
    model: str | None,
    keep: Path | None = None,
    saved: Path | None = None,
) -> list[dict[str, Any]]:
    """Each meeting's script summarized directly, as a perfect transcript (or the transcript in `saved`)."""
    from services.summarize.config import SummarizeSettings
    from services.summarize.handler import SummarizeHandler

    settings = SummarizeSettings(model=model) if model else SummarizeSettings()
    handler = SummarizeHandler(settings)
    rows = []
    try:
        if method == "llm" and settings.model.startswith("local/"):
            async with handler.local.use(settings.model):  # start the server outside the timed part
                pass
        for spec in specs:
            truth = meetings.plan(spec) if saved is None else _saved_truth(saved, spec)
            transcript = meetings.script_transcript(truth) if saved is None else _saved(saved, spec)[0]
            started = time.perf_counter()
            summary = await handler.summarize(transcript, method, model)
            _keep(keep, spec, transcript if saved else None, summary)
            rows.append(_row(spec, truth, summary, transcript, time.perf_counter() - started, settings))
            log.info("%s: %s", spec.name, _line(rows[-1]))
    finally:
        handler.close()
    return rows


def run_saved(specs: list[meetings.MeetingSpec], saved: Path) -> list[dict[str, Any]]:
    """Summaries another run kept (`--keep`), scored here: by this tree's rules, with no model run."""
    from services.summarize.config import SummarizeSettings

    rows = []
    for spec in specs:
        transcript, summary = _saved(saved, spec)
        assert summary is not None, f"no {spec.name}.summary.json in {saved}"
        rows.append(_row(spec, _saved_truth(saved, spec), summary, transcript, 0.0, SummarizeSettings()))
    return rows


def _saved_truth(saved: Path, spec: meetings.MeetingSpec) -> dict[str, Any]:
    """The truth a kept transcript was scored against: the synthesized audio's, else the plan's."""
    path = saved / f"{spec.name}.truth.json"
    return json.loads(path.read_text()) if path.exists() else meetings.plan(spec)


def _saved(saved: Path, spec: meetings.MeetingSpec) -> tuple[Transcript, Summary | None]:
    from contracts.artifacts import decode_summary as summary_from_json
    from contracts.artifacts import decode_transcript as transcript_from_json

    path = saved / f"{spec.name}.transcript.json"
    transcript = (
        transcript_from_json(path.read_bytes())
        if path.exists()
        else meetings.script_transcript(_saved_truth(saved, spec))
    )
    summary_path = saved / f"{spec.name}.summary.json"
    summary = summary_from_json(summary_path.read_bytes()) if summary_path.exists() else None
    return transcript, summary


def _keep(
    keep: Path | None,
    spec: meetings.MeetingSpec,
    transcript: Transcript | None,
    summary: Summary,
    truth: dict[str, Any] | None = None,
) -> None:
    """The transcript (audio runs), the truth it is scored against and the summary, for a later run."""
    if keep is None:
        return
    from exports.summary import to_json as summary_to_json
    from exports.transcript import to_json as transcript_to_json

    keep.mkdir(parents=True, exist_ok=True)
    if transcript is not None:
        (keep / f"{spec.name}.transcript.json").write_bytes(transcript_to_json(transcript))
    if truth is not None:
        (keep / f"{spec.name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False))
    (keep / f"{spec.name}.summary.json").write_bytes(summary_to_json(summary))


def run_audio(
    specs: list[meetings.MeetingSpec], method: str, model: str | None, keep: Path | None = None
) -> list[dict[str, Any]]:
    """Each meeting synthesized (when needed) and put through an embedded stack, one job at a time."""
    import httpx

    from bench.realspeech import wait_ended
    from cli.stack import LocalStack
    from contracts.artifacts import decode_summary as summary_from_json
    from contracts.artifacts import decode_transcript as transcript_from_json
    from services.summarize.config import SummarizeSettings

    settings = SummarizeSettings(model=model) if model else SummarizeSettings()
    truths = [meetings.synthesize(spec) for spec in specs]
    options = {"summary_method": method, **({"summary_model": model} if model else {})}
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="aodio-summary-eval-") as data,
        LocalStack(Path(data), api_port=0) as stack,
        httpx.Client(base_url=stack.api_url, timeout=120) as client,
    ):
        for spec, truth in zip(specs, truths, strict=True):
            mp3, _ = meetings.audio_paths(spec)
            started = time.monotonic()
            with mp3.open("rb") as handle:
                reply = client.post(
                    "/v1/jobs", files={"file": (mp3.name, handle)}, data={"options": json.dumps(options)}
                )
            reply.raise_for_status()
            job_id = reply.json()["job_id"]
            job = wait_ended(client, [job_id], timeout_s=3 * 3600).get(job_id) or {}
            wall_s = time.monotonic() - started
            if job.get("status") != "completed":
                ended = {"status": job.get("status"), "error": job.get("error"), "wall_s": round(wall_s, 1)}
                rows.append({"name": spec.name, "language": spec.language, "minutes": spec.minutes, **ended})
                log.warning("%s: job %s ended %s: %s", spec.name, job_id, job.get("status"), job.get("error"))
                continue
            summary = summary_from_json(client.get(f"/v1/jobs/{job_id}/summary").content)
            transcript = transcript_from_json(client.get(f"/v1/jobs/{job_id}/transcript").content)
            _keep(keep, spec, transcript, summary, truth)
            row = _row(spec, truth, summary, transcript, wall_s, settings)
            row["stages_wall_s"] = {k: v.get("wall_s") for k, v in (job.get("stages") or {}).items()}
            row["speakers_found"] = len(transcript.speakers)
            rows.append(row)
            log.info("%s: %s", spec.name, _line(row))
    return rows


# --- the report -------------------------------------------------------------------------------------


def _pr(counts: dict[str, Any]) -> str:
    return (
        f"{counts['precision']:.2f}/{counts['recall']:.2f} "
        f"({counts['matched']}/{counts['predicted']}/{counts['truth']})"
    )


def _of(counts: dict[str, int]) -> str:
    return f"{counts['right']}/{counts['of']}" if counts["of"] else "-"


def _count(value: Any) -> str:
    return "-" if value is None else str(len(value) if isinstance(value, list) else value)


def _line(row: dict[str, Any]) -> str:
    s = row["scores"]
    return (
        f"decisions {_pr(s['decisions'])}, actions {_pr(s['actions'])}, owner {_of(s['owner'])}, "
        f"due {_of(s['due'])}, invented {_count(s['invented'])}, {row['wall_s']} s"
    )


MEETING_COLUMNS = (
    "meeting", "lang", "audio", "decisions P/R (matched/pred/truth)", "actions P/R (matched/pred/truth)",
    "owner", "due", "invented", "violations", "produced by", "wall s",
)  # fmt: skip
POOLED_COLUMNS = (
    "language",
    "meetings",
    "decisions P/R",
    "actions P/R",
    "owner",
    "due",
    "invented",
    "violations",
)


def _table(columns: Sequence[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _by(summary: dict[str, Any]) -> str:
    extra = ", ".join(str(x) for x in (summary["model"], summary["strategy"]) if x)
    return summary["method"] + (f" ({extra})" if extra else "") + (" [note]" if summary.get("note") else "")


def markdown(report: dict[str, Any]) -> str:
    """The per-meeting table and the per-language pooled table."""
    head = (
        f"Summary eval {report['date']} ({report['commit']}): source {report['source']}, "
        f"method asked {report['method']}, model {report['model'] or 'default'}"
    )
    rows = []
    for r in report["meetings"]:
        minutes = f"{r['duration_s'] / 60:.1f} min" if "duration_s" in r else f"{r['minutes']} min"
        if "scores" not in r:
            rows.append([r["name"], r["language"], minutes, f"job {r.get('status')}: {r.get('error')}"]
                        + [""] * 6 + [str(r["wall_s"])])  # fmt: skip
            continue
        s = r["scores"]
        rows.append(
            [
                r["name"],
                r["language"],
                minutes,
                _pr(s["decisions"]),
                _pr(s["actions"]),
                _of(s["owner"]),
                _of(s["due"]),
                _count(s["invented"]),
                _count(s["violations"]),
                _by(r["summary"]),
                str(r["wall_s"]),
            ]
        )
    pooled_rows = [
        [language, str(p["meetings"]), _pr(p["decisions"]), _pr(p["actions"]), _of(p["owner"]), _of(p["due"]),
         str(p["invented"]), _count(p["violations"])]
        for language, p in report["pooled"].items()
    ]  # fmt: skip
    lines = [head, "", *_table(MEETING_COLUMNS, rows), "", *_table(POOLED_COLUMNS, pooled_rows)]
    if report.get("notes"):
        lines += ["", *(f"- {note}" for note in report["notes"])]
    return "\n".join(lines) + "\n"


def _git() -> tuple[str, list[str]]:
    """HEAD's short hash (+dirty) and the files changed in the working tree, which the run used too."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        status = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown", []
    changed = [line[3:] for line in status.stdout.splitlines() if line[3:].endswith(".py")]
    return head.stdout.strip() + ("+dirty" if changed else ""), changed


def main(argv: list[str] | None = None) -> int:
    """Run the chosen meetings, print the tables, save the JSON and Markdown."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per poll of the job
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sets: dict[str, dict[str, meetings.MeetingSpec]] = getattr(meetings, "SETS", {"main": meetings.MEETINGS})
    every = {name: spec for specs in sets.values() for name, spec in specs.items()}
    parser.add_argument("--set", choices=sorted(sets), default="main", help="which meetings (default: main)")
    parser.add_argument("--only", nargs="+", choices=sorted(every), help="meetings (default: the set's)")
    parser.add_argument(
        "--source",
        choices=("audio", "script", "saved", "summaries"),
        default="audio",
        help="saved: summarize the transcripts an audio run kept in --saved DIR (with this tree's code); "
        "summaries: score the summaries kept in --saved DIR, no model run",
    )
    parser.add_argument("--saved", type=Path, help="a folder --keep wrote (for --source saved|summaries)")
    parser.add_argument("--keep", type=Path, help="write each transcript (audio), truth and summary here")
    parser.add_argument("--method", choices=("llm", "extractive"), default="llm")
    parser.add_argument("--model", default=None, help="summary model (default: the deployment's)")
    parser.add_argument("--label", default="", help="a word for the report's file name")
    parser.add_argument("--save", type=Path, default=Path("bench/out"))
    args = parser.parse_args(argv)
    specs = [every[name] for name in args.only or sets[args.set]]
    if args.source in ("saved", "summaries") and args.saved is None:
        parser.error(f"--source {args.source} needs --saved DIR")
    commit, changed = _git()  # at the start: what the services run is the working tree of now
    started = time.monotonic()
    if args.source in ("script", "saved"):
        saved = args.saved if args.source == "saved" else None
        rows = asyncio.run(run_script(specs, args.method, args.model, args.keep, saved))
    elif args.source == "summaries":
        rows = run_saved(specs, args.saved)
    else:
        rows = run_audio(specs, args.method, args.model, args.keep)
    notes = []
    if any(r.get("scores") and r["scores"]["violations"] is None for r in rows):
        notes.append("services.summarize.sanity is not there yet: violations not counted")
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "changed_files": changed,
        "source": args.source,
        "set": args.set,
        "saved": str(args.saved) if args.saved else None,
        "method": args.method,
        "model": args.model,
        "label": args.label,
        "settings": {k: v for k, v in sorted(os.environ.items()) if k.startswith("AODIO_")},
        "match": {"window_s": WINDOW_S, "min_key_coverage": 0.5},
        "wall_s": round(time.monotonic() - started, 1),
        "meetings": rows,
        "pooled": pooled([r for r in rows if "scores" in r]),
        "notes": notes,
    }
    table = markdown(report)
    print(table)
    args.save.mkdir(parents=True, exist_ok=True)
    stem = args.save / f"{report['date']}-summary-{args.label or f'{args.source}-{args.method}'}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    stem.with_suffix(".md").write_text(table)
    print(f"saved {stem}.json and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
