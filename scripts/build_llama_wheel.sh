#!/usr/bin/env bash
# Build llama-cpp-python's wheel once (PyPI ships only its source) and cache it outside the checkout,
# then install it with its server extra (cache: ~/.cache/aodio/wheels). Re-runs reuse the cached wheel: about 5 min on 2 cores the
# first time, seconds after.
#
# CPU-only and portable: GGML_NATIVE=OFF compiles for AVX2/FMA/F16C (any x86-64 since 2013) instead of
# this machine's exact CPU, so the cached wheel also runs on CI and the other developers' machines.
# No CUDA/Metal/BLAS, no multimodal (mtmd/llava) library, no examples or tests: only what the
# OpenAI-compatible server needs.
#
# Usage: scripts/build_llama_wheel.sh [path/to/python]   (default .venv/bin/python)
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
PYTHON="${1:-.venv/bin/python}"
WHEEL_DIR="${AODIO_WHEEL_DIR:-$HOME/.cache/aodio/wheels}"  # outside the clone: reused by every checkout
JOBS="${JOBS:-$(nproc)}"

mkdir -p "$WHEEL_DIR"
wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION"-*.whl 2>/dev/null | head -n1 || true)
if [[ -z "$wheel" ]]; then
    echo "building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (CPU, portable AVX2) into $WHEEL_DIR ..." >&2
    started=$SECONDS
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=ON \
-DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF \
-DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="$JOBS" \
        nice -n 10 "$PYTHON" -m pip wheel --no-deps --disable-pip-version-check \
        --no-binary llama-cpp-python -w "$WHEEL_DIR" "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
    echo "built in $((SECONDS - started)) s" >&2
    wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION"-*.whl | head -n1)
fi
"$PYTHON" -m pip install -q --disable-pip-version-check "${wheel}[server]"
echo "$wheel"
