"""The one table of export formats: each format's content type and renderer, for transcripts and summaries.

Transcript and summary formats are stored by the stages (and rewritten on a rename); documents hold
both and the job's facts, so ingest renders them on request and never stores them.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.artifacts import Summary, Transcript
from exports import docx as documents
from exports import summary as summaries
from exports import transcript as transcripts
from exports.docx import DocumentInfo

TRANSCRIPT_FORMATS: dict[str, tuple[str, Callable[[Transcript], bytes]]] = {
    "json": ("application/json", transcripts.to_json),
    "srt": ("application/x-subrip; charset=utf-8", lambda t: transcripts.to_srt(t).encode()),
    "vtt": ("text/vtt; charset=utf-8", lambda t: transcripts.to_vtt(t).encode()),
    "txt": ("text/plain; charset=utf-8", lambda t: transcripts.to_txt(t).encode()),
    "md": ("text/markdown; charset=utf-8", lambda t: transcripts.to_markdown(t).encode()),
}
SUMMARY_FORMATS: dict[str, tuple[str, Callable[[Summary], bytes]]] = {
    "json": ("application/json", summaries.to_json),
    "md": ("text/markdown; charset=utf-8", lambda s: summaries.to_markdown(s).encode()),
}

DOCUMENT_FORMATS: dict[str, tuple[str, Callable[[Transcript, Summary | None, DocumentInfo], bytes]]] = {
    "docx": (documents.DOCX_MEDIA, documents.to_docx),
}


def render_transcript(t: Transcript, fmt: str) -> bytes:
    """The transcript in one of TRANSCRIPT_FORMATS."""
    return TRANSCRIPT_FORMATS[fmt][1](t)


def render_summary(s: Summary, fmt: str) -> bytes:
    """The summary in one of SUMMARY_FORMATS."""
    return SUMMARY_FORMATS[fmt][1](s)


def render_document(t: Transcript, s: Summary | None, info: DocumentInfo, fmt: str) -> bytes:
    """The summary (None: not written yet) and the transcript in one of DOCUMENT_FORMATS."""
    return DOCUMENT_FORMATS[fmt][1](t, s, info)
