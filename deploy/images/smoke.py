"""Run all seven services from their own images and push a real recording through to a summary.

    .venv/bin/python deploy/images/smoke.py [--file tests/fixtures/conversations/two_voices.mp3]

Run as root, after `make images`. NATS and an S3 server run on loopback outside the images, as
Railway's own NATS and bucket services would. Every service runs from its image (buildah, chroot
isolation) as the image's user, configured only by the variables deploy/railway/.railway/railway.ts
sets (Railway's private host names mapped to loopback). Everything runs in a new network namespace
with only loopback, so nothing can be downloaded at run time. Checks each image's HEALTHCHECK, the
job's transcript and summary, and that every service drains on SIGTERM within Railway's
drainingSeconds. Prints a table and writes bench/out/images-smoke.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from containers import Container  # noqa: E402

from runtime.embedded import NatsServer, WeedMini  # noqa: E402

SERVICES = ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize", "notify")
RAILWAY = ROOT / "deploy/railway"
READY_TIMEOUT_S = 300.0
JOB_TIMEOUT_S = 1800.0


def railway_definition(out: Path) -> dict[str, dict[str, Any]]:
    """The Railway program's resources by name (evaluated offline with tsx), saved beside the report."""
    if not (RAILWAY / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RAILWAY, check=True)
    done = subprocess.run(
        ["npx", "--no-install", "tsx", "evaluate.ts", "--full"],
        cwd=RAILWAY,
        capture_output=True,
        text=True,
        check=True,
    )
    (out / "railway.json").write_text(done.stdout)
    return {r["name"]: r for r in json.loads(done.stdout)["resources"] if r.get("type") == "service"}


def service_env(
    resource: dict[str, Any], nats: NatsServer, s3: WeedMini, api_key_hash: str
) -> dict[str, str]:
    """The variables Railway would give this service, its private host names mapped to loopback."""
    hosts = {
        "nats.railway.internal:4222": f"127.0.0.1:{nats.port}",
        "minio.railway.internal:9000": s3.endpoint,
    }
    outputs = {
        ("service.minio", "MINIO_ROOT_USER"): s3.access_key,
        ("service.minio", "MINIO_ROOT_PASSWORD"): s3.secret_key,
    }
    secrets_set = {"AODIO_INGEST_API_KEYS": f"smoke:{api_key_hash}"}  # what an operator sets in the dashboard
    env: dict[str, str] = {}
    for name, variable in dict(resource.get("variables") or {}).items():  # type: ignore[call-overload]
        kind = variable["type"]
        if kind == "literal":
            value = str(variable["value"])
            for private, local in hosts.items():
                value = value.replace(private, local)
            env[name] = value
        elif kind == "reference":
            env[name] = outputs[(variable["resource"], variable["output"])]
        elif kind == "preserve" and name in secrets_set:
            env[name] = secrets_set[name]
    return env


def loopback_only() -> bool:
    """True when no address outside this host can be reached (the namespace has only lo)."""
    for address in (("1.1.1.1", 443), ("pypi.org", 443)):
        try:
            socket.create_connection(address, timeout=3).close()
            return False
        except OSError:
            continue
    return True


def wait_ready(containers: dict[str, Container], results: dict[str, dict[str, Any]]) -> None:
    """Poll each service until its HEALTHCHECK passes and it says it is ready; record the times."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = set(containers)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            box, row = containers[name], results[name]
            if not box.running():
                raise SystemExit(f"smoke: {name} exited during start-up:\n{box.log_text()[-3000:]}")
            if "healthy_s" not in row:
                ok, said = box.healthcheck()
                row["healthcheck"] = said or "ok"
                if ok:
                    row["healthy_s"] = round(time.monotonic() - box.started_at, 1)
            ready = name == "ingest" or f"stage {name} ready" in box.log_text()
            if ready and "healthy_s" in row:
                row["ready_s"] = round(time.monotonic() - box.started_at, 1)
                pending.discard(name)
        time.sleep(1.0)
    if pending:
        said = "; ".join(f"{n}: {results[n].get('healthcheck')}" for n in sorted(pending))
        raise SystemExit(f"smoke: not ready after {READY_TIMEOUT_S:.0f} s: {said}")


def push_job(recording: Path, api_key: str, out: Path) -> dict[str, Any]:
    """Upload through ingest, follow the job to the end, fetch its transcript and summary."""
    from cli.client import AodioClient

    started = time.monotonic()
    with AodioClient("http://127.0.0.1:8000", api_key=api_key, timeout_s=60) as client:
        job_id = client.submit(recording, {}, lambda n: None)["job_id"]
        print(f"smoke: job {job_id} submitted", flush=True)
        last = None
        while time.monotonic() - started < JOB_TIMEOUT_S:
            job = client.job(job_id)
            if (job["status"], job.get("stage")) != last:
                last = (job["status"], job.get("stage"))
                print(
                    f"smoke: {time.monotonic() - started:6.0f} s  {job['status']} {job.get('stage') or ''}",
                    flush=True,
                )
            if job["status"] in ("completed", "failed"):
                break
            time.sleep(2.0)
        seconds = round(time.monotonic() - started, 1)
        if job["status"] != "completed":
            return {"job_id": job_id, "status": job["status"], "seconds": seconds, "error": job.get("error")}
        transcript = json.loads(client.fetch(f"/v1/jobs/{job_id}/transcript", {"format": "json"}))
        summary = json.loads(client.fetch(f"/v1/jobs/{job_id}/summary", {"format": "json"}))
    (out / "transcript.json").write_text(json.dumps(transcript, indent=1, ensure_ascii=False))
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    segments = transcript.get("segments") or []
    words = sum(len(str(s.get("text", "")).split()) for s in segments)
    return {
        "job_id": job_id,
        "status": "completed",
        "seconds": seconds,
        "words": words,
        "speakers": sorted({str(s.get("speaker")) for s in segments if s.get("speaker")}),
        "summary_method": summary.get("method"),
        "summary_model": summary.get("model"),
    }


def problems(job: dict[str, Any], results: dict[str, dict[str, Any]], grace: dict[str, float]) -> list[str]:
    """What the run got wrong, one line each."""
    found = []
    if job.get("status") != "completed":
        found.append(f"job {job.get('status')}: {job.get('error')}")
    elif int(job.get("words") or 0) < 20 or len(job.get("speakers") or []) < 2:  # type: ignore[arg-type]
        found.append(f"transcript too thin: {job.get('words')} words, speakers {job.get('speakers')}")
    elif job.get("summary_method") != "llm":
        found.append(f"summary made by {job.get('summary_method')!r}, not the image's own model")
    for name, row in results.items():
        if row.get("drain_s") is None or row.get("exit_code") != 0:
            found.append(
                f"{name}: did not drain on SIGTERM within {grace[name]:.0f} s (exit {row.get('exit_code')})"
            )
    return found


def smoke(args: argparse.Namespace) -> int:
    out: Path = args.out
    resources = json.loads((out / "railway.json").read_text())["resources"]
    definition = {r["name"]: r for r in resources if r.get("type") == "service"}
    isolated = loopback_only()
    print(f"smoke: network {'loopback only' if isolated else 'NOT isolated'}", flush=True)
    api_key = secrets.token_urlsafe(24)
    key_hash = hashlib.sha256(api_key.encode()).hexdigest()
    containers: dict[str, Container] = {}
    results: dict[str, dict[str, Any]] = {name: {} for name in SERVICES}
    grace = {n: float(dict(definition[n].get("deploy") or {}).get("drainingSeconds") or 30) for n in SERVICES}  # type: ignore[call-overload]
    work = Path(tempfile.mkdtemp(prefix="aodio-smoke-"))
    with (
        NatsServer(work / "nats", port=4222, log_file=out / "logs/nats-server.log") as nats,
        WeedMini(work / "s3", log_file=out / "logs/weed.log") as s3,
    ):
        try:
            for name in SERVICES:
                env = service_env(definition[name], nats, s3, key_hash)
                box = Container(f"aodio-smoke-{name}", f"{args.prefix}{name}", env, out / f"logs/{name}.log")
                box.create()
                results[name]["user"] = str(box.config.get("User"))
                box.start()
                containers[name] = box
            wait_ready(containers, results)
            print("smoke: all seven services healthy and ready", flush=True)
            job = push_job(args.file, api_key, out)
            for name in SERVICES:
                drain_s, code = containers[name].stop(grace[name])
                results[name] |= {"drain_s": drain_s, "exit_code": code, "grace_s": grace[name]}
        finally:
            for box in containers.values():
                box.remove()
    found = problems(job, results, grace) + ([] if isolated else ["the namespace reached the network"])
    report = {
        "file": str(args.file),
        "isolated": isolated,
        "job": job,
        "services": results,
        "problems": found,
    }
    (out / "images-smoke.json").write_text(json.dumps(report, indent=1) + "\n")
    print_report(report)
    return 1 if found else 0


def print_report(report: dict[str, Any]) -> None:
    print(
        "\n| service | user | healthy after | ready after | drain on SIGTERM | exit |"
        "\n|---|---|---:|---:|---:|---:|"
    )
    for name, row in dict(report["services"]).items():  # type: ignore[call-overload]
        print(
            f"| {name} | {row.get('user')} | {row.get('healthy_s')} s | {row.get('ready_s')} s "
            f"| {row.get('drain_s')} s (of {row.get('grace_s')}) | {row.get('exit_code')} |"
        )
    print(f"\njob: {json.dumps(report['job'])}")
    for line in report["problems"] or ["smoke: PASSED"]:  # type: ignore[union-attr]
        print(line if line == "smoke: PASSED" else f"smoke: FAILED: {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=ROOT / "tests/fixtures/conversations/two_voices.mp3")
    parser.add_argument("--prefix", default="localhost/aodio-")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/images-smoke")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)  # in the namespace already
    args = parser.parse_args(argv)
    args.file, args.out = args.file.resolve(), args.out.resolve()
    if args.inside:
        return smoke(args)
    if os.geteuid() != 0:
        sys.exit("smoke: run as root (network namespaces and buildah's chroot isolation need it)")
    args.out.mkdir(parents=True, exist_ok=True)
    railway_definition(args.out)  # before the namespace: npm may need the registry
    namespace = f"aodio-smoke-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"], check=True)
        inner = ["ip", "netns", "exec", namespace, sys.executable, __file__, "--inside"]
        inner += ["--file", str(args.file), "--prefix", args.prefix, "--out", str(args.out)]
        return subprocess.run(inner, check=False).returncode
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False)


if __name__ == "__main__":
    sys.exit(main())
