"""Errors the transcode core raises about a user's upload."""

from __future__ import annotations

__all__ = ["MediaError"]


class MediaError(Exception):
    """The upload cannot be transcoded; `reason` says why in words a person understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
