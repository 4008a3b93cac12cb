"""Errors the transcode core raises about a user's upload."""

from __future__ import annotations

from runtime.errors import PermanentError

__all__ = ["MediaError"]


class MediaError(PermanentError):
    """The upload cannot be transcoded; `reason` says why in words a person understands."""
