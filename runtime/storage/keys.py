"""Key and prefix validation shared by every storage backend."""

from __future__ import annotations


def validate_key(key: str) -> str:
    """Return key unchanged if it is a safe relative POSIX path; raise ValueError otherwise."""
    if not key or key.endswith("/"):
        raise ValueError(f"invalid storage key {key!r}: must name an object, not be empty or a folder")
    _check_parts(key)
    return key


def validate_prefix(prefix: str) -> str:
    """Return prefix unchanged if it is empty or a safe relative POSIX path (may end in '/')."""
    if prefix:
        _check_parts(prefix.removesuffix("/"))
    return prefix


def _check_parts(path: str) -> None:
    if path.startswith("/") or "\\" in path or "\x00" in path:
        raise ValueError(f"invalid storage key {path!r}: keys are relative POSIX paths without backslashes")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError(f"invalid storage key {path!r}: empty, '.' and '..' parts are not allowed")
