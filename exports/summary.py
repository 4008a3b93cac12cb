"""The summary's JSON and Markdown (headings in the summary's language), and speakers renamed in it."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from contracts.artifacts import ActionItem, Summary, encode

_LABELS = {
    "en": {
        "title": "Title",
        "overview": "Overview",
        "key_points": "Key points",
        "decisions": "Decisions",
        "action_items": "Action items",
        "chapters": "Chapters",
        "speakers": "Speakers",
        "owner": "owner",
        "due": "due",
        "method": "Produced by",
        "none": "No summary was requested for this job.",
        "untitled": "Summary",
        "made.extracted": "sentences of the transcript",
        "made.extracted+model": "picked from the transcript, worded by the model",
        "made.keywords": "keywords",
        "made.model": "the model",
    },
    "fr": {
        "title": "Titre",
        "overview": "Vue d'ensemble",
        "key_points": "Points clés",
        "decisions": "Décisions",
        "action_items": "Actions",
        "chapters": "Chapitres",
        "speakers": "Intervenants",
        "owner": "responsable",
        "due": "échéance",
        "method": "Produit par",
        "none": "Aucun résumé n'a été demandé pour cette tâche.",
        "untitled": "Résumé",
        "made.extracted": "phrases de la transcription",
        "made.extracted+model": "choisies dans la transcription, formulées par le modèle",
        "made.keywords": "mots-clés",
        "made.model": "le modèle",
    },
}


def to_json(summary: Summary) -> bytes:
    """summary.json bytes."""
    return encode(summary)


def labels(language: str | None) -> dict[str, str]:
    """Section headings in the summary's language (English for languages without a translation)."""
    return _LABELS.get(language or "en", _LABELS["en"])


def clock(seconds: float | None) -> str:
    """H:MM:SS, the way the transcript's timestamps read."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def to_markdown(summary: Summary) -> str:
    """summary.md: the same content for people, headings in the summary's language."""
    words = labels(summary.language)
    lines = [f"# {summary.title or words['untitled']}", ""]
    if summary.method == "none":
        return "\n".join([*lines, words["none"], ""])
    if summary.overview:
        lines += [f"## {words['overview']}", "", summary.overview, ""]
    sections: list[tuple[str, list[str]]] = [
        ("key_points", [f"- {point}" for point in summary.key_points]),
        ("decisions", [f"- {_at(d.at_s)}{d.text}" for d in summary.decisions]),
        ("action_items", [_action_line(a, words) for a in summary.action_items]),
        ("chapters", [f"- {clock(c.start_s)} {c.title}" for c in summary.chapters]),
        ("speakers", [f"- **{s.speaker}**{_share(s.share)}: {s.contribution}" for s in summary.speakers]),
    ]
    for name, items in sections:
        if items:
            lines += [f"## {words[name]}", "", *items, ""]
    produced = summary.method + (f" ({summary.model})" if summary.model else "")
    parts = [f"{words[n]}: {words['made.' + how]}" for n, how in summary.made_by.items() if n in words]
    produced += f"; {', '.join(parts)}" if parts else ""
    lines.append(f"_{words['method']}: {produced}._" + (f" _{summary.note}_" if summary.note else ""))
    return "\n".join(lines) + "\n"


def _at(at_s: float | None) -> str:
    return f"[{clock(at_s)}] " if at_s is not None else ""


def _share(share: float | None) -> str:
    return f" ({share:.0%})" if share is not None else ""


def _action_line(item: ActionItem, words: dict[str, str]) -> str:
    details = [
        f"{words['owner']}: {item.owner}" if item.owner else "",
        f"{words['due']}: {item.due}" if item.due else "",
    ]
    extra = "; ".join(d for d in details if d)
    return f"- [ ] {_at(item.at_s)}{item.text}" + (f" ({extra})" if extra else "")


def rename_speakers(summary: Summary, mapping: dict[str, str]) -> Summary:
    """The summary with speaker labels replaced wherever they appear (owners, notes, any text)."""
    if not mapping:
        return summary
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(label) for label in sorted(mapping, key=len, reverse=True)) + r")\b"
    )

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: mapping[m.group(1)], value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return msgspec.convert(walk(msgspec.to_builtins(summary)), Summary)
