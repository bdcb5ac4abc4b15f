#!/usr/bin/env bash
# The whole test suite: lint, types, then every test (unit, integration, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
echo "== ruff"; ruff check src tests bench
echo "== mypy --strict"; mypy
echo "== pytest"; python -m pytest -q -p no:cacheprovider "$@"
