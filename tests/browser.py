"""Debian's Chromium for the browser tests: where it is, and the flags it runs with on this closed network."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# without the background-networking, component-update and QUIC flags, Chromium's own connections are
# refused by a machine with no internet, many at a time
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
