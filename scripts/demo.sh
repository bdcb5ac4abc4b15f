#!/usr/bin/env bash
# The demo: shipit on the bundled example project (examples/hello) in a fresh git copy,
# against a local sandbox of registries (npm, JSR, PyPI, GitHub, git) so nothing leaves
# this machine. Installs what it needs first (scripts/setup.sh); safe to run twice.
# SHIPIT_DEMO_KEEP=1 keeps the temporary project for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" DENO_NO_UPDATE_CHECK=1

work="$(mktemp -d "${TMPDIR:-/tmp}/shipit-demo.XXXXXX")"
sandbox="$work/sandbox"
cleanup() {
  shipit sandbox down --dir "$sandbox" >/dev/null 2>&1 || true
  if [ "${SHIPIT_DEMO_KEEP:-}" = 1 ]; then
    echo "kept the demo project in $work/hello"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

bold=""; plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# Run one shipit command; a failing check or a command that is not available yet is shown,
# not fatal: the demo goes on to the next command.
run() {
  printf '%s$ %s%s\n' "$bold" "$*" "$plain"
  local rc=0
  "$@" || rc=$?
  [ "$rc" -eq 0 ] || echo "(exit $rc)"
}

step "the example project: a fresh git copy of examples/hello in $work/hello"
cp -R examples/hello "$work/hello"
cd "$work/hello"
git init -q -b main
git config user.name "shipit demo"
git config user.email "demo@shipit.invalid"
git add -A
git commit -q -m "hello 0.1.0"

step "local sandbox registries (verdaccio, pypiserver, JSR and GitHub test servers, bare git)"
if env_lines="$(shipit sandbox up --dir "$sandbox")"; then
  eval "$env_lines"
  git remote add origin "$SHIPIT_SANDBOX_GIT_REMOTE"
else
  echo "the sandbox did not start: going on offline (registry checks will fail)"
  git init -q --bare -b main "$work/origin.git"
  git remote add origin "$work/origin.git"
fi
git push -q -u origin main

step "which files state the version, and where the release goes"
run shipit version
step "is it ready to release? (every check at once)"
run shipit check
step "what a release would do, step by step (probes only, nothing is published)"
run shipit plan
