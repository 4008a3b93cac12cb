"""Build every image of deploy/Dockerfile with the builder this machine has; print sizes and times.

    python3 deploy/images/build.py [--targets ingest,diarize] [--variant cpu|gpu] [--prefix localhost/aodio-]

The builder is docker (with a running engine), podman or buildah, whichever answers first; the
Dockerfile is the same for all. Where `python:3.11-slim-bookworm` cannot be pulled, a stand-in base
(bookworm + Python 3.11, deploy/images/base.sh) is made once and passed as PYTHON_IMAGE. Where
PyTorch's CPU index is unreachable, a local CPU torch wheel is served on loopback and passed as
TORCH_FIND_LINKS. Standard library only, so it runs before `make setup`.
"""

from __future__ import annotations

import argparse
import functools
import glob
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("ingest", "transcode", "diarize", "transcribe", "assemble", "summarize", "notify")
GPU_TARGETS = ("diarize", "transcribe")  # the stages a GPU speeds up; the others are the same image
BASE = "python:3.11-slim-bookworm"
STAND_IN = "localhost/aodio-python:3.11-bookworm"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_CUDA_INDEX = "https://download.pytorch.org/whl/cu128"
PYPI = "https://pypi.org/simple"  # PyPI's Linux torch wheels are CUDA builds
TORCH_WHEEL_GLOB = "torch-2.13.0+cpu-cp311-cp311-*.whl"
CA_DIR = Path("/etc/ssl/certs")  # mounted read-only into the build, never copied into an image


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, text=True, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]


def find_builder() -> str:
    """docker with an engine, else podman, else buildah; exits with what to install."""
    for name, probe in (
        ("docker", ["docker", "info"]),
        ("podman", ["podman", "info"]),
        ("buildah", ["buildah", "version"]),
    ):
        if shutil.which(name) and run(probe).returncode == 0:
            return name
    sys.exit("images: no image builder works here: install Docker, podman or buildah (Debian: buildah)")


def reachable(url: str, timeout_s: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout_s):
            return True
    except Exception:  # DNS, TLS, refused, 4xx: all mean "not from here"
        return False


def base_image(builder: str, wanted: str | None) -> str:
    """The PYTHON_IMAGE to build on: the one asked for, the official one, or the local stand-in."""
    if wanted:
        return wanted
    pull = [builder, "pull", BASE if builder == "docker" else f"docker.io/library/{BASE}"]
    if run(pull).returncode == 0:
        return BASE
    if builder == "docker":
        sys.exit(f"images: cannot pull {BASE}; pass --base IMAGE (any Debian bookworm with Python 3.11)")
    print(f"images: {BASE} cannot be pulled here; making the stand-in {STAND_IN}", flush=True)
    subprocess.run([str(ROOT / "deploy/images/base.sh"), STAND_IN], check=True)
    return STAND_IN


def local_torch_wheel(explicit: str | None) -> Path | None:
    """A CPU torch 2.13.0 wheel on this disk: --torch-wheel, AODIO_TORCH_WHEEL, pip's find-links."""
    if explicit:
        return Path(explicit)
    if os.environ.get("AODIO_TORCH_WHEEL"):
        return Path(os.environ["AODIO_TORCH_WHEEL"])
    dirs = [
        *os.environ.get("PIP_FIND_LINKS", "").split(),
        "/opt/wheels",
        str(Path.home() / ".cache/aodio/wheels"),
    ]
    for folder in dirs:
        found = sorted(glob.glob(os.path.join(folder, TORCH_WHEEL_GLOB)))
        if found:
            return Path(found[-1])
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    """Serve a folder on 127.0.0.1 (a free port) in a thread, for the builds to fetch from."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def torch_args(variant: str, wheel: Path | None, port: int | None) -> dict[str, str]:
    """Where the diarize image takes torch from."""
    if variant == "gpu":
        index = TORCH_CUDA_INDEX if reachable(TORCH_CUDA_INDEX + "/torch/") else PYPI
        return {"TORCH_INDEX_URL": index, "TORCH_VERSION": "2.13.0"}
    if wheel is not None and port is not None:
        return {"TORCH_FIND_LINKS": f"http://127.0.0.1:{port}/"}
    return {"TORCH_INDEX_URL": TORCH_CPU_INDEX}


def build_argv(builder: str, target: str, tag: str, build_args: dict[str, str], no_cache: bool) -> list[str]:
    args = [f"--build-arg={k}={v}" for k, v in build_args.items()]
    common = ["-f", "deploy/Dockerfile", "--target", target, "-t", tag, "--network", "host", *args]
    if no_cache:
        common.append("--no-cache")
    if builder == "docker":
        return ["docker", "build", *common, "."]
    # --format docker: OCI images drop the Dockerfile's SHELL (and so pipefail) and HEALTHCHECK
    mounts = ["-v", f"{CA_DIR}:{CA_DIR}:ro"] if CA_DIR.is_dir() else []
    verb = ["buildah", "bud", "--layers"] if builder == "buildah" else ["podman", "build"]
    return [*verb, "--format", "docker", "--isolation", "chroot", *mounts, *common, "."]


def image_size(builder: str, tag: str) -> int:
    if builder == "docker":
        out = run(["docker", "image", "inspect", "--format", "{{.Size}}", tag]).stdout
        return int(out.strip() or 0)
    out = run([builder, "images", "--format", "{{.Size}}", tag]).stdout.split("\n")[0].strip()
    return human_bytes(out)


def human_bytes(text: str) -> int:
    """'1.83 GB' (buildah's and podman's size column) as bytes; 0 when unreadable."""
    units = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
    number, _, unit = text.partition(" ")
    try:
        return int(float(number) * units[unit.upper()])
    except (ValueError, KeyError):
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated (default: all seven)")
    parser.add_argument(
        "--variant", choices=("cpu", "gpu"), default="cpu", help="gpu: CUDA diarize and transcribe"
    )
    parser.add_argument("--prefix", default="localhost/aodio-", help="image names: PREFIX<target>[:gpu]")
    parser.add_argument(
        "--base", help="PYTHON_IMAGE (default: python:3.11-slim-bookworm, else a local stand-in)"
    )
    parser.add_argument(
        "--torch-wheel", help="a CPU torch 2.13.0 wheel, where PyTorch's index is unreachable"
    )
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--report", type=Path, default=ROOT / "bench/out/images.json")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {', '.join(TARGETS)}")
    if args.variant == "gpu":
        targets = [t for t in targets if t in GPU_TARGETS]
    builder = find_builder()
    base = base_image(builder, args.base)
    wheel = None
    if args.variant == "cpu" and "diarize" in targets and not reachable(TORCH_CPU_INDEX + "/torch/"):
        wheel = local_torch_wheel(args.torch_wheel)
        if wheel is None or not wheel.is_file():
            sys.exit(
                f"images: {TORCH_CPU_INDEX} is unreachable, no {TORCH_WHEEL_GLOB} found: pass --torch-wheel"
            )
    server, port = serve_folder(wheel.parent) if wheel else (None, None)
    print(f"images: builder {builder}, base {base}, variant {args.variant}", flush=True)
    results = []
    try:
        for target in targets:
            results.append(build_one(builder, target, args, base, wheel, port))
    finally:
        if server is not None:
            server.shutdown()
    print_table(results)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    report = {"builder": builder, "base": base, "variant": args.variant, "images": results}
    args.report.write_text(json.dumps(report, indent=1) + "\n")
    failed = [r["target"] for r in results if not r["ok"]]
    if failed:
        print(f"images: FAILED: {', '.join(failed)} (logs in {args.report.parent})", file=sys.stderr)
    return 1 if failed else 0


def build_one(
    builder: str, target: str, args: argparse.Namespace, base: str, wheel: Path | None, port: int | None
) -> dict[str, Any]:
    """Build one target, its log beside the report; a failure is reported, not raised."""
    tag = f"{args.prefix}{target}" + (":gpu" if args.variant == "gpu" else "")
    build_args = {
        "PYTHON_IMAGE": base,
        "BUILD_TARGET": target,
        "DEVICE": "cuda" if args.variant == "gpu" else "cpu",
    }
    if target == "diarize":
        build_args |= torch_args(args.variant, wheel, port)
    log = args.report.parent / f"build-{target}{'-gpu' if args.variant == 'gpu' else ''}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"images: building {tag} ...", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            build_argv(builder, target, tag, build_args, args.no_cache),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    seconds = round(time.monotonic() - started, 1)
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"images: {tag} failed after {seconds} s:\n  " + "\n  ".join(tail), file=sys.stderr, flush=True)
        return {"target": target, "image": tag, "ok": False, "seconds": seconds, "log": str(log)}
    size = image_size(builder, tag)
    print(f"images: {tag} built in {seconds} s, {size / 1e6:,.0f} MB", flush=True)
    return {
        "target": target,
        "image": tag,
        "ok": True,
        "seconds": seconds,
        "size_bytes": size,
        "log": str(log),
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print("\n| image | size | build time | result |\n|---|---:|---:|---|")
    for r in results:
        size = f"{int(r.get('size_bytes') or 0) / 1e6:,.0f} MB" if r["ok"] else "-"
        print(f"| `{r['image']}` | {size} | {r['seconds']} s | {'ok' if r['ok'] else 'FAILED'} |")


if __name__ == "__main__":
    sys.exit(main())
