"""The API's answers are typed (contracts/api.py): /docs documents every one, and the CLI decodes them.

A real ingest process over a real nats-server; the transcript is written straight into storage.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from cli.client import AodioClient, NotFound
from cli.stack import LocalStack
from contracts import api, keys
from contracts.api import ErrorDetail, Health, JobAccepted, JobPage, JobSummary, PartialTranscript
from contracts.artifacts import decode_summary, decode_transcript
from runtime.embedded import NatsServer
from runtime.storage import DirectoryStorage
from services.ingest.auth import new_key

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPT = FIXTURES / "transcripts" / "en_meeting.json"  # speakers SPEAKER_1..3
SUMMARY = (
    b'{"method":"extractive","model":null,"language":"en","title":"Launch","overview":"SPEAKER_1 leads.",'
    b'"action_items":[{"text":"SPEAKER_2 books the room","owner":"SPEAKER_2"}]}'
)


@dataclass
class Api:
    url: str
    key: str
    storage: DirectoryStorage

    def http(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {key or self.key}"})


@pytest.fixture(scope="module")
def served(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("api-schema")
    key, entry = new_key("schema")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_STORAGE_BACKEND": "directory",
        "AODIO_STORAGE_DIRECTORY": str(data / "artifacts"),
        "AODIO_INGEST_API_KEYS": entry,
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        yield Api(stack.api_url, key, DirectoryStorage(data / "artifacts"))


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _same_fields(body: dict[str, Any], answer_type: type[msgspec.Struct]) -> None:
    """The JSON object has exactly the struct's fields: none the type misses, none it invents."""
    assert set(body) == set(answer_type.__struct_encode_fields__), answer_type.__name__


def test_openapi_documents_a_schema_for_every_json_answer(served: Api) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    answered = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            assert successes, f"{method} {path} documents no answer"
            for code, response in operation["responses"].items():
                for media, content in response.get("content", {}).items():
                    schema = content.get("schema")
                    assert schema, f"{method} {path} {code} {media} has no schema"
                    if media == "application/json":  # a named type, not an inline `{}`
                        answered += 1
                        assert "$ref" in schema or "anyOf" in schema, f"{method} {path} {code}"
            if "{job_id}" in path or "{letter_id}" in path:  # a route naming a thing may not find it
                assert "404" in operation["responses"], f"{method} {path} documents no 404"
    assert answered > 0
    for ref in set(_refs(document)):
        assert ref.removeprefix("#/components/schemas/") in schemas, f"{ref} is not in the components"
    for answer_type in api.API_TYPES:
        assert answer_type.__name__ in schemas


def test_the_cli_decodes_real_answers_into_the_api_types(served: Api, tmp_path: Path) -> None:
    path = tmp_path / "memo.mp3"
    path.write_bytes(b"ID3" + secrets.token_bytes(2048))
    with AodioClient(served.url, served.key) as client:
        accepted = client.submit(path, {"language": "en"}, lambda _: None)
        assert isinstance(accepted, JobAccepted) and accepted.status == "queued"
        assert accepted.size_bytes == path.stat().st_size
        job_id = accepted.job_id

        page = client.jobs(limit=5)
        assert isinstance(page, JobPage) and job_id in [j.job_id for j in page.jobs]
        assert all(isinstance(j, JobSummary) for j in page.jobs)
        assert client.job(job_id)["options"] == {"language": "en"}

        letters = client.dead_letters()
        assert letters.dead_letters == [] and letters.next_after is None

        served.storage.put_bytes(keys.transcript_key(job_id), TRANSCRIPT.read_bytes(), "application/json")
        served.storage.put_bytes(keys.summary_key(job_id), SUMMARY, "application/json")
        assert client.set_speakers(job_id, {"SPEAKER_1": "Alice"}) == {"SPEAKER_1": "Alice"}
        transcript = decode_transcript(client.fetch(f"/v1/jobs/{job_id}/transcript"))
        assert "Alice" in transcript.speakers
        assert decode_summary(client.fetch(f"/v1/jobs/{job_id}/summary")).title == "Launch"

        partial = api.decoder(PartialTranscript).decode(client.fetch(f"/v1/jobs/{job_id}/partial-transcript"))
        assert partial.job_id == job_id and partial.chunks_done == 0 and partial.words == []

        with pytest.raises(NotFound, match="unknown dead letter"):
            client.dead_letter("999999")


def test_every_json_answer_has_exactly_its_types_fields(served: Api) -> None:
    with served.http() as http:
        health = http.get("/healthz")
        assert health.status_code == 200
        assert api.decoder(Health).decode(health.content).ok
        assert set(health.json()) <= set(Health.__struct_encode_fields__)

        sent = http.post("/v1/jobs", files={"file": ("memo.mp3", b"ID3" + secrets.token_bytes(512))})
        _same_fields(sent.json(), JobAccepted)
        job_id = sent.json()["job_id"]
        listed = http.get("/v1/jobs", params={"limit": 1}).json()
        _same_fields(listed, JobPage)
        _same_fields(listed["jobs"][0], JobSummary)
        _same_fields(http.get(f"/v1/jobs/{job_id}/partial-transcript").json(), PartialTranscript)

        missing = http.get("/v1/jobs/20990101-000000-00000000")
        assert missing.status_code == 404
        assert api.decoder(ErrorDetail).decode(missing.content).detail.startswith("unknown job")
    with served.http("not-a-key") as stranger:
        refused = stranger.get("/v1/jobs")
        assert refused.status_code == 401
        _same_fields(refused.json(), ErrorDetail)
