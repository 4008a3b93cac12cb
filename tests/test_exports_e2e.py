"""The exports people send around, through the real API: the DOCX document and the subtitles, names applied.

Two stacks of real processes over a real nats-server: an ingest alone, whose results are written
straight into storage (the document route, its errors, /docs, the CLI); and the whole pipeline on a
short generated conversation (tiny.en, an extractive summary), renamed, then downloaded.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.main import main
from cli.stack import LocalStack
from contracts import keys
from exports.subtitles import LINE_CHARS
from runtime.embedded import NatsServer
from runtime.storage import DirectoryStorage
from tests.test_pipeline import submit
from tests.test_subtitles import parse_srt, parse_vtt

docx = pytest.importorskip("docx")  # the ingest extra

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPT = FIXTURES / "transcripts" / "en_meeting.json"  # speakers SPEAKER_1..3
AUDIO = FIXTURES / "audio" / "en_short.wav"
CONVERSATION = FIXTURES / "conversations" / "two_voices.mp3"
SUMMARY = (
    b'{"method":"extractive","model":null,"language":"en","title":"Launch","overview":"SPEAKER_1 leads.",'
    b'"action_items":[{"text":"Book the room","owner":"SPEAKER_2"}]}'
)
DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HEAD = re.compile(r"^\[\d{2}:\d{2}:\d{2}\]  (.+)$")  # a transcript turn: its time and the speaker


@dataclass
class Ingest:
    url: str
    storage: DirectoryStorage

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture(scope="module")
def ingest(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    data = tmp_path_factory.mktemp("exports")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_STORAGE_BACKEND": "directory",
        "AODIO_STORAGE_DIRECTORY": str(data / "artifacts"),
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        yield Ingest(stack.api_url, DirectoryStorage(data / "artifacts"))


def upload(client: httpx.Client, name: str) -> str:
    reply = client.post("/v1/jobs", files={"file": (name, AUDIO.read_bytes())})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


def read_docx(body: bytes) -> Any:
    assert body[:2] == b"PK"
    return docx.Document(io.BytesIO(body))


def lines_of(document: Any) -> list[str]:
    return [p.text for p in document.paragraphs]


def turn_speakers(document: Any) -> set[str]:
    """The bold names heading the transcript's turns."""
    return {m.group(1) for p in document.paragraphs if (m := HEAD.match(p.text))}


# --- the document route, on stored results -------------------------------------------------------


def test_the_document_is_a_download_named_after_the_recording_with_the_names(ingest: Ingest) -> None:
    with ingest.client() as client:
        job_id = upload(client, "réunion d'équipe.wav")
        base = f"/v1/jobs/{job_id}"
        early = client.get(f"{base}/document")
        assert early.status_code == 409 and "not ready" in early.json()["detail"]

        ingest.storage.put_bytes(keys.transcript_key(job_id), TRANSCRIPT.read_bytes(), "application/json")
        pending = client.get(f"{base}/document", params={"format": "docx"})
        assert pending.status_code == 200
        assert any("not ready yet" in line for line in lines_of(read_docx(pending.content)))

        ingest.storage.put_bytes(keys.summary_key(job_id), SUMMARY, "application/json")
        reply = client.get(f"{base}/document", params={"format": "docx"})
        assert reply.status_code == 200 and reply.headers["content-type"] == DOCX_MEDIA
        assert reply.headers["content-disposition"] == (
            'attachment; filename="r_union_d_quipe.docx"; '
            "filename*=UTF-8''r%C3%A9union%20d%27%C3%A9quipe.docx"
        )
        lines = lines_of(read_docx(reply.content))
        assert lines[0] == "Launch" and lines.index("Summary") < lines.index("Transcript")
        assert "SPEAKER_1 leads." in lines

        renamed = client.put(f"{base}/speakers", json={"SPEAKER_1": "Alice", "SPEAKER_2": "Bob"})
        assert renamed.status_code == 200
        document = read_docx(client.get(f"{base}/document").content)
        lines = lines_of(document)
        assert "Alice leads." in lines and "Book the room (owner: Bob)" in lines
        assert turn_speakers(document) == {"Alice", "Bob", "SPEAKER_3"}

        bad = client.get(f"{base}/document", params={"format": "pdf"})
        assert bad.status_code == 400 and "docx" in bad.json()["detail"]
        wrong_place = client.get(f"{base}/transcript", params={"format": "docx"})
        assert (
            wrong_place.status_code == 400 and f"{base}/document?format=docx" in wrong_place.json()["detail"]
        )
        assert client.get("/v1/jobs/20200101-000000-00000000/document").status_code == 404


def test_the_api_docs_list_the_document_and_its_format(ingest: Ingest) -> None:
    document = httpx.get(f"{ingest.url}/openapi.json").json()
    operation = document["paths"]["/v1/jobs/{job_id}/document"]["get"]
    assert DOCX_MEDIA in operation["responses"]["200"]["content"]
    assert {"400", "404", "409"} <= set(operation["responses"])
    (format_parameter,) = [p for p in operation["parameters"] if p["name"] == "format"]
    assert "docx" in format_parameter["description"]


def test_the_cli_writes_the_docx_to_a_file_and_to_a_pipe(
    ingest: Ingest, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    with ingest.client() as client:
        job_id = upload(client, "standup.wav")
    ingest.storage.put_bytes(keys.transcript_key(job_id), TRANSCRIPT.read_bytes(), "application/json")
    ingest.storage.put_bytes(keys.summary_key(job_id), SUMMARY, "application/json")
    assert main(["rename", job_id, "SPEAKER_3=Zoé", "--api", ingest.url]) == 0
    capsysbinary.readouterr()

    assert main(["export", job_id, "--format", "docx", "--out", str(tmp_path), "--api", ingest.url]) == 0
    written = tmp_path / "document.docx"
    assert "Zoé" in turn_speakers(read_docx(written.read_bytes()))
    assert main(["export", job_id, "--format", "docx", "--api", ingest.url]) == 0
    out, _ = capsysbinary.readouterr()
    assert lines_of(read_docx(out))[0] == "Launch"


# --- the whole pipeline ----------------------------------------------------------------------------


def wait_completed(client: httpx.Client, job_id: str, timeout_s: float = 400) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
        assert job["status"] != "failed", job["error"]
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    return job


def test_a_conversation_renamed_downloads_as_docx_srt_and_vtt_with_the_names(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("pyannote.metrics")  # the diarize extra (pyannote.audio loads only in diarize)
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_METHOD": "extractive",
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: the stack starts no llama.cpp server
    }
    names = {"SPEAKER_1": "Alice Martin", "SPEAKER_2": "Zoé Dupont"}
    with LocalStack(
        tmp_path / "stack", api_port=0, nats_url=nats_server.url, extra_env=env, replicas={"transcribe": 1}
    ) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=60) as client:
            job_id = submit(client, CONVERSATION, {"summary_method": "extractive"})
            job = wait_completed(client, job_id)
            base = f"/v1/jobs/{job_id}"
            assert client.put(f"{base}/speakers", json=names).status_code == 200
            document = client.get(f"{base}/document", params={"format": "docx"})
            srt = client.get(f"{base}/transcript", params={"format": "srt", "download": 1})
            vtt = client.get(f"{base}/transcript", params={"format": "vtt"}).text
            stored_srt = client.get(f"{base}/outputs/transcript_srt").text
        out = tmp_path / "meeting.docx"
        assert main(["export", job_id, "--format", "docx", "--out", str(out), "--api", stack.api_url]) == 0

    assert job["stages"]["summarize"]["status"] == "done"
    assert (
        document.status_code == 200
        and 'filename="two_voices.docx"' in document.headers["content-disposition"]
    )
    read = read_docx(document.content)
    lines = lines_of(read)
    assert lines.index("Summary") < lines.index("Transcript")
    assert not any("not ready" in line or "No summary" in line for line in lines)
    assert turn_speakers(read) == set(names.values())
    bold = {r.text for p in read.paragraphs for r in p.runs if r.bold}
    assert set(names.values()) <= bold
    assert not any("SPEAKER_" in line for line in lines)
    assert turn_speakers(read_docx(out.read_bytes())) == set(names.values())

    assert srt.headers["content-disposition"] == 'attachment; filename="two_voices.srt"'
    for body in (srt.text, stored_srt):  # served now, and the stored file rewritten by the rename
        cues = parse_srt(body)
        assert cues and all(len(line) <= LINE_CHARS for _, _, lines_ in cues for line in lines_)
        named = {line.split(": ", 1)[0] for _, _, lines_ in cues for line in lines_[:1] if ": " in line}
        assert set(names.values()) <= named and "SPEAKER_" not in body
    voices = {speaker for _, _, speaker, _ in parse_vtt(vtt)}
    assert voices == set(names.values())
