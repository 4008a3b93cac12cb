"""Webhook signatures: how Aodio signs a delivery, and how a receiver checks one.

Every delivery carries ``X-Aodio-Timestamp`` (unix seconds) and, when the deployment sets
AODIO_NOTIFY_WEBHOOK_SECRET, ``X-Aodio-Signature: sha256=<hex>``: the HMAC-SHA256, keyed with the
secret, of the timestamp, a dot, and the raw request body, exactly as received::

    signature = "sha256=" + hmac(secret, f"{timestamp}.".encode() + body, sha256).hexdigest()

A receiver verifies the raw body before parsing it, and refuses old timestamps (replays)::

    from services.notify.signing import verify_signature

    ok = verify_signature(
        secret,
        request.headers["X-Aodio-Timestamp"],
        raw_body,
        request.headers.get("X-Aodio-Signature", ""),
    )
    if not ok:
        return 401

``X-Aodio-Delivery`` is the same on every retry of one delivery: keep the ids seen, drop repeats.
This module uses only the standard library, so a receiver may copy it whole.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["sign", "verify_signature"]

SCHEME = "sha256="


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The X-Aodio-Signature header for a body sent at `timestamp` (unix seconds)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes,
    header: str,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True when `header` signs `body` at `timestamp` with `secret`, and the timestamp is recent.

    The comparison is constant-time; a timestamp more than `tolerance_s` from `now` (default: the
    current time) is refused, so a captured delivery cannot be replayed later.
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body).encode(), (header or "").strip().encode())
