"""What a job exports: the transcript and summary in every format, the DOCX with both; names applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cli.client import AodioClient, NotFound, RouteMissing


@dataclass(frozen=True)
class Export:
    document: str  # "transcript", "summary" or "document": the route
    format: str  # the route's ?format=
    filename: str  # the file `aodio process` writes
    output: str | None  # the stored artifact, for servers without the export routes (None: never stored)
    binary: bool = False  # not text: written to a file or a pipe, never decoded

    def route(self, job_id: str) -> str:
        return f"/v1/jobs/{job_id}/{self.document}"


# `aodio export --format` choices, in the order `aodio process` writes them.
EXPORTS: dict[str, Export] = {
    "json": Export("transcript", "json", "transcript.json", "transcript_json"),
    "srt": Export("transcript", "srt", "transcript.srt", "transcript_srt"),
    "vtt": Export("transcript", "vtt", "transcript.vtt", "transcript_vtt"),
    "txt": Export("transcript", "txt", "transcript.txt", "transcript_txt"),
    "md": Export("transcript", "md", "transcript.md", "transcript_md"),
    "summary.json": Export("summary", "json", "summary.json", "summary_json"),
    "summary.md": Export("summary", "md", "summary.md", "summary_md"),
    "docx": Export("document", "docx", "document.docx", None, binary=True),
}

# Stored artifacts `aodio process` also writes, under the names users expect.
RAW_OUTPUTS = {"normalized_audio": "normalized.flac", "chunk_plan": "chunks.json"}


def fetch_export(client: AodioClient, job_id: str, name: str) -> bytes:
    """One export's bytes; raises NotReady (409) before the stage that makes it has finished."""
    export = EXPORTS[name]
    try:
        return client.fetch(export.route(job_id), params={"format": export.format})
    except RouteMissing as exc:  # an older API: the stored file, without speaker names applied
        return client.fetch(_stored(exc, job_id, name))


def save_export(client: AodioClient, job_id: str, name: str, destination: Path) -> None:
    """Stream one export into destination (atomically)."""
    export = EXPORTS[name]
    try:
        client.save(export.route(job_id), destination, params={"format": export.format})
    except RouteMissing as exc:
        client.save(_stored(exc, job_id, name), destination)


def _stored(missing: RouteMissing, job_id: str, name: str) -> str:
    """The stored artifact's route, for an API without the export's route; NotFound when none is stored."""
    output = EXPORTS[name].output
    if output is None:  # rendered on request only: an API this old cannot make it
        raise NotFound(f"{missing}: this server is older than the {name} export", 404) from missing
    return f"/v1/jobs/{job_id}/outputs/{output}"
