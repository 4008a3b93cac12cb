"""The HTTP API as a real process over a real nats-server: keys, jobs, live events, exports, renames."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from contracts import keys
from runtime.bus import connect
from runtime.jobs import JobStore
from runtime.settings import NatsSettings
from services.ingest.auth import new_key

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPT = FIXTURES / "transcripts" / "en_meeting.json"  # speakers SPEAKER_1..3
AUDIO = FIXTURES / "audio" / "en_short.wav"


@dataclass
class Api:
    url: str
    artifacts: Path
    nats: NatsSettings
    alice: str
    bob: str

    def client(self, key: str | None) -> httpx.Client:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def api(nats_server, tmp_path_factory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("api")
    alice, alice_entry = new_key("alice")
    bob, bob_entry = new_key("bob")
    namespace = "t" + uuid.uuid4().hex[:10]
    env = {
        "AODIO_NATS_NAMESPACE": namespace,
        "AODIO_INGEST_API_KEYS": f"{alice_entry},{bob_entry}",
        "AODIO_INGEST_MAX_UPLOAD_BYTES": str(8 * 1024 * 1024),
        "AODIO_EGRESS_ALLOW": "127.0.0.1/32",  # file_server: a local server, refused unless allowed
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        yield Api(
            stack.api_url,
            data / "artifacts",
            NatsSettings(url=nats_server.url, namespace=namespace),
            alice,
            bob,
        )


@pytest.fixture
async def jobs(api: Api) -> AsyncIterator[JobStore]:
    nc = await connect(api.nats)
    yield await JobStore.open(nc.jetstream(), api.nats.topology.jobs_bucket)
    await nc.close()


def submit(client: httpx.Client, name: str = "meeting.wav") -> str:
    reply = client.post("/v1/jobs", files={"file": (name, AUDIO.read_bytes())})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


def with_results(api: Api, job_id: str) -> None:
    """Put what the stages would have written: the transcript, a summary, the normalized audio."""
    transcript = api.artifacts / keys.transcript_key(job_id)
    transcript.parent.mkdir(parents=True, exist_ok=True)
    transcript.write_bytes(TRANSCRIPT.read_bytes())
    summary = api.artifacts / keys.summary_key(job_id)
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(
        '{"method":"extractive","model":null,"language":"en","title":"Launch","overview":"SPEAKER_1 leads.",'
        '"action_items":[{"text":"SPEAKER_2 books the room","owner":"SPEAKER_2"}],'
        '"speakers":[{"speaker":"SPEAKER_1","contribution":"chairs","share":0.5}]}'
    )
    audio = api.artifacts / keys.normalized_audio_key(job_id)
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(bytes(range(256)) * 40)


# --- keys -------------------------------------------------------------------------------------------


def test_open_routes_need_no_key(api: Api) -> None:
    with api.client(None) as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        assert "aodio_http_requests_total" in anonymous.get("/metrics").text
        assert anonymous.get("/").status_code == 200


@pytest.mark.parametrize("key", [None, "aodio_wrong", ""])
def test_a_missing_or_wrong_key_is_401(api: Api, key: str | None) -> None:
    with api.client(key) as client:
        reply = client.get("/v1/jobs")
    assert reply.status_code == 401 and "key" in reply.json()["detail"]
    assert reply.headers["www-authenticate"] == "Bearer"


def test_a_key_sees_only_its_own_jobs(api: Api) -> None:
    with api.client(api.alice) as alice, api.client(api.bob) as bob:
        job_id = submit(alice)
        assert alice.get(f"/v1/jobs/{job_id}").json()["owner"] == "alice"
        assert bob.get(f"/v1/jobs/{job_id}").status_code == 404
        assert bob.delete(f"/v1/jobs/{job_id}").status_code == 404
        assert job_id not in [j["job_id"] for j in bob.get("/v1/jobs").json()["jobs"]]
        assert job_id in [j["job_id"] for j in alice.get("/v1/jobs").json()["jobs"]]
    with api.client(None) as anonymous:  # links and <audio> carry the key as access_token
        assert anonymous.get(f"/v1/jobs/{job_id}", params={"access_token": api.alice}).status_code == 200
        assert anonymous.get(f"/v1/jobs/{job_id}", params={"access_token": api.bob}).status_code == 404


# --- jobs -------------------------------------------------------------------------------------------


def test_jobs_are_listed_newest_first_a_page_at_a_time(api: Api) -> None:
    with api.client(api.bob) as bob:
        submitted = [submit(bob, f"take{i}.wav") for i in range(3)]
        first = bob.get("/v1/jobs", params={"limit": 2}).json()
        ids = [j["job_id"] for j in first["jobs"]]
        assert ids == sorted(ids, reverse=True) and len(ids) == 2
        assert first["next_before"] == ids[-1]
        rest = bob.get("/v1/jobs", params={"limit": 50, "before": first["next_before"]}).json()
        everything = ids + [j["job_id"] for j in rest["jobs"]]
        assert set(submitted) <= set(everything) and rest["next_before"] is None
        row = first["jobs"][0]
        assert row["status"] in ("queued", "running") and 0 <= row["progress"] <= 1
        assert bob.get("/v1/jobs", params={"limit": 0}).status_code == 422


def test_unknown_jobs_are_404_with_a_reason(api: Api) -> None:
    with api.client(api.alice) as alice:
        for path in ("", "/transcript", "/summary", "/audio", "/events", "/partial-transcript"):
            reply = alice.get(f"/v1/jobs/20260101-000000-deadbeef{path}")
            assert reply.status_code == 404 and "unknown job" in reply.json()["detail"], path
        assert alice.get("/v1/jobs/..%2F..%2Fetc").status_code == 404


def test_delete_removes_the_job_and_its_artifacts(api: Api) -> None:
    with api.client(api.alice) as alice:
        job_id = submit(alice)
        with_results(api, job_id)
        assert alice.delete(f"/v1/jobs/{job_id}").status_code == 204
        assert alice.get(f"/v1/jobs/{job_id}").status_code == 404
        assert not (api.artifacts / keys.job_prefix(job_id)).exists()
        assert alice.delete(f"/v1/jobs/{job_id}").status_code == 404


async def test_events_stream_every_change_until_the_job_ends(api: Api, jobs: JobStore) -> None:
    with api.client(api.alice) as alice:
        job_id = submit(alice)
    seen: list[str] = []
    headers = {"authorization": f"Bearer {api.alice}"}
    async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=30) as client:
        async with client.stream("GET", f"/v1/jobs/{job_id}/events") as reply:
            assert reply.headers["content-type"].startswith("text/event-stream")
            async for line in reply.aiter_lines():
                seen.append(line)
                if line == "event: state" and seen.count("event: state") == 1:

                    def progressed(job):  # type: ignore[no-untyped-def]
                        job.stage("transcode").status = "running"

                    def completed(job):  # type: ignore[no-untyped-def]
                        job.status = "completed"

                    await jobs.update(job_id, progressed)
                    await jobs.update(job_id, completed)
    assert seen.count("event: state") >= 2
    assert "event: end" in seen and seen[-1] == "" and "data: completed" in seen
    assert any('"transcode":{"status":"running"' in line for line in seen)


# --- results ----------------------------------------------------------------------------------------


def test_exports_before_the_transcript_exists_are_409(api: Api) -> None:
    with api.client(api.alice) as alice:
        job_id = submit(alice)
        reply = alice.get(f"/v1/jobs/{job_id}/transcript", params={"format": "srt"})
        assert reply.status_code == 409 and "not ready" in reply.json()["detail"]
        assert alice.put(f"/v1/jobs/{job_id}/speakers", json={"SPEAKER_1": "A"}).status_code == 409


def test_every_export_format_and_clear_errors(api: Api) -> None:
    with api.client(api.alice) as alice:
        job_id = submit(alice)
        with_results(api, job_id)
        base = f"/v1/jobs/{job_id}"
        srt = alice.get(f"{base}/transcript", params={"format": "srt", "download": 1})
        assert srt.status_code == 200 and srt.text.startswith("1\n00:00:")
        assert srt.headers["content-disposition"] == 'attachment; filename="meeting.srt"'
        assert alice.get(f"{base}/transcript", params={"format": "vtt"}).text.startswith("WEBVTT")
        assert "SPEAKER_2" in alice.get(f"{base}/transcript", params={"format": "txt"}).text
        assert alice.get(f"{base}/transcript", params={"format": "md"}).text.startswith("# Transcript")
        assert alice.get(f"{base}/transcript").json()["speakers"] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_3"]
        assert alice.get(f"{base}/summary").json()["title"] == "Launch"
        assert alice.get(f"{base}/summary", params={"format": "md"}).text.startswith("# Launch")
        bad = alice.get(f"{base}/transcript", params={"format": "docx"})
        assert bad.status_code == 400 and "srt" in bad.json()["detail"]
        assert alice.get(f"{base}/summary", params={"format": "srt"}).status_code == 400


def test_renaming_speakers_rewrites_every_export(api: Api) -> None:
    with api.client(api.alice) as alice:
        job_id = submit(alice)
        with_results(api, job_id)
        base = f"/v1/jobs/{job_id}"
        reply = alice.put(f"{base}/speakers", json={"SPEAKER_1": "Alice", "SPEAKER_2": "  Bob  "})
        assert reply.status_code == 200 and reply.json() == {
            "speaker_names": {"SPEAKER_1": "Alice", "SPEAKER_2": "Bob"}
        }
        assert alice.get(base).json()["speaker_names"] == {"SPEAKER_1": "Alice", "SPEAKER_2": "Bob"}
        assert alice.get(f"{base}/transcript").json()["speakers"] == ["Alice", "Bob", "SPEAKER_3"]
        assert "Alice: " in alice.get(f"{base}/transcript", params={"format": "srt"}).text
        stored = (api.artifacts / keys.transcript_key(job_id, "srt")).read_text()
        assert "Alice: " in stored and "SPEAKER_1" not in stored
        summary = alice.get(f"{base}/summary").json()
        assert summary["overview"] == "Alice leads." and summary["action_items"][0]["owner"] == "Bob"
        # A second rename starts from the labels again: nothing compounds.
        assert alice.put(f"{base}/speakers", json={"SPEAKER_1": "Alicia"}).status_code == 200
        assert alice.get(f"{base}/transcript").json()["speakers"] == ["Alicia", "SPEAKER_2", "SPEAKER_3"]
        for names, reason in (
            ({"SPEAKER_9": "Zed"}, "no speaker"),
            ({"SPEAKER_1": "  "}, "printable"),
            ({"SPEAKER_1": "Same", "SPEAKER_2": "Same"}, "same name"),
        ):
            bad = alice.put(f"{base}/speakers", json=names)
            assert bad.status_code == 422 and reason in bad.json()["detail"], names


def test_audio_answers_range_requests_for_the_player(api: Api) -> None:
    with api.client(api.alice) as alice:
        job_id = submit(alice)
        with_results(api, job_id)
        whole = alice.get(f"/v1/jobs/{job_id}/audio")
        assert (
            whole.status_code == 200
            and len(whole.content) == 10240
            and whole.headers["accept-ranges"] == "bytes"
        )
        part = alice.get(f"/v1/jobs/{job_id}/audio", headers={"range": "bytes=256-511"})
        assert part.status_code == 206 and part.content == bytes(range(256))
        assert part.headers["content-range"] == "bytes 256-511/10240"
        tail = alice.get(f"/v1/jobs/{job_id}/audio", headers={"range": "bytes=-16"})
        assert tail.status_code == 206 and tail.content == bytes(range(240, 256))
        beyond = alice.get(f"/v1/jobs/{job_id}/audio", headers={"range": "bytes=99999-"})
        assert beyond.status_code == 416


# --- other ways in ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def file_server(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("web")
    (root / "talk.wav").write_bytes(AUDIO.read_bytes())
    (root / "empty.wav").write_bytes(b"")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_recording_can_come_from_a_url(api: Api, file_server: str) -> None:
    with api.client(api.alice) as alice:
        reply = alice.post(
            "/v1/jobs/from-url", json={"url": f"{file_server}/talk.wav", "options": {"language": "en"}}
        )
        assert reply.status_code == 202, reply.text
        state = alice.get(f"/v1/jobs/{reply.json()['job_id']}").json()
        assert state["original_name"] == "talk.wav" and state["options"] == {"language": "en"}
        assert (api.artifacts / state["outputs"]["source"]).read_bytes() == AUDIO.read_bytes()
        for body, status, reason in (
            ({"url": f"{file_server}/missing.wav"}, 502, "HTTP 404"),
            ({"url": f"{file_server}/empty.wav"}, 400, "empty"),
            ({"url": "file:///etc/passwd"}, 422, "http(s)"),
            ({"url": "http://[::1]:9/talk.wav"}, 422, "::1 (loopback address)"),  # only 127.0.0.1 is allowed
            ({"url": f"{file_server}/talk.wav", "options": {"speakers": 99}}, 422, "speakers"),
        ):
            bad = alice.post("/v1/jobs/from-url", json=body)
            assert bad.status_code == status and reason in bad.json()["detail"], body
    started = (api.artifacts.parent / "logs" / "ingest.log").read_text()
    assert "WARNING" in started and "(AODIO_EGRESS_ALLOW): 127.0.0.1/32" in started  # said once at start-up


def test_direct_uploads_need_s3(api: Api) -> None:
    with api.client(api.alice) as alice:
        reply = alice.post("/v1/uploads", json={"filename": "big.wav", "size_bytes": 10})
    assert reply.status_code == 501 and "S3" in reply.json()["detail"]


def test_a_presigned_multipart_upload_goes_straight_to_s3(nats_server, s3_server, tmp_path: Path) -> None:
    bucket = f"aodio-test-{uuid.uuid4().hex[:8]}"
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_STORAGE_BACKEND": "s3",
        "AODIO_STORAGE_S3_ENDPOINT": s3_server.endpoint,
        "AODIO_STORAGE_S3_BUCKET": bucket,
        "AODIO_STORAGE_S3_ACCESS_KEY": s3_server.access_key,
        "AODIO_STORAGE_S3_SECRET_KEY": s3_server.secret_key,
        "AODIO_INGEST_UPLOAD_PART_BYTES": str(5 * 1024 * 1024),
    }
    recording = AUDIO.read_bytes() * (6 * 1024 * 1024 // len(AUDIO.read_bytes()) + 1)  # two parts of 5 MiB+
    with (
        LocalStack(
            tmp_path, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)
        ) as stack,
        httpx.Client(base_url=stack.api_url, timeout=60) as client,
    ):
        plan = client.post("/v1/uploads", json={"filename": "long.wav", "size_bytes": len(recording)})
        assert plan.status_code == 201, plan.text
        job_id, size = plan.json()["job_id"], plan.json()["part_size"]
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "uploading"
        parts = []
        for part in plan.json()["parts"]:
            start = (part["part_number"] - 1) * size
            put = httpx.put(part["url"], content=recording[start : start + size], timeout=60)
            assert put.status_code == 200, put.text
            parts.append({"part_number": part["part_number"], "etag": put.headers["etag"]})
        assert len(parts) == 2
        bad = client.post(f"/v1/uploads/{job_id}/complete", json={"parts": parts[::-1]})
        assert bad.status_code == 422
        done = client.post(f"/v1/uploads/{job_id}/complete", json={"parts": parts})
        assert done.status_code == 202, done.text
        state = client.get(f"/v1/jobs/{job_id}").json()
        assert state["status"] in ("queued", "running") and state["size_bytes"] == len(recording)
        source = client.get(f"/v1/jobs/{job_id}/outputs/source")
        assert source.content == recording
        again = client.post(f"/v1/uploads/{job_id}/complete", json={"parts": parts})
        assert again.status_code == 409
