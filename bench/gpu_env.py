"""Check the variables bench/gpu.sh sets for the GPU run: each must be read by a real setting, with
a value that setting accepts, so a renamed setting fails here and not on the lent GPU machine.

    python -m bench.gpu_env NAME=VALUE ...     exit 1, naming each bad variable, when any is wrong

An ``AODIO_*`` variable is checked by building the settings class whose prefix it carries from an
environment holding it (as the service does at start-up) and finding the value read back; llama.cpp's
``N_GPU_LAYERS`` likewise, by llama-cpp-python's own ``ModelSettings``, and the server command line
must not override it. The few process variables the script sets (PATH, TMPDIR, ...) are allowed.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent
PROCESS_VARIABLES = frozenset({"PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONUNBUFFERED", "TMPDIR"})
LLAMA_VARIABLES = frozenset({"N_GPU_LAYERS"})  # read by llama_cpp.server's ModelSettings (no prefix)


@cache
def _config_reference() -> ModuleType:
    """scripts/config_reference.py, which already knows every settings class of the project."""
    spec = importlib.util.spec_from_file_location(
        "config_reference", ROOT / "scripts" / "config_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def settings_fields() -> dict[str, tuple[type[BaseSettings], str]]:
    """Every AODIO_* variable a settings class reads -> (the class, its field)."""
    reference = _config_reference()
    return {
        reference.env_name(cls, field): (cls, field)
        for cls in reference.settings_classes()
        for field in cls.model_fields
    }


@contextlib.contextmanager
def _environment(assignments: dict[str, str]) -> Iterator[None]:
    """os.environ with no AODIO_* variable but these (so the check reads only what the script sets)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update({k: v for k, v in saved.items() if not k.startswith("AODIO_")})
    os.environ.update(assignments)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _read_back(cls: type[BaseSettings], field: str, name: str, value: str) -> str | None:
    """Why `cls` does not take `value` from `name`, or None when it reads it."""
    try:
        with _environment({name: value}):
            read = getattr(cls(), field)
        default = getattr(cls.model_construct(), field, None)
    except ValidationError as exc:
        errors = "; ".join(str(error["msg"]) for error in exc.errors())
        return f"{name}={value!r} is refused by {cls.__name__}.{field}: {errors}"
    if value.strip() and read == default and str(default) != value:
        return f"{name} is not read by {cls.__name__} (its {field} stays {default!r})"
    return None


def _llama_problem(name: str, value: str) -> str | None:
    """N_GPU_LAYERS must reach llama-cpp-python's server: a ModelSettings field the argv leaves alone."""
    try:
        from llama_cpp.server.settings import ModelSettings
    except ImportError as exc:
        return f"{name}: llama-cpp-python's server is not importable here ({exc})"
    field = name.lower()
    if field not in ModelSettings.model_fields:
        return f"{name}: llama_cpp.server.settings.ModelSettings has no field {field}"
    try:
        with _environment({name: value}):
            read = getattr(ModelSettings(model="model.gguf"), field)
    except ValidationError as exc:
        return f"{name}={value!r} is refused by llama-cpp-python: {exc.errors()[0]['msg']}"
    if str(read) != value:
        return f"{name} is not read by llama-cpp-python's ModelSettings ({field} stays {read!r})"
    from services.summarize.llm_server import LlamaServer

    with tempfile.NamedTemporaryFile(suffix=".gguf") as gguf:
        argv = LlamaServer(Path(gguf.name), "check")._argv()
    if f"--{field}" in argv:
        return f"{name} is overridden: services/summarize/llm_server.py passes --{field} itself"
    return None


def problems(assignments: dict[str, str]) -> list[str]:
    """What is wrong with these variables for the GPU run (empty: every one is read as meant)."""
    known = settings_fields()
    found: list[str] = []
    for name, value in assignments.items():
        if name in PROCESS_VARIABLES:
            continue
        if name in LLAMA_VARIABLES:
            problem = _llama_problem(name, value)
        elif name in known:
            problem = _read_back(*known[name], name, value)
        else:
            close = difflib.get_close_matches(name, [*known, *LLAMA_VARIABLES], n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problem = f"{name} is read by no setting{hint}"
        if problem:
            found.append(problem)
    return found


def parse(arguments: list[str]) -> dict[str, Any]:
    """NAME=VALUE arguments -> a dict; a malformed one exits with the reason."""
    pairs: dict[str, str] = {}
    for argument in arguments:
        name, sep, value = argument.partition("=")
        if not sep or not name:
            raise SystemExit(f"not NAME=VALUE: {argument!r}")
        pairs[name] = value
    return pairs


def main() -> int:
    assignments = parse(sys.argv[1:])
    found = problems(assignments)
    for problem in found:
        print(f"gpu env: {problem}", file=sys.stderr)
    if not found:
        checked = sorted(set(assignments) - PROCESS_VARIABLES)
        print(f"gpu env: {len(checked)} variables read as meant: {' '.join(checked)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
