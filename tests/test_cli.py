"""The `aodio` CLI against a real ingest API (a real process over a real nats-server), called in-process.

Jobs are written straight into the jobs bucket and storage (no pipeline runs): what the CLI shows,
exports and renames is what the API serves for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.client import AodioClient, RouteMissing
from cli.main import main
from cli.sse import ServerEvent, parse_events
from cli.stack import LocalStack
from cli.upload import upload, upload_presigned
from cli.watch import follow
from contracts import keys
from contracts.artifacts import Segment, Transcript, Word
from contracts.state import JobState, JobStatus, Removal, StageState
from exports.transcript import to_json
from runtime.bus import connect
from runtime.embedded import NatsServer, WeedMini, free_ports
from runtime.jobs import JobStore
from runtime.registry import PIPELINE
from runtime.settings import NatsSettings
from runtime.storage import DirectoryStorage
from services.ingest.auth import new_key
from tests.servers import drop_bucket

OWNER = "cli-test"


@dataclass
class Api:
    url: str
    key: str
    nats: NatsSettings
    storage: DirectoryStorage
    stack: LocalStack

    def args(self, *argv: str) -> list[str]:
        return [*argv, "--api", self.url, "--api-key", self.key]


@pytest.fixture(scope="module")
def api(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("cli")
    key, entry = new_key(OWNER)
    namespace = "t" + uuid.uuid4().hex[:10]
    env = {
        "AODIO_NATS_NAMESPACE": namespace,
        "AODIO_STORAGE_BACKEND": "directory",
        "AODIO_STORAGE_DIRECTORY": str(data / "artifacts"),
        "AODIO_INGEST_API_KEYS": entry,
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        yield Api(
            stack.api_url,
            key,
            NatsSettings(url=nats_server.url, namespace=namespace),
            DirectoryStorage(data / "artifacts"),
            stack,
        )


def _transcript() -> Transcript:
    def words(start: float, speaker: str, *texts: str) -> list[Word]:
        return [
            Word(start + i * 0.5, start + i * 0.5 + 0.4, f" {t}", 0.9, speaker) for i, t in enumerate(texts)
        ]

    first = words(0.0, "SPEAKER_1", "Hello", "everyone.")
    second = words(2.0, "SPEAKER_2", "Thanks", "for", "coming.")
    return Transcript(
        language="en",
        duration_s=4.0,
        speakers=["SPEAKER_1", "SPEAKER_2"],
        segments=[
            Segment(0.0, 0.9, "SPEAKER_1", "Hello everyone.", first),
            Segment(2.0, 3.4, "SPEAKER_2", "Thanks for coming.", second),
        ],
        model={"name": "tiny.en"},
    )


def make_job(api: Api, name: str, created_at: float | None = None, status: JobStatus = "completed") -> str:
    """A job as the pipeline leaves it: state in the bucket, the assembled transcript in storage."""
    created_at = created_at or time.time()
    job_id = time.strftime("%Y%m%d-%H%M%S-", time.gmtime(created_at)) + secrets.token_hex(4)
    done = status == "completed"
    stages = {
        s: StageState(status="done" if done else "pending", done=1, total=1, wall_s=1.5) for s in PIPELINE
    }
    if not done:
        stages["ingest"] = StageState(status="done", done=1, total=1)
        stages["transcode"] = StageState(
            status="running", done=30, total=60, unit="s", message="decoding", eta_s=30
        )
    outputs = {"source": keys.source_key(job_id, name)}
    if done:
        api.storage.put_bytes(keys.transcript_key(job_id), to_json(_transcript()), "application/json")
        outputs["transcript_json"] = keys.transcript_key(job_id)
    state = JobState(
        job_id=job_id,
        status=status,
        created_at=created_at,
        original_name=name,
        size_bytes=1234,
        stages=stages,
        outputs=outputs,
        owner=OWNER,
    )
    asyncio.run(_store(api, lambda jobs: jobs.create(state)))
    return job_id


async def _store(api: Api, action: Callable[[JobStore], Awaitable[object]]) -> None:
    nc = await connect(api.nats)
    try:
        await action(await JobStore.open(nc.jetstream(), api.nats.topology.jobs_bucket))
    finally:
        await nc.close()


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


RECORDED_STREAM = (
    "retry: 3000\r\n"
    "\r\n"
    ": keepalive\n"
    "\n"
    "event: state\n"
    'data: {"job_id": "j", "status": "running",\n'
    'data:  "stages": {}}\n'
    "\n"
    "id: 7\n"
    "data:no space after the colon\n"
    "unknown: ignored\n"
    "\n"
    "event: end\n"
    "data: completed\n"
    "\n"
    "event: state\n"
    "data: cut off before its blank line"
)


def test_sse_parser_reads_a_recorded_stream():
    events = list(parse_events(RECORDED_STREAM.splitlines()))
    assert events == [
        ServerEvent("state", '{"job_id": "j", "status": "running",\n "stages": {}}'),
        ServerEvent("message", "no space after the colon", id="7"),
        ServerEvent("end", "completed", id="7"),
    ]
    assert json.loads(events[0].data)["status"] == "running"


def test_jobs_lists_newest_first(api, capsys):
    now = time.time()
    ids = [make_job(api, f"meeting-{n}.mp3", created_at=now + n) for n in range(3)]
    code, out, _ = run(capsys, api.args("jobs", "--all", "--json"))
    assert code == 0
    listed = [job["job_id"] for job in json.loads(out) if job["job_id"] in ids]
    assert listed == ids[::-1]
    code, out, _ = run(capsys, api.args("jobs", "--limit", "100"))
    assert code == 0
    positions = [out.index(job_id) for job_id in ids[::-1]]
    assert positions == sorted(positions) and "meeting-2.mp3" in out and "100%" in out


def test_show_gives_stages_and_json(api, capsys):
    job_id = make_job(api, "standup.wav", status="running")
    code, out, _ = run(capsys, api.args("show", job_id))
    assert code == 0
    assert job_id in out and "standup.wav" in out and "decoding" in out and "50%" in out
    code, out, _ = run(capsys, api.args("status", job_id, "--json"))
    assert code == 0 and json.loads(out)["stages"]["transcode"]["message"] == "decoding"


def test_show_says_what_retention_removed_and_by_which_rule(api, capsys):
    job_id = make_job(api, "old.wav")
    removal = Removal(
        kind="chunk_audio",
        objects=3,
        size_bytes=5 * 2**20,
        at=time.time(),
        rule="AODIO_RETENTION_CHUNK_AUDIO=7d",
    )

    def removed(job: JobState) -> None:
        job.removed = [removal]

    asyncio.run(_store(api, lambda jobs: jobs.update(job_id, removed)))
    code, out, _ = run(capsys, api.args("show", job_id))
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("removed"))
    assert "chunk_audio: 3 objects, 5.0 MiB" in line and "(AODIO_RETENTION_CHUNK_AUDIO=7d)" in line


def test_show_watch_follows_the_event_stream_until_the_end(api, capsys):
    job_id = make_job(api, "live.mp3", status="running")

    def finish() -> None:
        def completed(job: JobState) -> None:
            job.status = "completed"
            job.stages["transcode"] = StageState(status="done", done=60, total=60)

        time.sleep(0.5)
        asyncio.run(_store(api, lambda jobs: jobs.update(job_id, completed)))

    worker = threading.Thread(target=finish)
    worker.start()
    code, out, _ = run(capsys, api.args("show", job_id, "--watch", "--json"))
    worker.join()
    states = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and states[-1]["status"] == "completed"


def test_following_survives_an_api_restart(api):
    job_id = make_job(api, "restart.mp3", status="running")
    with AodioClient(api.url, api.key) as client:
        states = follow(client, job_id)
        assert next(states)["status"] == "running"
        api.stack.kill("ingest")  # the event stream drops mid-job
        asyncio.run(
            _store(api, lambda jobs: jobs.update(job_id, lambda job: setattr(job, "status", "completed")))
        )
        api.stack.spawn("ingest")
        assert [state["status"] for state in states] == ["completed"]


def test_show_unknown_job_says_so(api, capsys):
    code, out, err = run(capsys, api.args("show", "20200101-000000-00000000"))
    assert code == 1 and out == ""
    assert err == "aodio: unknown job 20200101-000000-00000000\n"


def test_export_srt_to_stdout_and_to_a_file(api, capsys, tmp_path):
    job_id = make_job(api, "talk.mp3")
    code, out, _ = run(capsys, api.args("export", job_id, "--format", "srt"))
    assert code == 0
    assert out.startswith("1\n00:00:00,000 --> ") and "SPEAKER_1: Hello everyone." in out
    target = tmp_path / "talk.srt"
    code, file_out, err = run(capsys, api.args("export", job_id, "--format", "srt", "--out", str(target)))
    assert code == 0 and file_out == "" and str(target) in err
    assert target.read_text() == out
    code, dash_out, _ = run(capsys, api.args("export", job_id, "--format", "srt", "--out", "-"))
    assert code == 0 and dash_out == out


def test_export_of_an_unfinished_job_says_it_is_not_ready(api, capsys):
    job_id = make_job(api, "busy.mp3", status="running")
    code, _, err = run(capsys, api.args("export", job_id, "--format", "txt"))
    assert code == 1 and "not ready" in err and err.count("\n") == 1


def test_bad_format_is_a_usage_error(api, capsys):
    code, out, err = run(capsys, api.args("export", "20200101-000000-00000000", "--format", "pdf"))
    assert code == 2 and out == ""
    assert err.startswith("aodio: argument --format: invalid choice: 'pdf'") and err.count("\n") == 1


def test_rename_merges_names_and_exports_show_them(api, capsys):
    job_id = make_job(api, "interview.mp3")
    code, out, _ = run(capsys, api.args("rename", job_id, "SPEAKER_1=Alice"))
    assert code == 0 and out == "SPEAKER_1 = Alice\n"
    code, out, _ = run(capsys, api.args("rename", job_id, "SPEAKER_2=Bob"))
    assert code == 0 and out == "SPEAKER_1 = Alice\nSPEAKER_2 = Bob\n"
    code, out, _ = run(capsys, api.args("export", job_id, "--format", "txt"))
    assert code == 0 and "Alice: Hello everyone." in out and "Bob: Thanks for coming." in out
    code, out, _ = run(capsys, api.args("rename", job_id, "Alice=Alicia", "SPEAKER_2="))  # by name; reset
    assert code == 0 and out == "SPEAKER_1 = Alicia\n"
    code, _, err = run(capsys, api.args("rename", job_id, "SPEAKER_9=Zoe"))
    assert code == 1 and "no speaker 'SPEAKER_9'" in err
    code, _, err = run(capsys, api.args("rename", job_id, "Alice"))
    assert code == 2 and "expected SPEAKER=NAME" in err


def test_delete_removes_the_job(api, capsys):
    job_id = make_job(api, "old.mp3")
    code, _, err = run(capsys, api.args("delete", job_id, "--yes"))
    assert code == 0 and job_id in err
    code, _, err = run(capsys, api.args("show", job_id))
    assert code == 1 and "unknown job" in err
    assert not api.storage.exists(keys.transcript_key(job_id))


def test_a_wrong_or_missing_key_gets_a_clear_message(api, capsys, monkeypatch):
    monkeypatch.delenv("AODIO_API_KEY", raising=False)
    code, _, err = run(capsys, ["jobs", "--api", api.url, "--api-key", "aodio_" + "0" * 40])
    assert (
        code == 1
        and err == f"aodio: the API at {api.url} refused the key: check AODIO_API_KEY or --api-key\n"
    )
    code, _, err = run(capsys, ["jobs", "--api", api.url])
    assert (
        code == 1
        and err == f"aodio: the API at {api.url} wants a key: set AODIO_API_KEY (or pass --api-key)\n"
    )
    monkeypatch.setenv("AODIO_API_KEY", api.key)
    code, _, _ = run(capsys, ["jobs", "--api", api.url])
    assert code == 0


def test_no_api_gets_a_clear_message(capsys):
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    code, _, err = run(capsys, ["jobs", "--api", url])
    assert code == 1
    assert err.startswith(f"aodio: no Aodio API at {url} (") and err.endswith("; start one with `aodio up`\n")


def test_a_route_the_server_lacks_is_told_apart_from_an_unknown_job(api):
    with AodioClient(api.url, api.key) as client, pytest.raises(RouteMissing, match="has no GET /v1/nothing"):
        client.fetch("/v1/nothing")


def test_upload_falls_back_to_multipart_without_s3(api, tmp_path):
    from rich.console import Console

    recording = tmp_path / "memo.mp3"
    recording.write_bytes(b"ID3" + secrets.token_bytes(4096))
    with AodioClient(api.url, api.key) as client:
        job_id = upload(client, recording, {"language": "fr"}, Console(quiet=True), presigned_min_bytes=0)
        state = client.job(job_id)
        assert state["original_name"] == "memo.mp3" and state["options"] == {"language": "fr"}
        assert client.fetch(f"/v1/jobs/{job_id}/outputs/source") == recording.read_bytes()


def test_a_big_file_goes_straight_to_s3_in_presigned_parts(nats_server, s3_server: WeedMini, tmp_path):
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_STORAGE_BACKEND": "s3",
        "AODIO_STORAGE_S3_ENDPOINT": s3_server.endpoint,
        "AODIO_STORAGE_S3_BUCKET": f"aodio-cli-{uuid.uuid4().hex[:8]}",
        "AODIO_STORAGE_S3_ACCESS_KEY": s3_server.access_key,
        "AODIO_STORAGE_S3_SECRET_KEY": s3_server.secret_key,
        "AODIO_INGEST_API_KEYS": "",
    }
    recording = tmp_path / "long.flac"
    recording.write_bytes(secrets.token_bytes(5 * 1024 * 1024 + 4321))  # two parts: 5 MiB is S3's floor
    sent: list[int] = []
    stack = LocalStack(tmp_path, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",))
    try:
        with stack, AodioClient(stack.api_url) as client:
            job_id = upload_presigned(client, recording, recording.stat().st_size, {}, sent.append)
            state = client.job(job_id)
            assert state["status"] == "queued" and state["size_bytes"] == recording.stat().st_size
            assert client.fetch(f"/v1/jobs/{job_id}/outputs/source") == recording.read_bytes()
    finally:
        drop_bucket(s3_server, env["AODIO_STORAGE_S3_BUCKET"])
    assert sum(sent) == recording.stat().st_size


def test_key_new_prints_a_key_and_its_server_entry(capsys):
    code, out, _ = run(capsys, ["key", "new", "ci", "--json"])
    made = json.loads(out)
    assert code == 0 and made["key"].startswith("aodio_")
    assert made["entry"] == f"ci:{hashlib.sha256(made['key'].encode()).hexdigest()}"
    code, out, _ = run(capsys, ["key", "new", "ci"])
    assert code == 0 and "AODIO_INGEST_API_KEYS" in out and "export AODIO_API_KEY=aodio_" in out
    code, _, err = run(capsys, ["key", "new", "bad name"])
    assert code == 2 and "key name 'bad name'" in err


def test_process_of_a_missing_file_is_a_usage_error(capsys, tmp_path: Path):
    code, _, err = run(capsys, ["process", str(tmp_path / "nope.mp3"), "--out", str(tmp_path)])
    assert code == 2 and err == f"aodio: no such file: {tmp_path / 'nope.mp3'}\n"
