"""The results a job exports: the transcript and the summary in every format, speaker names applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cli.client import AodioClient, RouteMissing


@dataclass(frozen=True)
class Export:
    document: str  # "transcript" or "summary": the route
    format: str  # the route's ?format=
    filename: str  # the file `aodio process` writes
    output: str  # the stored artifact's name, for servers without the export routes

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
}

# Stored artifacts `aodio process` also writes, under the names users expect.
RAW_OUTPUTS = {"normalized_audio": "normalized.flac", "chunk_plan": "chunks.json"}


def fetch_export(client: AodioClient, job_id: str, name: str) -> bytes:
    """One export's bytes; raises NotReady (409) before the stage that makes it has finished."""
    export = EXPORTS[name]
    try:
        return client.fetch(export.route(job_id), params={"format": export.format})
    except RouteMissing:  # an older API: the stored file, without speaker names applied
        return client.fetch(f"/v1/jobs/{job_id}/outputs/{export.output}")


def save_export(client: AodioClient, job_id: str, name: str, destination: Path) -> None:
    """Stream one export into destination (atomically)."""
    export = EXPORTS[name]
    try:
        client.save(export.route(job_id), destination, params={"format": export.format})
    except RouteMissing:
        client.save(f"/v1/jobs/{job_id}/outputs/{export.output}", destination)
