"""How a stage tells the runtime what went wrong; the runtime alone maps it onto JetStream.

Errors::

    StageError
    ├── RetryableError     transient: nak with back-off, try again (until max_deliver)
    └── PermanentError     the input is bad or a dependency refuses for good: term, dead letter, job failed
"""

from __future__ import annotations

from runtime.storage.base import ObjectNotFound, StorageError, StorageFull, StorageUnavailable


class StageError(Exception):
    """Base of errors raised by handlers; `reason` is what a person reads."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableError(StageError):
    """Worth another attempt later (a dependency is down, a rate limit)."""


class PermanentError(StageError):
    """No attempt will succeed (not audio, unknown job, malformed event)."""


def is_permanent(exc: BaseException) -> bool:
    """True for failures that retrying cannot fix."""
    if isinstance(exc, PermanentError | StorageFull | ObjectNotFound):
        return True
    if isinstance(exc, RetryableError | StorageUnavailable | StorageError):
        return False
    return False  # unknown exceptions are retried, bounded by max_deliver


def reason_of(exc: BaseException) -> str:
    """A one-line reason for logs, job state and dead letters."""
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return reason.splitlines()[0][:500] if reason.strip() else type(exc).__name__
