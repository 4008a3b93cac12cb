"""The page's names and terms, in a real browser (Debian's chromium) against a real ingest."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from tests.browser import CHROMIUM

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium (apt-get install chromium)"
)
SENTENCE = Path(__file__).parent / "fixtures" / "audio" / "en_short.wav"


@pytest.fixture(scope="module")
def stack(nats_server, tmp_path_factory) -> Iterator[LocalStack]:
    env = {"AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10]}
    data = tmp_path_factory.mktemp("vocabulary-web")
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as running:
        yield running


def new_page(browser: Browser, locale: str) -> Page:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    return context.new_page()


def test_the_glossary_is_edited_on_the_page_and_an_upload_sends_its_own_terms(stack, browser) -> None:
    page = new_page(browser, "en-US")
    page.goto(stack.api_url + "/")
    page.get_by_text("Glossary", exact=True).click()
    field = page.get_by_test_id("glossary-input")
    expect(field).to_have_value("")
    field.fill("Kubernetes\nZbigniew, comfyui\n\nkubernetes")
    expect(page.get_by_test_id("glossary-count")).to_have_text("3 of 200 terms")
    page.get_by_test_id("glossary-save").click()
    expect(page.get_by_test_id("glossary-status")).to_contain_text("Glossary saved: 3 terms")
    expect(field).to_have_value("Kubernetes\nZbigniew\ncomfyui")
    with httpx.Client(base_url=stack.api_url) as client:
        assert client.get("/v1/glossary").json()["terms"] == ["Kubernetes", "Zbigniew", "comfyui"]

    # a term too long is refused on the page, saying why, and nothing is sent
    vocabulary = page.get_by_test_id("vocabulary-input")
    vocabulary.fill("ComfyUI, " + "x" * 65)
    page.set_input_files("[data-testid=file-input]", str(SENTENCE))
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("upload-error")).to_contain_text("at most 64 characters")

    vocabulary.fill("ComfyUI,\nNguyen Thi Hoa")
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("upload-status")).to_contain_text("Uploaded")
    expect(page.get_by_test_id("job-title")).to_have_text("en_short.wav")
    job_id = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('job')")
    with httpx.Client(base_url=stack.api_url) as client:
        options = client.get(f"/v1/jobs/{job_id}").json()["options"]
    assert options["vocabulary"] == ["ComfyUI", "Nguyen Thi Hoa", "Kubernetes", "Zbigniew"]


def test_the_names_and_terms_speak_french(stack, browser) -> None:
    page = new_page(browser, "fr-FR")
    page.goto(stack.api_url + "/")
    expect(page.get_by_text("Noms et termes", exact=True)).to_be_visible()
    page.get_by_text("Glossaire", exact=True).click()
    expect(page.get_by_test_id("glossary-save")).to_have_text("Enregistrer le glossaire")
    expect(page.get_by_test_id("glossary-count")).to_contain_text("sur 200")
