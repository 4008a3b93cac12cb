"""The transcript editor in a real browser (Debian's chromium) against the real stack, driven by keyboard
and mouse as a person would: text, speaker, split, merge, undo, a 409; the API sees every change."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.stack import LocalStack
from tests.test_edits import revision_of
from tests.test_web import JOB_TIMEOUT_MS, new_page, pytestmark, stack_env  # noqa: F401

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

RECORDING = Path(__file__).parent / "fixtures" / "audio" / "en_two_voices.mp3"  # generated: two voices


@pytest.fixture(scope="module")
def stack(nats_server, tmp_path_factory) -> Iterator[LocalStack]:
    with LocalStack(
        tmp_path_factory.mktemp("web-edits"),
        api_port=0,
        nats_url=nats_server.url,
        extra_env=stack_env(),
        replicas={"transcribe": 1},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def job_id(stack: LocalStack) -> str:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        reply = client.post("/v1/jobs", files={"file": (RECORDING.name, RECORDING.read_bytes())})
        assert reply.status_code == 202, reply.text
        job_id = str(reply.json()["job_id"])
        deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
        while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
            assert job["status"] != "failed" and time.monotonic() < deadline, job
            time.sleep(0.5)
    return job_id


def stored(stack: LocalStack, job_id: str) -> dict[str, Any]:
    """The transcript as the API serves it (what every export is rendered from)."""
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        return client.get(f"/v1/jobs/{job_id}/transcript").json()  # type: ignore[no-any-return]


def segment_text(page: Page, index: int):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("segment").nth(index).get_by_test_id("segment-text")


def saved(page: Page, revision: int) -> None:
    expect(page.get_by_test_id("editor-status")).to_contain_text(f"(revision {revision}).")


def test_edit_text_speaker_split_merge_and_undo_from_the_keyboard(stack, browser, job_id) -> None:
    start = stored(stack, job_id)
    r = revision_of(start)
    assert len(start["segments"]) >= 2, start
    page = new_page(browser)
    page.goto(f"{stack.api_url}/#job={job_id}")
    expect(page.get_by_test_id("segment")).to_have_count(len(start["segments"]))
    expect(page.get_by_test_id("revisions")).to_be_visible()
    page.locator("#follow").uncheck()  # the playback started by a click does not scroll the page away

    # the text: click the passage, select everything, type, Enter
    segment_text(page, 0).click()
    area = page.get_by_test_id("segment-edit")
    expect(area).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("Good morning everyone, let us talk about the release date.")
    page.keyboard.press("Enter")
    saved(page, r + 1)
    expect(segment_text(page, 0)).to_have_text("Good morning everyone, let us talk about the release date.")
    after = stored(stack, job_id)
    assert revision_of(after) == r + 1
    assert after["segments"][0]["text"] == "Good morning everyone, let us talk about the release date."
    assert after["segments"][1:] == start["segments"][1:]

    # Esc leaves the passage as it was
    segment_text(page, 1).click()
    page.keyboard.press("Control+a")
    page.keyboard.type("Not this.")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("segment-edit")).to_have_count(0)
    assert revision_of(stored(stack, job_id)) == r + 1

    # the speaker: a new one for the second passage
    page.get_by_test_id("segment").nth(1).get_by_test_id("speaker-pick").select_option("new")
    saved(page, r + 2)
    moved = stored(stack, job_id)
    label = moved["segments"][1]["speaker"]
    assert label not in start["speakers"] and label in moved["speakers"]
    expect(page.get_by_test_id("segment").nth(1)).to_have_attribute("data-speaker", label)

    # split the first passage after its second word: Ctrl+Enter at the cursor
    first_words = moved["segments"][0]["words"]
    segment_text(page, 0).click()
    cursor = len("".join(w["text"] for w in first_words[:2]).strip())
    page.get_by_test_id("segment-edit").evaluate("(area, at) => area.setSelectionRange(at, at)", cursor)
    page.keyboard.press("Control+Enter")
    saved(page, r + 3)
    split = stored(stack, job_id)
    assert len(split["segments"]) == len(moved["segments"]) + 1
    assert split["segments"][0]["words"] == first_words[:2]
    assert split["segments"][1]["words"] == first_words[2:]
    expect(page.get_by_test_id("segment")).to_have_count(len(split["segments"]))

    # merge it back: Ctrl+Backspace at the start of the second part (the split left the cursor there)
    area = page.get_by_test_id("segment-edit")
    expect(area).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.press("Control+Backspace")
    saved(page, r + 4)
    merged = stored(stack, job_id)
    assert merged["segments"] == moved["segments"]

    # Ctrl+Z outside a field: the server undoes the merge, then the split
    page.get_by_test_id("job-title").click()
    page.keyboard.press("Control+z")
    saved(page, r + 5)
    assert len(stored(stack, job_id)["segments"]) == len(split["segments"])
    page.get_by_test_id("revisions-undo").click()
    saved(page, r + 6)
    undone = stored(stack, job_id)
    assert undone["segments"] == moved["segments"] and revision_of(undone) == r + 6

    # the list of edits: newest first, what and whether it was undone
    revisions = page.get_by_test_id("revision")
    expect(revisions).to_have_count(r + 6)
    expect(revisions.first).to_contain_text("Undo")
    expect(page.locator(f"[data-testid=revision][data-number='{r + 3}']")).to_have_class("undone")
    expect(page.locator(f"[data-testid=revision][data-number='{r + 2}']")).not_to_have_class("undone")
    page.context.close()


def test_a_stale_page_says_so_and_reloads_and_the_audio_follows(stack, browser, job_id) -> None:
    page = new_page(browser, locale="fr-FR")
    page.goto(f"{stack.api_url}/#job={job_id}")
    current = stored(stack, job_id)
    expect(page.get_by_test_id("segment")).to_have_count(len(current["segments"]))

    # clicking a word puts the player there, and its passage is shown as the one playing
    word = page.get_by_test_id("segment").last.locator(".word").nth(1)
    start = float(word.get_attribute("data-start"))
    page.evaluate(
        "() => { window.seekedAt = null; const a = document.querySelector('[data-testid=player]');"
        " a.addEventListener('seeked', () => { window.seekedAt ??= a.currentTime; }); }"
    )
    word.click()
    page.wait_for_function("() => window.seekedAt !== null")
    assert abs(page.evaluate("() => window.seekedAt") - start) < 0.3
    expect(page.get_by_test_id("segment").last).to_have_class(re.compile(r"\bplaying\b"))
    expect(page.get_by_test_id("segment-edit")).to_be_focused()  # and the click opened it for editing
    page.keyboard.press("Escape")
    page.evaluate("() => document.querySelector('[data-testid=player]').pause()")

    # someone else edits first, over the API
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        reply = client.patch(
            f"/v1/jobs/{job_id}/segments",
            json={
                "revision": revision_of(current),
                "edits": [{"op": "text", "segment": 0, "text": "Changed by someone else."}],
            },
        )
        assert reply.status_code == 200, reply.text
    segment_text(page, 0).click()
    page.keyboard.press("Control+a")
    page.keyboard.type("My late change.")
    page.keyboard.press("Enter")
    status = page.get_by_test_id("editor-status")
    expect(status).to_contain_text("Quelqu’un d’autre")  # noqa: RUF001 (French typography)
    expect(segment_text(page, 0)).to_have_text("Changed by someone else.")  # reloaded
    assert stored(stack, job_id)["segments"][0]["text"] == "Changed by someone else."

    # the reloaded page edits from the new revision
    segment_text(page, 0).click()
    page.keyboard.press("End")
    page.keyboard.type(" Fixed.")
    page.keyboard.press("Enter")
    saved_revision = revision_of(current) + 2
    expect(status).to_contain_text(f"(révision {saved_revision}).")
    assert stored(stack, job_id)["segments"][0]["text"] == "Changed by someone else. Fixed."
    expect(page.locator("#editor-help")).to_contain_text("Entrée enregistre")
    page.context.close()
