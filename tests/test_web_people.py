"""Voice profiles on the web page, in a real browser (Debian's chromium) against the real stack.

Two recordings share one voice (en-us+f4: "B" in both RTTMs): named "Alice Martin" in the first job's
speaker list, she is recognised in the second, where "Not them" and "This is…" correct the match;
the People panel renames, merges and deletes. Matching at 0.8, as tests/test_people.py explains.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack

pytest.importorskip("playwright")
pytest.importorskip("faster_whisper")
from playwright.sync_api import Browser, Page, expect

from tests.browser import CHROMIUM
from tests.test_people import label_of

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium"),
    pytest.mark.skipif(
        importlib.util.find_spec("pyannote.audio") is None, reason="the diarize extra is not installed"
    ),
]
CONVERSATIONS = Path(__file__).parent / "fixtures" / "conversations"
JOB_TIMEOUT_S = 420


@pytest.fixture(scope="module")
def stack(nats_server, tmp_path_factory) -> Iterator[LocalStack]:
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",
        "AODIO_ASSEMBLE_VOICE_MATCH_THRESHOLD": "0.8",
        "AODIO_INGEST_VOICE_MATCH_THRESHOLD": "0.8",
    }
    with LocalStack(
        tmp_path_factory.mktemp("web-people"),
        api_port=0,
        nats_url=nats_server.url,
        extra_env=env,
        replicas={"transcribe": 1},
    ) as running:
        yield running


def processed(client: httpx.Client, name: str) -> str:
    """The recording through the whole pipeline (no summary); its job id."""
    path = CONVERSATIONS / name
    with path.open("rb") as handle:
        options = json.dumps({"summary_method": "none"})
        job_id = client.post("/v1/jobs", files={"file": (name, handle)}, data={"options": options}).json()[
            "job_id"
        ]
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
        assert job["status"] != "failed" and time.monotonic() < deadline, job
        time.sleep(0.5)
    return str(job_id)


def open_job(browser: Browser, url: str, job_id: str, locale: str = "en-US") -> Page:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() of merge and delete
    page.goto(f"{url}/#job={job_id}")
    expect(page.get_by_test_id("speakers")).to_be_visible()
    return page


def person_item(page: Page, name: str):
    return page.get_by_test_id("person-item").filter(
        has=page.get_by_test_id("person-name").get_by_text(name, exact=True)
    )


def test_name_a_voice_then_see_it_recognised_corrected_and_managed(stack, browser):
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        first = processed(client, "two_voices.mp3")
        alice = label_of(client, first, CONVERSATIONS / "two_voices.rttm", "B")

        page = open_job(browser, stack.api_url, first)
        expect(page.get_by_test_id("people-empty")).to_be_visible()
        page.get_by_test_id(f"person-input-{alice}").fill("Alice Martin")
        page.get_by_test_id(f"person-set-{alice}").click()
        expect(page.get_by_test_id(f"speaker-identity-{alice}")).to_have_text(
            "Alice Martin · 1.00 · confirmed"
        )
        expect(page.get_by_test_id("segment-speaker").filter(has_text="Alice Martin").first).to_be_visible()
        expect(person_item(page, "Alice Martin").get_by_test_id("person-meta")).to_contain_text(
            "1 voice sample"
        )
        page.context.close()

        second = processed(client, "three_voices.mp3")  # after Alice was named: her voice is known
        her = label_of(client, second, CONVERSATIONS / "three_voices.rttm", "B")

    page = open_job(browser, stack.api_url, second)
    identity = page.get_by_test_id(f"speaker-identity-{her}")
    expect(identity).to_have_text(re.compile(r"^Alice Martin · (0\.[89]\d|1\.00)$"))  # matched, not confirmed
    expect(page.get_by_test_id(f"speaker-input-{her}")).to_have_value("Alice Martin")
    # "Not them": the match goes, the label is back; then "This is…" her after all, picked by name
    page.get_by_test_id(f"person-not-{her}").click()
    expect(identity).to_be_hidden()
    expect(page.get_by_test_id(f"speaker-input-{her}")).to_have_value(her)
    expect(page.get_by_test_id("segment-speaker").filter(has_text="Alice Martin")).to_have_count(0)
    page.get_by_test_id(f"person-input-{her}").fill("alice martin")
    page.get_by_test_id(f"person-input-{her}").press("Enter")
    expect(identity).to_contain_text("confirmed")
    expect(person_item(page, "Alice Martin").get_by_test_id("person-meta")).to_contain_text("2 voice samples")

    # the People panel: add, rename, merge into Alice (confirmed), delete (confirmed)
    page.get_by_test_id("people-add-name").fill("Al")
    page.get_by_test_id("people-add").click()
    person_item(page, "Al").get_by_test_id("person-rename").click()
    person_item(page, "Al").get_by_test_id("person-name-input").fill("Alicia")
    person_item(page, "Al").get_by_test_id("person-rename-save").click()
    expect(person_item(page, "Alicia")).to_have_count(1)
    target = person_item(page, "Alice Martin")
    target.get_by_test_id("person-merge").click()
    target.get_by_test_id("person-merge-from").select_option(label="Alicia")
    target.get_by_test_id("person-merge-save").click()
    expect(page.get_by_test_id("person-item")).to_have_count(1)
    expect(person_item(page, "Alice Martin").get_by_test_id("person-meta")).to_contain_text("2 voice samples")

    page.get_by_test_id("lang-fr").click()
    expect(page.locator("#people-title")).to_have_text("Personnes")
    expect(page.get_by_test_id(f"person-set-{her}")).to_have_text("C’est…")  # noqa: RUF001
    expect(person_item(page, "Alice Martin").get_by_test_id("person-meta")).to_contain_text(
        "2 échantillons de voix"
    )

    person_item(page, "Alice Martin").get_by_test_id("person-delete").click()
    expect(page.get_by_test_id("people-empty")).to_be_visible()
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        assert client.get("/v1/people").json() == {"people": []}
    page.context.close()
