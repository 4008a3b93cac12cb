"""API keys: bearer tokens, stored only as sha256 hashes; each key sees only the jobs it submitted.

A deployment lists its keys as `AODIO_INGEST_API_KEYS="alice:<sha256 hex>,ci:<sha256 hex>"`;
`aodio key new NAME` makes a key and prints the entry. With no key configured the API is open, and
ingest then refuses to listen anywhere but on the loopback address.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from services.ingest.apikeys import KeyConfigError, hash_key, new_key, parse_keys
from services.ingest.config import IngestSettings

__all__ = ["Caller", "KeyConfigError", "KeyRing", "authenticate", "hash_key", "new_key", "parse_keys"]


@dataclass(frozen=True)
class KeyRing:
    by_hash: dict[str, str]

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> KeyRing:
        return cls(parse_keys(settings.api_keys))

    @property
    def enabled(self) -> bool:
        return bool(self.by_hash)

    def owner_of(self, key: str) -> str | None:
        """The name of the key, or None when it is not one of ours (compared in constant time)."""
        digest = hash_key(key)
        for known, name in self.by_hash.items():
            if hmac.compare_digest(known, digest):
                return name
        return None


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.method in ("GET", "HEAD"):  # EventSource, <audio src> and links cannot send headers
        return request.query_params.get("access_token") or None
    return None


def authenticate(request: Request) -> str | None:
    """The caller's key name; None when the API is open. 401 when a key is needed and not valid."""
    ring: KeyRing = request.app.state.keyring
    if not ring.enabled:
        return None
    key = _presented_key(request)
    challenge = {"www-authenticate": "Bearer"}
    if key is None:
        raise HTTPException(401, "an API key is needed: send 'Authorization: Bearer <key>'", challenge)
    owner = ring.owner_of(key)
    if owner is None:
        raise HTTPException(401, "the API key is not valid", challenge)
    return owner


Caller = Annotated[str | None, Depends(authenticate)]
