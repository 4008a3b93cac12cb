"""The error tree of runtime/errors.py: each stage's errors carry a reason and the worker decides by type."""

from __future__ import annotations

import pytest

from runtime.egress import EgressRefused
from runtime.errors import (
    ObjectNotFound,
    PermanentError,
    RetryableError,
    StageError,
    StorageFull,
    StorageUnavailable,
    is_permanent,
    reason_of,
)
from services.ingest.upload import UploadError
from services.summarize.llm import InvalidOutput, LlmFailure
from services.summarize.models import LocalModelError
from services.transcode.errors import MediaError
from services.transcribe.models import WhisperModelError

PERMANENT: list[type[PermanentError]] = [
    EgressRefused,
    MediaError,
    WhisperModelError,
    LocalModelError,
    LlmFailure,
    InvalidOutput,
]


@pytest.mark.parametrize("kind", PERMANENT, ids=lambda kind: kind.__name__)
def test_a_stage_error_is_permanent_and_its_reason_is_what_a_person_reads(kind: type[PermanentError]) -> None:
    error = kind("upload is not audio: ffprobe found no audio stream\n  File ...")
    assert isinstance(error, StageError) and is_permanent(error)
    assert reason_of(error) == "upload is not audio: ffprobe found no audio stream"


def test_diarize_errors_are_permanent() -> None:
    pytest.importorskip("torch")
    from services.diarize.models import DeviceError, DiarizeModelError
    from services.diarize.pipeline import AudioError

    for kind in (DiarizeModelError, DeviceError, AudioError):
        assert is_permanent(kind("AODIO_DIARIZE_DEVICE=cuda but no CUDA device is visible"))
    assert issubclass(DeviceError, DiarizeModelError)


def test_an_upload_error_keeps_its_http_status() -> None:
    error = UploadError(413, "the upload is over the size limit")
    assert isinstance(error, StageError) and error.status == 413
    assert reason_of(error) == error.reason == "the upload is over the size limit"


def test_what_is_retried() -> None:
    assert not is_permanent(RetryableError("the dependency is down"))
    assert not is_permanent(StorageUnavailable("connection refused"))
    assert not is_permanent(RuntimeError("unexpected bug"))  # bounded by max_deliver
    assert is_permanent(StorageFull("no space left")) and is_permanent(ObjectNotFound("jobs/x"))


def test_any_other_exception_reads_as_its_message_or_its_type() -> None:
    assert reason_of(RuntimeError("unexpected bug\nsecond line")) == "unexpected bug"
    assert reason_of(RuntimeError()) == "RuntimeError"
    assert reason_of(PermanentError("  ")) == "PermanentError"
