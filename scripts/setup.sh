#!/usr/bin/env bash
# Install everything shipit's demo and tests need into ./.venv (safe to run twice).
# Needs only python3 (3.11+), git, node and npm on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.shipit-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,sandbox]'
  touch "$stamp"
fi
# verdaccio (npm registry for the sandbox) into shipit's cache, once
.venv/bin/python -m shipit.sandbox.verdaccio --install >/dev/null 2>&1 || .venv/bin/python -m shipit.sandbox.verdaccio --install
