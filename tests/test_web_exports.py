"""The job page's DOCX download in a real browser (Debian's chromium), in French and English.

An ingest alone over a real nats-server: the job's transcript and summary are written straight into
storage and its state marked completed, so no model runs; the speakers are renamed through the API.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from contracts import keys
from contracts.state import JobState, StageState
from runtime.bus import connect
from runtime.jobs import JobStore
from runtime.settings import NatsSettings
from runtime.storage import DirectoryStorage

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect

# the same Chromium and flags as every browser test: without --disable-background-networking and
# --disable-component-update, Chromium's own connections are refused by this closed network
from tests.browser import CHROMIUM

docx = pytest.importorskip("docx")  # the ingest extra

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium (apt-get install chromium)"
)
FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPT = FIXTURES / "transcripts" / "en_meeting.json"  # speakers SPEAKER_1..3
AUDIO = FIXTURES / "audio" / "en_short.wav"
SUMMARY = (
    b'{"method":"extractive","model":null,"language":"en","title":"Launch","overview":"SPEAKER_1 leads.",'
    b'"action_items":[{"text":"Book the room","owner":"SPEAKER_2"}]}'
)


@dataclass
class Served:
    url: str
    storage: DirectoryStorage
    nats: NatsSettings


@pytest.fixture(scope="module")
def served(nats_server, tmp_path_factory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("web-exports")
    namespace = "t" + uuid.uuid4().hex[:10]
    env = {
        "AODIO_NATS_NAMESPACE": namespace,
        "AODIO_STORAGE_BACKEND": "directory",
        "AODIO_STORAGE_DIRECTORY": str(data / "artifacts"),
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        yield Served(
            stack.api_url,
            DirectoryStorage(data / "artifacts"),
            NatsSettings(url=nats_server.url, namespace=namespace),
        )


def new_page(browser: Browser, locale: str) -> Page:
    context = browser.new_context(locale=locale, accept_downloads=True)
    context.set_default_timeout(30_000)
    return context.new_page()


async def _completed(settings: NatsSettings, job_id: str) -> None:
    """The state the pipeline would leave: assembled and summarised, the outputs listed."""
    nc = await connect(settings)
    try:
        jobs = await JobStore.open(nc.jetstream(), settings.topology.jobs_bucket)

        def done(job: JobState) -> None:
            job.status = "completed"
            for stage in ("assemble", "summarize"):
                job.stages[stage] = StageState(status="done", done=1, total=1)
            job.outputs["transcript_json"] = keys.transcript_key(job_id)
            job.outputs["summary_json"] = keys.summary_key(job_id)

        await jobs.update(job_id, done)
    finally:
        await nc.close()


def finished_job(served: Served, name: str) -> str:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        reply = client.post("/v1/jobs", files={"file": (name, AUDIO.read_bytes())})
        assert reply.status_code == 202, reply.text
        job_id = str(reply.json()["job_id"])
        served.storage.put_bytes(keys.transcript_key(job_id), TRANSCRIPT.read_bytes(), "application/json")
        served.storage.put_bytes(keys.summary_key(job_id), SUMMARY, "application/json")
        with ThreadPoolExecutor(1) as thread:  # playwright's sync API holds this thread's event loop
            thread.submit(asyncio.run, _completed(served.nats, job_id)).result()
        names = {"SPEAKER_1": "Hélène", "SPEAKER_2": "Bob"}
        assert client.put(f"/v1/jobs/{job_id}/speakers", json=names).status_code == 200
    return job_id


def test_the_docx_link_downloads_the_document_with_the_names(served: Served, browser: Browser) -> None:
    job_id = finished_job(served, "standup.wav")
    page = new_page(browser, "fr-FR")
    page.goto(f"{served.url}/#job={job_id}")
    link = page.get_by_test_id("download-document-docx")
    expect(link).to_have_text("Word (DOCX)")
    expect(page.locator("#downloads-document-label")).to_have_text("Résumé et transcription")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "standup.docx"
    document = docx.Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    lines = [p.text for p in document.paragraphs]
    assert lines[0] == "Launch" and "Hélène leads." in lines and "Book the room (owner: Bob)" in lines
    assert not any("SPEAKER_1" in line or "SPEAKER_2" in line for line in lines)

    page.get_by_test_id("lang-en").click()
    expect(page.locator("#downloads-document-label")).to_have_text("Summary and transcript")
    expect(page.get_by_test_id("download-document-docx")).to_have_text("Word (DOCX)")
    page.context.close()
