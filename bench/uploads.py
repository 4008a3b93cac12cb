"""The three ways in, measured on the 4 h 15 recording: multipart through the API, presigned parts
straight to S3, and a URL the API fetches. Prints JSON: seconds, MiB/s, peak RSS of the API process.

    .venv/bin/python -m bench.uploads [--file bench/audio/long_4h15.mp3]

Everything runs on this machine (an ingest-only embedded stack on a local SeaweedFS S3), so the
figures show the API's own cost, not a network's.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.memory import PeakSampler
from bench.run import ensure_recording
from cli.client import AodioClient
from cli.stack import LocalStack
from cli.upload import upload_presigned

MIB = 1024 * 1024


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _measure(stack: LocalStack, size: int, send: Callable[[], str]) -> dict[str, Any]:
    with PeakSampler({"ingest": stack.children["ingest"].pid}) as sampler:
        started = time.perf_counter()
        job_id = send()
        seconds = time.perf_counter() - started
    return {
        "job_id": job_id,
        "seconds": round(seconds, 2),
        "mib_per_s": round(size / MIB / seconds, 1),
        "ingest_peak_rss_mib": round(sampler.peaks["ingest"] / MIB),
    }


def run(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    figures: dict[str, Any] = {"file": str(path), "size_mib": round(size / MIB, 1)}
    with tempfile.TemporaryDirectory(prefix="aodio-bench-uploads-") as tmp:
        stack = LocalStack(Path(tmp) / "stack", api_port=0, s3=True, stages=("ingest",))
        server, base = _serve(path.parent)
        try:
            with stack, AodioClient(stack.api_url, timeout_s=600) as client:
                figures["multipart_through_api"] = _measure(
                    stack, size, lambda: client.submit(path, {}, lambda _: None).job_id
                )
                figures["presigned_to_s3"] = _measure(
                    stack, size, lambda: upload_presigned(client, path, size, {}, lambda _: None)
                )

                def fetch() -> str:
                    reply = client._call(
                        "POST", "/v1/jobs/from-url", json={"url": f"{base}/{path.name}"}, timeout=600
                    )
                    return str(reply.json()["job_id"])

                figures["url_fetched_by_api"] = _measure(stack, size, fetch)
        finally:
            server.shutdown()
            server.server_close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=Path("bench/audio/long_4h15.mp3"))
    args = parser.parse_args()
    ensure_recording(args.file)
    print(json.dumps(run(args.file), indent=2))


if __name__ == "__main__":
    main()
