"""The document people send around: the summary, then the transcript, as a Word file (DOCX).

Rendered on request from the transcript and summary with the job's speaker names (and edits), never
stored: a rename or an edit shows in the next download. The layout:

    Title                      the summary's title, else the recording's file name
    file · duration · date · speakers
    Summary                    overview, key points, decisions, action items (owner, due), chapters,
                               contributions, what produced it; or why there is none (not requested,
                               not ready yet)
    Transcript                 one paragraph a speaker turn (exports/transcript.paragraphs): its time
                               and the name in bold, then its segments, each after its [hh:mm:ss]

Headings follow the summary's language (English where there is no translation). python-docx is
imported when a document is rendered: only ingest's dependencies have it, and assemble and summarize
import the format tables without it.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from contracts.artifacts import ActionItem, Summary, Transcript
from exports import summary as summaries
from exports.transcript import paragraphs

if TYPE_CHECKING:
    from docx.document import Document
    from docx.text.paragraph import Paragraph

__all__ = ["DOCX_MEDIA", "DocumentInfo", "to_docx"]

DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TIME_GREY = (0x6B, 0x72, 0x80)
# XML 1.0 refuses these characters; python-docx would raise on a transcript that holds one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_LABELS = {
    "en": {
        "summary": "Summary",
        "transcript": "Transcript",
        "file": "File",
        "duration": "Duration",
        "date": "Date",
        "not_ready": "The summary is not ready yet: download the document again once the job is complete.",
        "no_transcript": "Nothing was transcribed.",
    },
    "fr": {
        "summary": "Résumé",
        "transcript": "Transcription",
        "file": "Fichier",
        "duration": "Durée",
        "date": "Date",
        "not_ready": "Le résumé n'est pas encore prêt : téléchargez de nouveau le document "
        "quand la tâche sera terminée.",
        "no_transcript": "Rien n'a été transcrit.",
    },
}


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the document says about the recording besides its transcript and summary (the job's state)."""

    name: str  # the recording's file name: the title when the summary has none
    created_at: float = 0.0  # unix time the job was submitted: the document's date
    summary_method: str = "llm"  # what the job asked for; "none": the summary was not requested


def to_docx(t: Transcript, s: Summary | None, info: DocumentInfo) -> bytes:
    """The DOCX bytes: title and facts, the summary (or why there is none), then the transcript."""
    from docx import Document as new_document  # the ingest extra's python-docx; see the docstring

    language = (s.language if s is not None else None) or t.language
    words = {**summaries.labels(language), **_LABELS.get(language or "en", _LABELS["en"])}
    title = _clean((s.title if s is not None else "") or info.name) or words["untitled"]
    document = new_document()
    _properties(document, title, info, language)
    document.add_heading(title, level=0)
    document.add_paragraph(_clean(_facts(t, info, words, title)))
    document.add_heading(words["summary"], level=1)
    if s is None:
        document.add_paragraph(words["none"] if info.summary_method == "none" else words["not_ready"])
    elif s.method == "none":
        document.add_paragraph(words["none"])
    else:
        _summary(document, s, words)
    document.add_heading(words["transcript"], level=1)
    _transcript(document, t, words)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _properties(document: Document, title: str, info: DocumentInfo, language: str | None) -> None:
    """File properties Word shows; dated by the job, not by the download, so they do not change."""
    properties = document.core_properties
    properties.title = title
    properties.author = properties.last_modified_by = "Aodio"
    properties.language = language or ""
    properties.comments = ""
    if info.created_at > 0:
        properties.created = properties.modified = datetime.fromtimestamp(int(info.created_at), UTC)
    properties.revision = 1


def _facts(t: Transcript, info: DocumentInfo, words: dict[str, str], title: str) -> str:
    facts = [] if title == info.name else [f"{words['file']}: {info.name}"]
    facts.append(f"{words['duration']}: {summaries.clock(t.duration_s)}")
    if info.created_at > 0:
        facts.append(f"{words['date']}: {time.strftime('%Y-%m-%d', time.gmtime(info.created_at))}")
    if t.speakers:
        facts.append(f"{words['speakers']}: {', '.join(t.speakers)}")
    return " · ".join(facts)


def _summary(document: Document, s: Summary, words: dict[str, str]) -> None:
    if s.overview:
        document.add_paragraph(_clean(s.overview))
    if s.key_points:
        document.add_heading(words["key_points"], level=2)
        for point in s.key_points:
            document.add_paragraph(_clean(point), style="List Bullet")
    if s.decisions:
        document.add_heading(words["decisions"], level=2)
        for decision in s.decisions:
            _timed_item(document, decision.at_s, decision.text)
    if s.action_items:
        document.add_heading(words["action_items"], level=2)
        for action in s.action_items:
            _action(document, action, words)
    if s.chapters:
        document.add_heading(words["chapters"], level=2)
        for chapter in s.chapters:
            _timed_item(document, chapter.start_s, chapter.title)
    if s.speakers:
        document.add_heading(words["speakers"], level=2)
        for note in s.speakers:
            item = document.add_paragraph(style="List Bullet")
            share = f" ({note.share:.0%})" if note.share is not None else ""
            item.add_run(_clean(note.speaker)).bold = True
            item.add_run(_clean(f"{share}: {note.contribution}"))
    produced = s.method + (f" ({s.model})" if s.model else "")
    made = [f"{words[n]}: {words['made.' + how]}" for n, how in s.made_by.items() if n in words]
    produced += f"; {', '.join(made)}" if made else ""
    line = document.add_paragraph()
    line.add_run(_clean(f"{words['method']}: {produced}." + (f" {s.note}" if s.note else ""))).italic = True


def _timed_item(document: Document, at_s: float | None, text: str) -> None:
    item = document.add_paragraph(style="List Bullet")
    if at_s is not None:
        _time_run(item, f"[{summaries.clock(at_s)}] ")
    item.add_run(_clean(text))


def _action(document: Document, action: ActionItem, words: dict[str, str]) -> None:
    """The action, then "(owner: Alice; due: Friday)", the owner in bold: who does what matters most."""
    item = document.add_paragraph(style="List Bullet")
    if action.at_s is not None:
        _time_run(item, f"[{summaries.clock(action.at_s)}] ")
    item.add_run(_clean(action.text))
    details = []  # (label, value, bold)
    if action.owner:
        details.append((words["owner"], action.owner, True))
    if action.due:
        details.append((words["due"], action.due, False))
    for k, (label, value, bold) in enumerate(details):
        item.add_run(f"{' (' if k == 0 else '; '}{label}: ")
        item.add_run(_clean(value)).bold = bold
    if details:
        item.add_run(")")


def _transcript(document: Document, t: Transcript, words: dict[str, str]) -> None:
    """One turn a paragraph pair: "[00:01:23]  Alice" (kept with its text), then each segment's text."""
    turns = paragraphs([s for s in t.segments if s.text.strip()])
    if not turns:
        document.add_paragraph(words["no_transcript"])
    for segments in turns:
        head = document.add_paragraph()
        head.paragraph_format.keep_with_next = True
        head.paragraph_format.space_after = 0
        _time_run(head, f"[{_hms(segments[0].start)}]")
        if segments[0].speaker is not None:
            head.add_run("  ")
            head.add_run(_clean(segments[0].speaker)).bold = True
        body = document.add_paragraph()
        for k, segment in enumerate(segments):
            if k:
                body.add_run(" ")
                _time_run(body, f"[{_hms(segment.start)}] ")
            body.add_run(_clean(segment.text.strip()))


def _time_run(paragraph: Paragraph, text: str) -> None:
    from docx.shared import RGBColor

    run = paragraph.add_run(text)
    run.font.color.rgb = RGBColor(*_TIME_GREY)


def _hms(seconds: float) -> str:
    hours, rest = divmod(int(max(0.0, seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)
