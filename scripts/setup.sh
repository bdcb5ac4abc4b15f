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
# build backends and tools for the tests' offline Python builds and tox environments
# (pip --no-index --find-links .venv/wheelhouse), pinned; fetched once
wheels=('setuptools>=68' wheel hatchling==1.33.0 hatch-vcs==0.5.0 setuptools-scm==10.3.4 ruff==0.17.6)
if ! ls .venv/wheelhouse/hatch_vcs-0.5.0-*.whl .venv/wheelhouse/ruff-0.17.6-*.whl >/dev/null 2>&1; then
  .venv/bin/python -m pip download --quiet --disable-pip-version-check \
    --dest .venv/wheelhouse "${wheels[@]}"
fi
# the Node tools the test corpus's projects run (typescript, xo, ava, eslint, vitest), one
# pinned set per project shape (tests/corpus/node_tools/*/package-lock.json), into shipit's
# cache like verdaccio; reinstalled only when a lockfile changes
cache="${SHIPIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shipit}/corpus-node-tools"
for tools in tests/corpus/node_tools/*/; do
  name=$(basename "$tools")
  target="$cache/$name"
  if ! cmp -s "$tools/package-lock.json" "$target/package-lock.json" || [ ! -d "$target/node_modules" ]; then
    rm -rf "$target" && mkdir -p "$target"
    cp "$tools/package.json" "$tools/package-lock.json" "$target/"
    (cd "$target" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || { echo "error: could not install the corpus's Node tools ($name)" >&2; rm -rf "$target"; exit 1; }
  fi
done
# verdaccio (npm registry for the sandbox) into shipit's cache, once
.venv/bin/python -m shipit.sandbox.verdaccio --install >/dev/null 2>&1 || .venv/bin/python -m shipit.sandbox.verdaccio --install
# minisign (optional signatures) from Debian's packages when we may install them; the
# signing tests need it, GPG signing works without it.
if ! command -v minisign >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -qq minisign || { apt-get update -qq && apt-get install -y -qq minisign; }; } >/dev/null 2>&1 \
    || echo "note: could not install minisign; its signing test will be skipped" >&2
fi
