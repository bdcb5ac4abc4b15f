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
  # build backends for the tests' offline Python builds (pip --no-index --find-links)
  .venv/bin/python -m pip download --quiet --disable-pip-version-check \
    --dest .venv/wheelhouse 'setuptools>=68' wheel
  touch "$stamp"
fi
# verdaccio (npm registry for the sandbox) into shipit's cache, once
.venv/bin/python -m shipit.sandbox.verdaccio --install >/dev/null 2>&1 || .venv/bin/python -m shipit.sandbox.verdaccio --install
# minisign (optional signatures) from Debian's packages when we may install them; the
# signing tests need it, GPG signing works without it.
if ! command -v minisign >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -qq minisign || { apt-get update -qq && apt-get install -y -qq minisign; }; } >/dev/null 2>&1 \
    || echo "note: could not install minisign; its signing test will be skipped" >&2
fi
