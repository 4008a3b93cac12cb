"""A catalogue of bad input, tried on real processes: every case gets a clear error and nothing is lost.

Three tables, one per way in: the HTTP API (a status and a phrase of the reason, and a refused upload
leaves no artifact), recordings that reach transcode (the job fails there with a reason and keeps its
upload), and events forged on the bus (dead-lettered, the job failed or left alone). A good job after
all of them still completes its transcode stage, and the consumer has nothing stuck.
"""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import nats.errors
import pytest
from nats.js import api as js_api

from cli.stack import LocalStack
from contracts import keys
from contracts.events import AudioNormalized, DeadLetter, JobSubmitted, encode
from contracts.state import JobState, StageState
from runtime.bus import connect
from runtime.jobs import JobNotFound, JobStore
from runtime.settings import NatsSettings
from services.ingest.apikeys import new_key

AUDIO = Path(__file__).parent / "fixtures" / "audio"
UPLOAD_LIMIT = 8 * 1024 * 1024
MAX_DURATION_S = 9 * 3600  # a 10-hour recording is over it


# --- the stack and the media ------------------------------------------------------------------------


@dataclass
class Stack:
    client: httpx.Client
    artifacts: Path
    nats: NatsSettings
    file_server: str
    media: dict[str, Path]
    good_job: str = ""


def ffmpeg(args: str, dest: Path) -> Path:
    """Run ffmpeg with space-separated args, writing dest."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args.split(), str(dest)], check=True)
    return dest


def make_media(root: Path) -> dict[str, Path]:
    """Recordings made here in well under a second each: tones, 10 hours at 100 Hz, forged headers."""
    committed = ("not_audio.txt", "corrupt_header.mp3", "truncated.mp3", "video_no_audio.mp4")
    media = {name: AUDIO / name for name in (*committed, "video_with_audio.mp4")}
    media["tone.wav"] = ffmpeg("-f lavfi -i sine=f=440:r=16000 -t 2", root / "tone.wav")
    # Ten hours in 3.6 MB and a fraction of a second: 8-bit samples at 100 Hz.
    media["ten_hours.wav"] = ffmpeg(
        "-f lavfi -i anullsrc=r=100:cl=mono -t 36000 -c:a pcm_u8", root / "ten_hours.wav"
    )
    short_au = ffmpeg("-f lavfi -i sine=f=440:r=4000 -t 2 -c:a pcm_alaw", root / "short.au")
    claims = bytearray(short_au.read_bytes())
    claims[8:12] = (4000 * 3600 * 100).to_bytes(4, "big")  # the data size field: 100 hours of A-law
    media["claims_100h.au"] = root / "claims_100h.au"
    media["claims_100h.au"].write_bytes(bytes(claims))
    media["header_only.wav"] = ffmpeg("-f lavfi -i anullsrc=r=16000:cl=mono -t 0", root / "header_only.wav")
    media["image.mp3"] = ffmpeg(  # a PNG with an audio name
        "-f lavfi -i color=c=red:s=32x32 -frames:v 1 -f image2 -c:v png", root / "image.mp3"
    )
    media["random.mp3"] = root / "random.mp3"
    media["random.mp3"].write_bytes(bytes((i * 7919 + 13) % 251 for i in range(64 * 1024)))
    media["page.wav"] = root / "page.wav"
    media["page.wav"].write_text("<!doctype html><html><body>404 Not Found</body></html>\n")
    return media


@pytest.fixture(scope="module")
def file_server(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("web")
    (root / "notes.txt").write_bytes((AUDIO / "not_audio.txt").read_bytes())
    (root / "empty.wav").write_bytes(b"")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack(nats_server, file_server, tmp_path_factory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("bad-input")
    key, entry = new_key("tester")
    namespace = "t" + uuid.uuid4().hex[:10]
    env = {
        "AODIO_NATS_NAMESPACE": namespace,
        "AODIO_NATS_ACK_WAIT_S": "5",
        "AODIO_INGEST_API_KEYS": entry,
        "AODIO_INGEST_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "AODIO_TRANSCODE_MAX_DURATION_S": str(MAX_DURATION_S),
        "AODIO_EGRESS_ALLOW": "127.0.0.1/32",  # file_server: a local server, refused unless allowed
    }
    media = make_media(tmp_path_factory.mktemp("media"))
    with (
        LocalStack(
            data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest", "transcode")
        ) as local,
        httpx.Client(
            base_url=local.api_url, headers={"authorization": f"Bearer {key}"}, timeout=30
        ) as client,
    ):
        found = Stack(
            client,
            data / "artifacts",
            NatsSettings(url=nats_server.url, namespace=namespace),
            file_server,
            media,
        )
        found.good_job = submit(client, media["tone.wav"])
        assert wait_transcode(client, found.good_job)["status"] == "running"
        yield found


def submit(client: httpx.Client, path: Path, name: str | None = None) -> str:
    reply = client.post("/v1/jobs", files={"file": (name or path.name, path.read_bytes())})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


def wait_transcode(client: httpx.Client, job_id: str, timeout_s: float = 60) -> dict:
    """The job once transcode is done or the job failed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] == "failed" or job["stages"].get("transcode", {}).get("status") == "done":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is stuck: {job}")


def stored_jobs(artifacts: Path) -> set[str]:
    return {p.name for p in (artifacts / "jobs").iterdir()} if (artifacts / "jobs").exists() else set()


def clear(reason: str) -> bool:
    """A reason a person can read: one line, no traceback, not a wall of text."""
    return "Traceback" not in reason and "\n" not in reason and 0 < len(reason) <= 600


# --- 1. the HTTP API: a status and a reason, and a refused upload leaves nothing -------------------

Request = Callable[[httpx.Client, Stack], httpx.Response]
TONE = b"RIFF" + b"\0" * 64  # the API stores anything; transcode judges the content


def _streamed_too_big(client: httpx.Client, stack: Stack) -> httpx.Response:
    def body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 65536 + 10):
            yield b"y" * 65536
        yield b"\r\n--b--\r\n"

    headers = {"content-type": "multipart/form-data; boundary=b"}
    return client.post("/v1/jobs", content=body(), headers=headers)


def _anonymous(headers: dict[str, str]) -> Request:
    def call(client: httpx.Client, stack: Stack) -> httpx.Response:
        return httpx.get(str(client.base_url).rstrip("/") + "/v1/jobs", headers=headers, timeout=30)

    return call


def _upload(options: str | None = None, **fields: str) -> Request:
    data = {**({"options": options} if options is not None else {}), **fields}
    return lambda c, s: c.post("/v1/jobs", files={"file": ("a.wav", TONE)}, data=data)


API_CASES: dict[str, tuple[Request, int, str]] = {
    "no-api-key": (_anonymous({}), 401, "an API key is needed"),
    "wrong-api-key": (_anonymous({"authorization": "Bearer aodio_wrong"}), 401, "not valid"),
    "basic-auth-instead-of-bearer": (_anonymous({"authorization": "Basic dXNlcjpwdw=="}), 401, "key"),
    "no-file-field": (lambda c, s: c.post("/v1/jobs", files={"options": (None, "{}")}), 400, "no file"),
    "urlencoded-form": (lambda c, s: c.post("/v1/jobs", data={"options": "{}"}), 415, "multipart/form-data"),
    "raw-body-not-multipart": (
        lambda c, s: c.post("/v1/jobs", content=TONE, headers={"content-type": "audio/wav"}),
        415,
        "multipart/form-data",
    ),
    "zero-byte-upload": (
        lambda c, s: c.post("/v1/jobs", files={"file": ("empty.mp3", b"")}),
        400,
        "upload is empty",
    ),
    "options-not-json": (_upload("{bad"), 422, "bad options"),
    "options-not-an-object": (_upload("[1, 2]"), 422, "JSON object"),
    "options-unknown-field": (_upload('{"shoe": 1}'), 422, "shoe"),
    "options-zero-speakers": (_upload('{"speakers": 0}'), 422, "speakers"),
    "options-language-not-text": (_upload('{"language": 5}'), 422, "language"),
    "speakers-field-not-a-number": (_upload(speakers="many"), 422, "not a number"),
    "upload-over-limit-declared": (
        lambda c, s: c.post("/v1/jobs", files={"file": ("big.mp3", b"x" * (UPLOAD_LIMIT + 2**20 + 10))}),
        413,
        "larger than the limit",
    ),
    "upload-over-limit-streamed": (_streamed_too_big, 413, "larger than the limit"),
    "job-id-one-letter": (lambda c, s: c.get("/v1/jobs/x"), 404, "unknown job"),
    "job-id-upper-case": (lambda c, s: c.get("/v1/jobs/NOT-A-JOB-ID"), 404, "unknown job"),
    "job-id-well-formed-unknown": (
        lambda c, s: c.get("/v1/jobs/20991231-000000-00000000"),
        404,
        "unknown job",
    ),
    "job-id-traversal": (lambda c, s: c.get("/v1/jobs/..%2F..%2Fetc%2Fpasswd"), 404, "Not Found"),
    "job-id-300-chars": (lambda c, s: c.get("/v1/jobs/" + "a" * 300), 404, "unknown job"),
    "job-id-unicode": (lambda c, s: c.get("/v1/jobs/j%C3%B6b-%F0%9F%8E%99"), 404, "unknown job"),
    "job-id-unknown-on-transcript": (
        lambda c, s: c.get("/v1/jobs/20991231-000000-00000000/transcript"),
        404,
        "unknown job",
    ),
    "wrong-method-put-jobs": (lambda c, s: c.put("/v1/jobs", json={}), 405, "Method Not Allowed"),
    "wrong-method-patch-job": (lambda c, s: c.patch(f"/v1/jobs/{s.good_job}"), 405, "Method Not Allowed"),
    "transcript-format-pdf": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/transcript", params={"format": "pdf"}),
        400,
        "unknown transcript format",
    ),
    "transcript-format-docx": (  # the document holds the summary too: the answer names its route
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/transcript", params={"format": "docx"}),
        400,
        "/document?format=docx",
    ),
    "summary-format-srt": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/summary", params={"format": "srt"}),
        400,
        "unknown summary format",
    ),
    "transcript-not-ready": (lambda c, s: c.get(f"/v1/jobs/{s.good_job}/transcript"), 409, "not ready"),
    "range-not-bytes": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/audio", headers={"range": "items=0-1"}),
        416,
        "unsupported range",
    ),
    "range-garbage": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/audio", headers={"range": "bytes=abc"}),
        416,
        "unsupported range",
    ),
    "range-empty": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/audio", headers={"range": "bytes=-"}),
        416,
        "unsupported range",
    ),
    "range-beyond-the-end": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/audio", headers={"range": "bytes=999999999-"}),
        416,
        "outside",
    ),
    "range-reversed": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/audio", headers={"range": "bytes=50-10"}),
        416,
        "outside",
    ),
    "output-unknown-name": (lambda c, s: c.get(f"/v1/jobs/{s.good_job}/outputs/nope"), 404, "has no output"),
    "output-name-traversal": (
        lambda c, s: c.get(f"/v1/jobs/{s.good_job}/outputs/..%2F..%2Fetc%2Fpasswd"),
        404,
        "Not Found",  # the decoded path names no route: nothing is read
    ),
    "list-limit-zero": (lambda c, s: c.get("/v1/jobs", params={"limit": 0}), 422, "limit"),
    "list-limit-not-a-number": (lambda c, s: c.get("/v1/jobs", params={"limit": "ten"}), 422, "limit"),
    "speakers-body-not-json": (
        lambda c, s: c.put(
            f"/v1/jobs/{s.good_job}/speakers",
            content=b"{not json",
            headers={"content-type": "application/json"},
        ),
        422,
        "JSON",
    ),
    "from-url-file-scheme": (
        lambda c, s: c.post("/v1/jobs/from-url", json={"url": "file:///etc/passwd"}),
        422,
        "http(s)",
    ),
    "from-url-404": (
        lambda c, s: c.post("/v1/jobs/from-url", json={"url": f"{s.file_server}/missing.wav"}),
        502,
        "HTTP 404",
    ),
    "from-url-empty-file": (
        lambda c, s: c.post("/v1/jobs/from-url", json={"url": f"{s.file_server}/empty.wav"}),
        400,
        "empty",
    ),
    "from-url-no-url": (lambda c, s: c.post("/v1/jobs/from-url", json={"options": {}}), 422, "url"),
    "from-url-bad-options": (
        lambda c, s: c.post(
            "/v1/jobs/from-url", json={"url": f"{s.file_server}/notes.txt", "options": {"speakers": 99}}
        ),
        422,
        "speakers",
    ),
    "direct-upload-on-directory-storage": (
        lambda c, s: c.post("/v1/uploads", json={"filename": "big.wav", "size_bytes": 10}),
        501,
        "S3",
    ),
}


def _detail(reply: httpx.Response) -> str:
    detail = reply.json()["detail"]
    return detail if isinstance(detail, str) else msgspec.json.encode(detail).decode()


@pytest.mark.parametrize("case", list(API_CASES))
def test_bad_api_use_gets_a_clear_error_and_leaves_nothing(stack: Stack, case: str) -> None:
    request, status, phrase = API_CASES[case]
    before = stored_jobs(stack.artifacts)
    reply = request(stack.client, stack)
    assert reply.status_code == status, reply.text
    detail = _detail(reply)
    assert phrase in detail and clear(detail), detail
    assert stored_jobs(stack.artifacts) == before


# --- 2. file names: accepted, stored under the job with a safe name -------------------------------

NAME_CASES: dict[str, tuple[str, str]] = {
    "name-traversal": ("../../etc/passwd", "passwd"),
    "name-windows-traversal": ("..\\..\\boot.ini", "boot.ini"),
    "name-absolute": ("/etc/shadow", "shadow"),
    "name-only-dots": ("....", "upload"),
    "name-very-long": ("a" * 1000 + ".wav", "a" * 120),
    "name-unicode-and-spaces": ("réunion 🎙 équipe «v2».wav", "r_union_quipe_v2_.wav"),
}


@pytest.mark.parametrize("case", list(NAME_CASES))
def test_odd_file_names_are_stored_safely_inside_the_job(stack: Stack, case: str) -> None:
    name, stored_name = NAME_CASES[case]
    job_id = submit(stack.client, stack.media["tone.wav"], name=name)
    job = stack.client.get(f"/v1/jobs/{job_id}").json()
    key = job["outputs"]["source"]
    assert key == f"{keys.job_prefix(job_id)}source/{stored_name}" and keys.belongs_to_job(key, job_id)
    stored = (stack.artifacts / key).resolve()
    assert (
        stored.is_relative_to(stack.artifacts.resolve())
        and stored.read_bytes() == stack.media["tone.wav"].read_bytes()
    )
    download = stack.client.get(f"/v1/jobs/{job_id}/outputs/source")
    assert download.headers["content-disposition"] == f'attachment; filename="{stored_name}"'
    assert wait_transcode(stack.client, job_id)["status"] == "running"  # a good recording still works


# --- 3. recordings transcode refuses: the job fails there with a reason, and keeps its upload ------

MEDIA_CASES: dict[str, tuple[str, str]] = {
    "text-file": ("not_audio.txt", "not a readable audio or video file"),
    "corrupt-mp3-header": ("corrupt_header.mp3", "not a readable audio or video file"),
    "truncated-mp3": ("truncated.mp3", "truncated"),
    "video-without-audio": ("video_no_audio.mp4", "upload is not audio: ffprobe found no audio stream"),
    "random-bytes-named-mp3": ("random.mp3", "not a readable audio or video file"),
    "png-image-named-mp3": ("image.mp3", "ffprobe found no audio stream"),
    "html-page-named-wav": ("page.wav", "not a readable audio or video file"),
    "wav-header-without-samples": ("header_only.wav", "no measurable duration"),
    "ten-hours-over-the-limit": (
        "ten_hours.wav",
        "recording is 10 h 00 min long; the limit is 9 h 00 min (AODIO_TRANSCODE_MAX_DURATION_S)",
    ),
    "header-claims-100-hours": ("claims_100h.au", "recording is 100 h 00 min long"),
}


def check_failed_in_transcode(stack: Stack, job_id: str, phrase: str) -> dict:
    job = wait_transcode(stack.client, job_id)
    assert job["status"] == "failed" and job["failed_stage"] == "transcode", job
    assert phrase in job["error"] and clear(job["error"]), job["error"]
    assert job["stages"]["transcode"]["attempts"] == 1  # permanent: never retried
    assert "normalized_audio" not in job["outputs"]
    assert not (stack.artifacts / keys.job_prefix(job_id) / "audio").exists()  # nothing half-written
    return job


@pytest.mark.parametrize("case", list(MEDIA_CASES))
def test_bad_recordings_fail_the_job_with_a_reason_and_keep_the_upload(stack: Stack, case: str) -> None:
    name, phrase = MEDIA_CASES[case]
    path = stack.media[name]
    job_id = submit(stack.client, path)
    check_failed_in_transcode(stack, job_id, phrase)
    source = stack.client.get(f"/v1/jobs/{job_id}/outputs/source")
    assert source.status_code == 200 and source.content == path.read_bytes()
    results = stack.client.get(f"/v1/jobs/{job_id}/transcript")
    assert results.status_code == 409 and phrase in results.json()["detail"]


def test_from_url_pointing_at_a_text_file_fails_in_transcode(stack: Stack) -> None:
    reply = stack.client.post("/v1/jobs/from-url", json={"url": f"{stack.file_server}/notes.txt"})
    assert reply.status_code == 202, reply.text
    check_failed_in_transcode(stack, reply.json()["job_id"], "not a readable audio or video file")


ACCEPTED_CASES = {"video-with-audio": "video_with_audio.mp4"}


@pytest.mark.parametrize("case", list(ACCEPTED_CASES))
def test_a_video_with_an_audio_track_is_accepted(stack: Stack, case: str) -> None:
    job = wait_transcode(stack.client, submit(stack.client, stack.media[ACCEPTED_CASES[case]]))
    assert job["status"] == "running" and job["error"] is None and job["duration_s"] > 0


# --- 4. events forged on the bus: dead-lettered; a real job they name fails with a reason ---------


async def _with_bus(settings: NatsSettings, work):  # type: ignore[no-untyped-def]
    nc = await connect(settings)
    try:
        js = nc.jetstream()
        return await work(nc, js, await JobStore.open(js, settings.topology.jobs_bucket))
    finally:
        await nc.close()


def on_bus(stack: Stack, work):  # type: ignore[no-untyped-def]
    return asyncio.run(_with_bus(stack.nats, work))


def forged_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]


def _submitted(job_id: str, source_key: str) -> bytes:
    return encode(JobSubmitted(job_id=job_id, source_key=source_key, original_name="a.wav", size_bytes=1))


# name -> (the payload for a fresh job id, a phrase of the reason, whether a real job is created and fails)
BUS_CASES: dict[str, tuple[Callable[[str, Stack], bytes], str, bool]] = {
    "undecodable-json": (lambda j, s: b'{"type": "job.submitted", "job_id": ', "malformed event", False),
    "not-json-at-all": (lambda j, s: b"\xff\xfe binary \x00 garbage", "malformed event", False),
    "unknown-type-tag": (
        lambda j, s: b'{"type": "job.exploded", "job_id": "%s"}' % j.encode(),
        "malformed event",
        False,
    ),
    "job-id-traversal-in-event": (
        lambda j, s: _submitted(j, "k").replace(j.encode(), b"../../etc"),
        "malformed event",
        False,
    ),
    "negative-size": (
        lambda j, s: _submitted(j, f"jobs/{j}/source/a.wav").replace(b'"size_bytes":1', b'"size_bytes":-5'),
        "malformed event",
        False,
    ),
    "valid-event-for-unknown-job": (
        lambda j, s: _submitted(j, f"jobs/{j}/source/a.wav"),
        "unknown job",
        False,
    ),
    "wrong-event-type-on-subject": (
        lambda j, s: encode(
            AudioNormalized(
                job_id=j, normalized_key=keys.normalized_audio_key(j), duration_s=1, chunk_count=1
            )
        ),
        "transcode expects job.submitted, got AudioNormalized",
        True,
    ),
    "source-key-of-another-job": (
        lambda j, s: _submitted(j, keys.source_key(s.good_job, "tone.wav")),
        "is not an upload of job",
        True,
    ),
    "source-key-traversal": (
        lambda j, s: _submitted(j, f"jobs/{j}/../../../../etc/passwd"),
        "is not an upload of job",
        True,
    ),
    "source-key-missing-object": (
        lambda j, s: _submitted(j, f"jobs/{j}/source/never-uploaded.wav"),
        "is not in storage: submit the recording again",
        True,
    ),
}


async def _dead_letter(js, settings: NatsSettings, sequence: int, timeout_s: float = 30) -> DeadLetter:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    subject = settings.topology.dead_letter_subject("transcode")
    while time.monotonic() < deadline:
        sub = await js.subscribe(subject, ordered_consumer=True, deliver_policy=js_api.DeliverPolicy.ALL)
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=0.3)
                except (TimeoutError, nats.errors.TimeoutError):
                    break
                letter = msgspec.json.decode(msg.data, type=DeadLetter)
                if letter.stream_sequence == sequence:
                    return letter
        finally:
            await sub.unsubscribe()
        await asyncio.sleep(0.2)
    raise AssertionError(f"no dead letter for stream sequence {sequence}")


@pytest.mark.parametrize("case", list(BUS_CASES))
def test_forged_events_are_dead_lettered_with_a_reason(stack: Stack, case: str) -> None:
    payload_for, phrase, fails_job = BUS_CASES[case]
    job_id = forged_job_id()
    good_source = stack.artifacts / keys.source_key(stack.good_job, "tone.wav")
    good_bytes = good_source.read_bytes()

    async def forge(nc, js, jobs: JobStore) -> DeadLetter:  # type: ignore[no-untyped-def]
        if fails_job:
            now = time.time()
            ingest = StageState(status="done", started_at=now, finished_at=now, done=1, total=1)
            await jobs.create(
                JobState(job_id=job_id, created_at=now, owner="tester", stages={"ingest": ingest})
            )
        subject = stack.nats.topology.subject_for(JobSubmitted)
        ack = await js.publish(subject, payload_for(job_id, stack))
        letter = await _dead_letter(js, stack.nats, ack.seq)
        if not fails_job:
            with pytest.raises(JobNotFound):  # a forged event never creates a job
                await jobs.get(job_id)
        return letter

    letter = on_bus(stack, forge)
    assert letter.stage == "transcode" and phrase in letter.reason and clear(letter.reason), letter.reason
    if fails_job:
        check_failed_in_transcode(stack, job_id, phrase)
    assert good_source.read_bytes() == good_bytes  # another job's upload is untouched


def test_a_payload_over_the_server_limit_is_refused_at_publish(stack: Stack) -> None:
    async def publish_huge(nc, js, jobs: JobStore) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        stream = stack.nats.topology.stream
        before = (await js.stream_info(stream)).state.last_seq
        with pytest.raises(nats.errors.MaxPayloadError):
            await js.publish(stack.nats.topology.subject_for(JobSubmitted), b"x" * (nc.max_payload + 1))
        return before, (await js.stream_info(stream)).state.last_seq

    before, after = on_bus(stack, publish_huge)
    assert before == after  # nothing reached the stream


# --- after all of it: the pipeline still works, and nothing is stuck -----------------------------


def test_a_good_job_after_the_bad_ones_still_completes_transcode(stack: Stack) -> None:
    job = wait_transcode(stack.client, submit(stack.client, stack.media["tone.wav"], name="after.wav"))
    assert job["status"] == "running" and job["error"] is None and job["chunks_total"] >= 1

    async def pending(nc, js, jobs: JobStore):  # type: ignore[no-untyped-def]
        info = await js.consumer_info(stack.nats.topology.stream, "transcode")
        return info.num_pending, info.num_ack_pending

    assert on_bus(stack, pending) == (0, 0)


CATALOGUE = [
    *API_CASES,
    *NAME_CASES,
    *MEDIA_CASES,
    "from-url-text-file",
    *ACCEPTED_CASES,
    *BUS_CASES,
    "payload-over-the-server-limit",
]


def test_the_catalogue_has_at_least_30_distinct_cases() -> None:
    assert len(CATALOGUE) == len(set(CATALOGUE)) >= 30
