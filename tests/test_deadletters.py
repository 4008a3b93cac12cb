"""Dead letters through the API and the CLI, on real processes over a real nats-server.

A keyed ingest with a real transcode stage (a text file uploaded as audio fails there for good, and is
dead-lettered), plus an open ingest on the same namespace: the operator's view, which also sees the
letters that have no job.
"""

from __future__ import annotations

import asyncio
import json
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
from contracts.events import JobSubmitted
from runtime.bus import connect
from runtime.embedded import NatsServer
from runtime.settings import NatsSettings
from services.ingest.auth import new_key

NOT_AUDIO = Path(__file__).parent / "fixtures" / "audio" / "not_audio.txt"


@dataclass
class Api:
    keyed_url: str
    open_url: str
    nats: NatsSettings
    alice: str
    bob: str

    def client(self, key: str | None) -> httpx.Client:
        """A client of the keyed API; key None: the open (operator's) API."""
        url = self.keyed_url if key else self.open_url
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def api(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    alice, alice_entry = new_key("alice")
    bob, bob_entry = new_key("bob")
    namespace = "t" + uuid.uuid4().hex[:10]
    keyed_env = {"AODIO_NATS_NAMESPACE": namespace, "AODIO_INGEST_API_KEYS": f"{alice_entry},{bob_entry}"}
    open_env = {"AODIO_NATS_NAMESPACE": namespace, "AODIO_INGEST_API_KEYS": ""}
    with (
        LocalStack(
            tmp_path_factory.mktemp("dlq-keyed"),
            api_port=0,
            nats_url=nats_server.url,
            extra_env=keyed_env,
            stages=("ingest", "transcode"),
        ) as keyed,
        LocalStack(
            tmp_path_factory.mktemp("dlq-open"),
            api_port=0,
            nats_url=nats_server.url,
            extra_env=open_env,
            stages=("ingest",),
        ) as operator,
    ):
        yield Api(
            keyed.api_url,
            operator.api_url,
            NatsSettings(url=nats_server.url, namespace=namespace),
            alice,
            bob,
        )


def wait_for(probe: Any, what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := probe():  # None, False or empty: not yet
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def failed_job(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    """Submit a text file as audio; its job and its dead letter once transcode gave up on it."""
    reply = client.post("/v1/jobs", files={"file": ("talk.mp3", NOT_AUDIO.read_bytes())})
    assert reply.status_code == 202, reply.text
    job_id = str(reply.json()["job_id"])
    wait_for(lambda: client.get(f"/v1/jobs/{job_id}").json()["status"] == "failed" or None, "the failure")
    return job_id, letter_of(client, job_id)


def letter_of(client: httpx.Client, job_id: str, not_id: int | None = None) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        page = client.get("/v1/dead-letters", params={"job_id": job_id}).json()["dead_letters"]
        return next((letter for letter in page if letter["id"] != not_id), None)

    return wait_for(probe, f"a dead letter of job {job_id}")  # type: ignore[no-any-return]


def listed_ids(client: httpx.Client, **params: Any) -> list[int]:
    return [letter["id"] for letter in client.get("/v1/dead-letters", params=params).json()["dead_letters"]]


def publish(api: Api, payload: bytes) -> int:
    """A message forged on transcode's subject; its stream sequence."""

    async def send() -> int:
        nc = await connect(api.nats)
        try:
            ack = await nc.jetstream().publish(api.nats.topology.subject_for(JobSubmitted), payload)
            return ack.seq
        finally:
            await nc.close()

    return asyncio.run(send())


def test_a_failed_jobs_letter_is_listed_shown_and_retried(api: Api) -> None:
    with api.client(api.alice) as alice, api.client(api.bob) as bob:
        job_id, letter = failed_job(alice)
        job = alice.get(f"/v1/jobs/{job_id}").json()
        assert letter["stage"] == "transcode" and letter["job_id"] == job_id
        assert letter["reason"] == job["error"] and letter["attempts"] >= 1
        assert letter["subject"].endswith(".job.submitted") and job_id in letter["payload"]
        assert letter["stream_sequence"] < letter["id"] and letter["failed_at"] > 0
        assert alice.get(f"/v1/dead-letters/{letter['id']}").json() == letter
        assert letter["id"] in listed_ids(alice, stage="transcode")
        assert letter["id"] not in listed_ids(alice, stage="summarize")

        # another key sees nothing of it, and cannot retry or drop it
        assert letter["id"] not in listed_ids(bob)
        assert bob.get(f"/v1/dead-letters/{letter['id']}").status_code == 404
        assert bob.post(f"/v1/dead-letters/{letter['id']}/retry").status_code == 404
        assert bob.delete(f"/v1/dead-letters/{letter['id']}").status_code == 404

        reply = alice.post(f"/v1/dead-letters/{letter['id']}/retry")
        assert reply.status_code == 202, reply.text
        retried = reply.json()
        assert retried["job_status"] == "running" and retried["sequence"] > letter["id"]
        assert alice.get(f"/v1/dead-letters/{letter['id']}").status_code == 404  # the old letter is gone

        # transcode ran it again (not skipped): it fails again, with a letter for the new message
        again = letter_of(alice, job_id, not_id=letter["id"])
        assert again["stream_sequence"] == retried["sequence"] and again["reason"] == letter["reason"]
        job = alice.get(f"/v1/jobs/{job_id}").json()  # failed before its letter was written
        assert job["status"] == "failed"
        assert job["failed_stage"] == "transcode" and job["stages"]["transcode"]["status"] == "failed"
        assert listed_ids(alice, job_id=job_id) == [again["id"]]


def test_a_malformed_message_is_a_letter_without_a_job_that_can_be_dropped(api: Api) -> None:
    sequences = {publish(api, b"\xff\xfe not an event"), publish(api, b'{"type": "job.submitted"')}
    with api.client(None) as operator, api.client(api.alice) as alice:

        def letters() -> list[dict[str, Any]] | None:
            found, after = [], 0
            while after is not None:  # a page of one at a time: the paging works
                page = operator.get("/v1/dead-letters", params={"limit": 1, "after": after}).json()
                found += [x for x in page["dead_letters"] if x["stream_sequence"] in sequences]
                after = page["next_after"]
            return found if len(found) == 2 else None

        forged = wait_for(letters, "letters for the forged messages")
        for letter in forged:
            assert letter["job_id"] is None and "malformed event" in letter["reason"]
            assert alice.get(f"/v1/dead-letters/{letter['id']}").status_code == 404  # keys see only jobs
            assert letter["id"] not in listed_ids(alice)
        assert operator.delete(f"/v1/dead-letters/{forged[0]['id']}").status_code == 204
        assert operator.get(f"/v1/dead-letters/{forged[0]['id']}").status_code == 404
        assert operator.delete(f"/v1/dead-letters/{forged[0]['id']}").status_code == 404

        # a retry without a job goes back to the stage, which dead-letters it again
        retried = operator.post(f"/v1/dead-letters/{forged[1]['id']}/retry").json()
        assert retried["job_id"] is None
        again = wait_for(lambda: letters_of_sequence(operator, retried["sequence"]), "the new letter")
        assert operator.delete(f"/v1/dead-letters/{again[0]['id']}").status_code == 204


def letters_of_sequence(client: httpx.Client, sequence: int) -> list[dict[str, Any]]:
    page = client.get("/v1/dead-letters", params={"limit": 200}).json()["dead_letters"]
    return [letter for letter in page if letter["stream_sequence"] == sequence]


def test_unknown_ids_are_404(api: Api) -> None:
    event_sequence = publish(api, b"\x00")  # a stream message that is not a dead letter
    with api.client(None) as operator:
        for letter_id in ("abc", "0", "-3", "987654321", str(event_sequence)):
            reply = operator.get(f"/v1/dead-letters/{letter_id}")
            assert reply.status_code == 404 and "dead letter" in reply.json()["detail"], letter_id
            assert operator.post(f"/v1/dead-letters/{letter_id}/retry").status_code == 404
        assert operator.get("/v1/dead-letters", params={"limit": 0}).status_code == 422


def test_a_letter_of_a_deleted_job_cannot_be_retried_only_dropped(api: Api) -> None:
    with api.client(api.alice) as alice, api.client(None) as operator:
        job_id, letter = failed_job(alice)
        assert alice.delete(f"/v1/jobs/{job_id}").status_code == 204
        assert alice.get(f"/v1/dead-letters/{letter['id']}").status_code == 404  # no job, no owner
        reply = operator.post(f"/v1/dead-letters/{letter['id']}/retry")
        assert reply.status_code == 409 and "no longer exists" in reply.json()["detail"]
        assert operator.delete(f"/v1/dead-letters/{letter['id']}").status_code == 204


def test_the_cli_lists_retries_and_drops(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    def aodio(*argv: str) -> int:
        return main([*argv, "--api", api.keyed_url, "--api-key", api.alice])

    with api.client(api.alice) as alice:
        job_id, letter = failed_job(alice)
        capsys.readouterr()
        assert aodio("dlq", "list", "--job", job_id, "--json") == 0
        assert [x["id"] for x in json.loads(capsys.readouterr().out)] == [letter["id"]]
        assert aodio("dlq", "list", "--stage", "transcode") == 0
        assert job_id in capsys.readouterr().out
        assert aodio("dlq", "show", str(letter["id"])) == 0
        assert json.loads(capsys.readouterr().out)["reason"] == letter["reason"]

        assert aodio("dlq", "retry", str(letter["id"])) == 0
        assert f"retried dead letter {letter['id']}" in capsys.readouterr().err
        again = letter_of(alice, job_id, not_id=letter["id"])
        assert aodio("dlq", "drop", str(again["id"])) == 2  # not a terminal: --yes is needed
        assert aodio("dlq", "drop", str(again["id"]), "--yes") == 0
        capsys.readouterr()
        assert aodio("dlq", "show", str(again["id"])) == 1
        assert "unknown dead letter" in capsys.readouterr().err
        assert main(["dlq", "list", "--api", api.keyed_url, "--api-key", api.bob, "--job", job_id]) == 0
        assert "no dead letters" in capsys.readouterr().err
