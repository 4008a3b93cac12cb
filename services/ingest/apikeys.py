"""API keys without the web framework: making one, hashing it, reading AODIO_INGEST_API_KEYS.

Kept apart from auth.py so `aodio key new` works on an install without the ingest extra.
"""

from __future__ import annotations

import hashlib
import re
import secrets

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
