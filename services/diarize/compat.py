"""Import torchaudio's pure-Python parts (and so pyannote.audio) beside CPU torch.

The torchaudio wheel on PyPI is a CUDA build: importing it loads `_torchaudio.abi3.so`, which needs
libtorch_cuda and fails beside the CPU torch wheel, and torchaudio raises rather than degrade. It
already has a pure-Python path for a missing extension (`_IS_TORCHAUDIO_EXT_AVAILABLE = False`, the
case its own loader documents for pex deployments), so before the first import we register a stand-in
for `torchaudio._extension` that reports no extension. Everything pyannote.audio uses here
(`compliance.kaldi.fbank`, `functional.resample`, `transforms`) is plain torch. torchcodec (audio
decoding) cannot load either: pyannote only warns, and we always hand it waveforms in memory.
Where a working extension is installed (a matching CPU or CUDA build), it is used as is.
See services/diarize/README.md.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
import warnings
from typing import Any

_PREPARED = False


def _extension_loads() -> bool:
    """True when torchaudio imports with its own extension (a build matching the installed torch)."""
    try:
        importlib.import_module("torchaudio")
    except (OSError, ImportError, RuntimeError):
        for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")]:
            del sys.modules[name]
        return False
    return True


def _register_stand_in() -> None:
    stand_in = types.ModuleType("torchaudio._extension")
    stand_in.__dict__.update(
        _IS_TORCHAUDIO_EXT_AVAILABLE=False,
        _IS_ALIGN_AVAILABLE=False,
        fail_if_no_align=lambda function: function,
        __all__=[],
    )
    sys.modules["torchaudio._extension"] = stand_in


def prepare() -> None:
    """Make `import torchaudio` and `import pyannote.audio` work on CPU torch; idempotent."""
    global _PREPARED
    if _PREPARED:
        return
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")  # no telemetry from an offline worker
    if not _extension_loads():
        _register_stand_in()
        importlib.import_module("torchaudio")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(?s).*torchcodec")
        importlib.import_module("pyannote.audio")
    _PREPARED = True


def kaldi() -> Any:
    """torchaudio.compliance.kaldi, importable on CPU torch."""
    prepare()
    return importlib.import_module("torchaudio.compliance.kaldi")


def pyannote_audio() -> Any:
    """The pyannote.audio package, importable on CPU torch."""
    prepare()
    return importlib.import_module("pyannote.audio")
