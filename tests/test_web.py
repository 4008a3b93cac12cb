"""The web page in a real browser (Debian's chromium) against the real stack, as a user would drive it."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from contracts.state import JobState, Removal
from runtime.bus import connect
from runtime.jobs import JobStore
from runtime.settings import NatsSettings
from tests.browser import CHROMIUM

pytest.importorskip("playwright")
pytest.importorskip("faster_whisper")
from playwright.sync_api import Browser, Page, expect

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not at /usr/bin/chromium (apt-get install chromium)",
    ),
    # imported by the diarize service only, through services/diarize/compat.py
    pytest.mark.skipif(
        importlib.util.find_spec("pyannote.audio") is None, reason="the diarize extra is not installed"
    ),
]
RECORDING = Path(__file__).parent / "fixtures" / "conversations" / "two_voices.mp3"
SENTENCE = Path(__file__).parent / "fixtures" / "audio" / "en_short.wav"
JOB_TIMEOUT_MS = 240_000
NEW_NAME = "Alice Martin"


def stack_env(**extra: str) -> dict[str, str]:
    """Fast models: tiny.en, and an extractive summary (no LLM server to start)."""
    return {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_METHOD": "extractive",
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: the stack starts no llama.cpp server
        **extra,
    }


@pytest.fixture(scope="module")
def stack(nats_server, tmp_path_factory) -> Iterator[LocalStack]:
    with LocalStack(
        tmp_path_factory.mktemp("web"),
        api_port=0,
        nats_url=nats_server.url,
        extra_env=stack_env(),
        replicas={"transcribe": 1},
    ) as running:
        yield running


def new_page(browser: Browser, locale: str = "en-US", width: int = 1280) -> Page:
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def stage_states(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-testid=stages] .stage",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.stage, r.dataset.status]))",
    )


def test_upload_follow_read_rename_play_and_download(stack, browser):
    page = new_page(browser)
    page.goto(stack.api_url + "/")
    page.set_input_files("[data-testid=file-input]", str(RECORDING))
    expect(page.get_by_test_id("file-chosen")).to_contain_text("two_voices.mp3")
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("upload-progress")).to_have_attribute("data-percent", "100")
    expect(page.get_by_test_id("job-title")).to_have_text("two_voices.mp3")

    # the stage bars follow the event stream: some stage is seen running before the job completes
    seen_running: set[str] = set()
    deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
    while page.get_by_test_id("job-status").get_attribute("data-status") not in ("completed", "failed"):
        seen_running |= {name for name, status in stage_states(page).items() if status == "running"}
        assert time.monotonic() < deadline, stage_states(page)
        page.wait_for_timeout(300)
    expect(page.get_by_test_id("job-error")).to_be_hidden()
    assert page.get_by_test_id("job-status").get_attribute("data-status") == "completed"
    assert seen_running, "no stage was ever shown running"
    for name in ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize"):
        expect(page.get_by_test_id(f"stage-bar-{name}")).to_have_attribute("data-percent", "100")
    expect(page.get_by_test_id("job-item").first).to_have_attribute("data-status", "completed")

    # the transcript: two speakers, each in its colour; the summary with its method line
    expect(page.get_by_test_id("segment").first).to_be_visible()
    labels = set(page.eval_on_selector_all("[data-testid=segment]", "s => s.map(e => e.dataset.speaker)"))
    assert labels == {"SPEAKER_1", "SPEAKER_2"}
    colours = page.eval_on_selector_all(
        "[data-testid=segment]", "s => [...new Set(s.map(e => e.style.getPropertyValue('--spk')))]"
    )
    assert len(colours) == 2
    expect(page.get_by_test_id("summary-method")).to_be_visible()

    # rename a speaker: click its name in the transcript, type, save; the transcript shows the name
    page.locator("[data-testid=segment-speaker][data-label=SPEAKER_1]").first.click()
    field = page.get_by_test_id("speaker-input-SPEAKER_1")
    expect(field).to_be_focused()
    field.fill(NEW_NAME)
    page.get_by_test_id("speakers-save").click()
    expect(page.get_by_test_id("segment-speaker").filter(has_text=NEW_NAME).first).to_be_visible()
    expect(page.get_by_test_id("speakers-status")).to_be_visible()
    assert page.get_by_test_id("segment-speaker").filter(has_text="SPEAKER_1").count() == 0

    # click a word: the player seeks to the word's start
    word = page.locator("[data-testid=transcript] .word").nth(20)
    start = float(word.get_attribute("data-start"))
    page.evaluate(
        "() => { window.seekedAt = null; const a = document.querySelector('[data-testid=player]');"
        " a.addEventListener('seeked', () => { window.seekedAt ??= a.currentTime; }); }"
    )
    word.click()
    page.wait_for_function("() => window.seekedAt !== null")
    assert abs(page.evaluate("() => window.seekedAt") - start) < 0.3

    # the SRT export carries the new name
    with page.expect_download() as download:
        page.get_by_test_id("download-transcript-srt").click()
    srt = Path(download.value.path()).read_text()
    assert srt.startswith("1\n00:") and NEW_NAME in srt
    page.context.close()


def test_language_follows_the_browser_and_the_switch_is_remembered(stack, browser):
    page = new_page(browser, locale="fr-FR")
    page.goto(stack.api_url + "/")
    heading = page.locator("#upload-title")
    expect(heading).to_have_text("Nouvelle transcription")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_test_id("lang-en").click()
    expect(heading).to_have_text("New transcription")
    expect(page.get_by_test_id("lang-en")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(heading).to_have_text("New transcription")
    page.get_by_test_id("lang-fr").click()
    expect(page.get_by_test_id("upload-start")).to_have_text("Envoyer et transcrire")
    page.context.close()


def test_a_server_with_keys_asks_for_a_key_refuses_a_wrong_one_and_sends_the_right_one(
    nats_server, browser, tmp_path
):
    from services.ingest.auth import new_key

    key, entry = new_key("web-test")
    env = stack_env(AODIO_INGEST_API_KEYS=entry)
    with LocalStack(
        tmp_path / "stack", api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)
    ) as api:
        page = new_page(browser)
        page.goto(api.api_url + "/")
        panel, message = page.get_by_test_id("key-panel"), page.get_by_test_id("key-message")
        expect(panel).to_be_visible()
        expect(message).to_contain_text("needs an API key")
        page.get_by_test_id("key-input").fill("aodio_" + "0" * 40)
        page.get_by_test_id("key-save").click()
        expect(message).to_contain_text("refused")
        expect(panel).to_be_visible()
        page.get_by_test_id("key-input").fill(key)
        page.get_by_test_id("key-save").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("jobs-empty")).to_be_visible()
        expect(page.get_by_test_id("jobs-error")).to_be_hidden()
        # the key goes with the upload (header) and with the event stream (access_token)
        page.set_input_files("[data-testid=file-input]", str(RECORDING))
        with page.expect_response(lambda response: "/events?access_token=" in response.url) as stream:
            page.get_by_test_id("upload-start").click()
        assert stream.value.status == 200
        expect(page.get_by_test_id("stage-bar-ingest")).to_have_attribute("data-percent", "100")
        expect(page.get_by_test_id("job-item")).to_have_count(1)
        page.context.close()


def test_the_job_page_says_what_the_decode_guards_did(stack, browser, tmp_path):
    """The same sentence six times looks like a loop to the first decode: the page says it was decoded
    again, in French too."""
    listing = tmp_path / "six.txt"
    listing.write_text("".join(f"file '{SENTENCE}'\n" for _ in range(6)))
    six = tmp_path / "six_times.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), str(six)],
        check=True,
    )
    page = new_page(browser, locale="fr-FR")
    page.goto(stack.api_url + "/")
    page.set_input_files("[data-testid=file-input]", str(six))
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("job-title")).to_have_text("six_times.wav")
    expect(page.get_by_test_id("job-status")).to_have_attribute(
        "data-status", "completed", timeout=JOB_TIMEOUT_MS
    )
    expect(page.get_by_test_id("job-warnings")).to_be_visible()
    expect(page.get_by_test_id("job-speech")).to_contain_text(re.compile(r"redécodées [1-9]"))
    page.context.close()


def test_the_job_page_says_what_retention_removed(stack, nats_server, browser):
    """A job whose chunk audio retention deleted: the page names what went, how big, and the rule."""
    with httpx.Client(base_url=stack.api_url, timeout=30) as client, SENTENCE.open("rb") as handle:
        job_id = client.post("/v1/jobs", files={"file": (SENTENCE.name, handle)}).json()["job_id"]
        deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
        while client.get(f"/v1/jobs/{job_id}").json()["status"] != "completed":
            assert time.monotonic() < deadline, client.get(f"/v1/jobs/{job_id}").json()
            time.sleep(0.5)
    removal = Removal(
        kind="chunk_audio",
        objects=2,
        size_bytes=3_000_000,
        at=time.time(),
        rule="AODIO_RETENTION_CHUNK_AUDIO=7d",
    )
    audio = Removal(
        kind="normalized_audio",
        objects=1,
        size_bytes=1,
        at=time.time(),
        rule="AODIO_RETENTION_NORMALIZED_AUDIO=7d",
    )
    namespace = stack.extra_env["AODIO_NATS_NAMESPACE"]
    record = _record_removal(nats_server.url, namespace, job_id, [removal, audio])
    with ThreadPoolExecutor(1) as thread:  # playwright's sync API holds this thread's event loop
        thread.submit(asyncio.run, record).result()
    page = new_page(browser, locale="fr-FR")
    page.goto(f"{stack.api_url}/#job={job_id}")
    warnings = page.get_by_test_id("job-warnings")
    expect(warnings).to_be_visible()
    expect(warnings.locator("[data-code=removed]").first).to_contain_text(
        re.compile(r"Supprimé par la rétention :\s*l.audio des segments : 2 fichiers, 3 MB.*CHUNK_AUDIO=7d")
    )
    expect(warnings.locator("[data-code=removed]").last).to_contain_text("l’audio normalisé : 1 fichier, 1 B")  # noqa: RUF001
    expect(page.locator("#player-box")).to_be_hidden()  # its audio is gone: no player to press
    page.context.close()


async def _record_removal(url: str, namespace: str, job_id: str, removals: list[Removal]) -> None:
    settings = NatsSettings(url=url, namespace=namespace)
    nc = await connect(settings)
    try:
        jobs = await JobStore.open(nc.jetstream(), settings.topology.jobs_bucket)

        def removed(job: JobState) -> None:
            job.removed = removals

        await jobs.update(job_id, removed)
    finally:
        await nc.close()
