"""API keys: bearer tokens, stored only as sha256 hashes; each key sees only the jobs it submitted.

A deployment lists its keys as `AODIO_INGEST_API_KEYS="alice:<sha256 hex>,ci:<sha256 hex>"`;
`aodio key new NAME` makes a key and prints the entry. With no key configured the API is open, and
ingest then refuses to listen anywhere but on the loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from services.ingest.config import IngestSettings

KEY_PREFIX = "aodio_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


class KeyConfigError(ValueError):
    """AODIO_INGEST_API_KEYS is malformed; the message says which entry and why."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(name: str) -> tuple[str, str]:
    """A fresh API key for `name` and the `name:hash` entry to add to AODIO_INGEST_API_KEYS."""
    if not _NAME.match(name):
        raise KeyConfigError(f"key name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    key = KEY_PREFIX + secrets.token_hex(20)
    return key, f"{name}:{hash_key(key)}"


def parse_keys(raw: str) -> dict[str, str]:
    """`name:sha256hex,...` -> {hash: name}; raises KeyConfigError on a malformed entry."""
    keys: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, digest = entry.partition(":")
        digest = digest.strip().lower()
        if not sep or not _NAME.match(name.strip()) or not _HASH.match(digest):
            shown = entry if len(entry) < 20 else entry[:12] + "..."
            raise KeyConfigError(
                f"AODIO_INGEST_API_KEYS entry {shown!r} is not NAME:SHA256HEX "
                "(make one with `aodio key new NAME`)"
            )
        keys[digest] = name.strip()
    return keys


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
