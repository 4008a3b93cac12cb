"""Generate tests/fixtures/stored_job/: one real job as the code stores it, for tests/test_stored_job.py.

Runs one short two-voice recording through the whole pipeline (the embedded stack of `aodio up`:
its own nats-server, a directory for artifacts, every stage, tiny.en and the extractive summary),
then copies out what a stored job is made of:

    state.json                 the job's state record: the KV value, byte for byte
    events.jsonl               the job's events as the stream holds them (subject, headers, payload)
    artifacts/jobs/<id>/...    every artifact the stages wrote, under its storage key

Left out (listed in the README it writes): the uploaded recording and the chunk audio, which only a
replay from transcode or transcribe reads, and the normalized audio when it is over --max-audio-bytes.
A replay from diarize, assemble or summarize, every export and a rename need nothing left out.

    .venv/bin/python scripts/make_stored_job.py [--out tests/fixtures/stored_job]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the project's modules come from its own checkout
    sys.path.insert(0, str(ROOT))

from cli.stack import LocalStack  # noqa: E402
from runtime.bus import connect  # noqa: E402
from runtime.settings import NatsSettings  # noqa: E402

# 90 s, two voices the diarizer tells apart (tests/test_speakers_e2e.py); in the 32-s
# audio/en_two_voices.mp3 it hears one voice, even when told there are two.
RECORDING = ROOT / "tests" / "fixtures" / "conversations" / "two_voices.mp3"
OUT = ROOT / "tests" / "fixtures" / "stored_job"
# The fast models the tests use; the summary needs no model (tests/test_replay.py does the same).
ENV = {
    "AODIO_TRANSCRIBE_MODEL": "tiny.en",
    "AODIO_SUMMARIZE_METHOD": "extractive",
    "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # not local/...: no llama.cpp server is started
}
# Several chunks, so assemble fans in.
OPTIONS = {"chunk_seconds": 30}
# Under jobs/<id>/: what is not kept unless small (normalized audio) or at all (the rest).
NORMALIZED_AUDIO = "audio/normalized.flac"
NEVER_KEPT = ("source/", "audio/chunks/")


def wait_until_finished(client: httpx.Client, job_id: str, deadline_s: float) -> dict[str, object]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        job: dict[str, object] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.5)
    raise SystemExit(f"job {job_id} did not finish in {deadline_s:.0f} s")


async def stored_state_and_events(nats: NatsSettings, job_id: str) -> tuple[bytes, list[dict[str, object]]]:
    """The job's KV value as stored, and every message of the stream that carries this job."""
    nc = await connect(nats)
    try:
        js = nc.jetstream()
        entry = await (await js.key_value(nats.topology.jobs_bucket)).get(job_id)
        assert entry.value is not None
        info = await js.stream_info(nats.topology.stream)
        events = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(nats.topology.stream, seq)
            payload = json.loads(msg.data or b"{}")
            if payload.get("job_id") != job_id:
                continue
            events.append({"subject": msg.subject, "headers": dict(msg.headers or {}), "data": payload})
        return entry.value, events
    finally:
        await nc.close()


def copy_artifacts(job_dir: Path, out: Path, max_audio_bytes: int) -> list[str]:
    """Copy the job's artifacts under out/artifacts/ by storage key; returns what was left out."""
    left_out = []
    for path in sorted(p for p in job_dir.rglob("*") if p.is_file()):
        inside = path.relative_to(job_dir).as_posix()
        too_big = inside == NORMALIZED_AUDIO and path.stat().st_size > max_audio_bytes
        if inside.startswith(NEVER_KEPT) or too_big:
            left_out.append(f"{inside} ({path.stat().st_size} bytes)")
            continue
        target = out / "artifacts" / path.relative_to(job_dir.parents[1])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return left_out


def commit_of(root: Path) -> str:
    described = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%h (%cs)"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = described.stdout.strip() or "unknown commit"
    return commit + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def readme(job_id: str, recording: Path, left_out: list[str], commit: str) -> str:
    kept = "\n".join(f"- {item}" for item in left_out) or "- nothing"
    return f"""# A stored job (fixture for tests/test_stored_job.py)

Generated by `.venv/bin/python scripts/make_stored_job.py --out tests/fixtures/stored_job` run in a
checkout of commit {commit}, on {time.strftime("%Y-%m-%d", time.gmtime())}: job `{job_id}`, the recording
`{recording.relative_to(ROOT)}` with options `{json.dumps(OPTIONS)}` through every stage, with
tiny.en and the extractive summary.

Do not regenerate it to make a test pass: it stands for a job stored by that commit's code, which
later code must still export, rename and replay. `state.json` is the job's KV value byte for byte,
`events.jsonl` the job's messages on the stream, `artifacts/` every artifact under its storage key.

Left out (only a replay from transcode or transcribe reads them):
{kept}
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=OUT, help="the fixture folder (replaced)")
    parser.add_argument("--recording", type=Path, default=RECORDING)
    parser.add_argument(
        "--max-audio-bytes", type=int, default=150_000, help="keep normalized.flac under this"
    )
    args = parser.parse_args()
    import contracts

    print(f"code from {Path(contracts.__file__).parent.parent} ({commit_of(ROOT)})", file=sys.stderr)
    namespace = "stored" + uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="aodio-stored-job-") as tmp:
        data = Path(tmp)
        env = {**ENV, "AODIO_NATS_NAMESPACE": namespace}
        with (
            LocalStack(data, api_port=0, extra_env=env, replicas={"transcribe": 1}) as stack,
            httpx.Client(base_url=stack.api_url, timeout=60) as client,
        ):
            with args.recording.open("rb") as handle:
                files = {"file": (args.recording.name, handle)}
                reply = client.post("/v1/jobs", files=files, data={"options": json.dumps(OPTIONS)})
            reply.raise_for_status()
            job_id = str(reply.json()["job_id"])
            job = wait_until_finished(client, job_id, 600)
            if job["status"] != "completed":
                raise SystemExit(f"job {job_id} failed: {job.get('error')}; logs in {data / 'logs'}")
            transcript = client.get(f"/v1/jobs/{job_id}/transcript").json()
            if len(transcript["speakers"]) < 2:
                raise SystemExit(f"job {job_id} found {transcript['speakers']}: a rename needs two speakers")
            nats = NatsSettings(url=stack.nats.url, namespace=namespace)
            state, events = asyncio.run(stored_state_and_events(nats, job_id))
        if args.out.exists():
            shutil.rmtree(args.out)
        args.out.mkdir(parents=True)
        left_out = copy_artifacts(data / "artifacts" / "jobs" / job_id, args.out, args.max_audio_bytes)
    (args.out / "state.json").write_bytes(state)
    (args.out / "events.jsonl").write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events))
    (args.out / "README.md").write_text(readme(job_id, args.recording.resolve(), left_out, commit_of(ROOT)))
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"job {job_id}: {size} bytes in {args.out}; left out: {', '.join(left_out) or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
