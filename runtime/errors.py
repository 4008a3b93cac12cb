"""How a stage tells the runtime what went wrong; the runtime alone maps it onto JetStream.

Every error a stage raises on purpose is a `StageError` whose `reason` is one line a person reads:
what was wrong and what to do. The worker decides on the type alone (`is_permanent`, `reason_of`);
any other exception but a storage error is a bug: logged with its traceback, retried up to max_deliver.

Errors::

    StageError                   `reason`: what a person reads in the job state and the dead letter
    ├── RetryableError           transient: nak with back-off, try again (until max_deliver)
    ├── PermanentError           bad input, or a dependency refuses for good: term, dead letter, job failed
    │   ├── EgressRefused        runtime.egress: a user's URL, redirect or address is not allowed
    │   ├── MediaError           services.transcode: the upload cannot be transcoded
    │   ├── AudioError           services.diarize: the normalized audio cannot be read
    │   ├── DiarizeModelError    services.diarize: a model setting names nothing that loads
    │   │   └── DeviceError      AODIO_DIARIZE_DEVICE names a device this process cannot use
    │   ├── WhisperModelError    services.transcribe: a Whisper model cannot be resolved or loaded
    │   ├── LocalModelError      services.summarize: a local GGUF model cannot be resolved
    │   └── LlmFailure           services.summarize: no summary from the model; summarize falls back
    │       └── InvalidOutput    twice an answer that is not the JSON asked for
    └── UploadError              services.ingest: a request the API refuses, answered with its HTTP `status`

    StorageError                 runtime.storage.base: a storage backend failed
    ├── ObjectNotFound           the key does not exist: permanent
    ├── StorageUnavailable       the backend cannot be reached: retryable
    └── StorageFull              no space left: permanent

A handler may catch its own error and raise a `PermanentError` whose reason adds the setting to fix
(transcribe, diarize); summarize catches `LlmFailure` and summarises extractively instead.
"""

from __future__ import annotations

from runtime.storage.base import ObjectNotFound, StorageError, StorageFull, StorageUnavailable

__all__ = [
    "ObjectNotFound",
    "PermanentError",
    "RetryableError",
    "StageError",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "is_permanent",
    "reason_of",
]


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
    """True for failures that retrying cannot fix; anything else is retried, bounded by max_deliver."""
    return isinstance(exc, PermanentError | StorageFull | ObjectNotFound)


def reason_of(exc: BaseException) -> str:
    """A one-line reason for logs, job state and dead letters."""
    reason = exc.reason if isinstance(exc, StageError) else str(exc)
    return reason.splitlines()[0][:500] if reason.strip() else type(exc).__name__
