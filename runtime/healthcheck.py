"""Container health check: exit 0 when NATS (or, with --http, the API) answers, 1 otherwise.

    python -m runtime.healthcheck                                      # a worker: NATS from AODIO_NATS_*
    python -m runtime.healthcheck --http http://127.0.0.1:8000/healthz  # the API

A worker's only dependency that can fail without the process noticing is its NATS connection, so
that is what a worker's check measures. One line on stderr says what failed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
import urllib.request

from runtime.bus import connect
from runtime.settings import NatsSettings


async def nats_reachable(settings: NatsSettings, timeout_s: float) -> None:
    """Connect, round-trip once to the server, close; raises on failure or timeout."""
    nc = await asyncio.wait_for(connect(settings, name="aodio-healthcheck"), timeout_s)
    try:
        await nc.flush(timeout=max(1, round(timeout_s)))
    finally:
        await nc.close()


def http_ok(url: str, timeout_s: float) -> None:
    """GET the URL; raises unless it answers 2xx."""
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        if not 200 <= response.status < 300:
            raise RuntimeError(f"HTTP {response.status}")


def _deadline(target: str, seconds: float) -> None:
    """A health check never hangs: past its timeout (and a grace) it says so and exits 1, whatever
    a library's retry loop or its tasks' clean-up is doing (seen under load: nats.py's reconnect task
    kept asyncio.run from returning after a refused connection)."""

    def expire(*_: object) -> None:
        print(f"unhealthy: {target}: no answer within {seconds:.0f} s", file=sys.stderr, flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, math.ceil(seconds)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", metavar="URL", help="check this URL instead of NATS")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    args = parser.parse_args(argv)
    _deadline(args.http or "nats", args.timeout + 3)
    try:
        if args.http:
            http_ok(args.http, args.timeout)
        else:
            asyncio.run(nats_reachable(NatsSettings(), args.timeout))
    except Exception as exc:  # any failure is unhealthy; say which
        target = args.http or "nats"
        print(f"unhealthy: {target}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
