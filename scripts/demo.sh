#!/usr/bin/env bash
# The demo: a full rehearsed release of the bundled example project (examples/hello) —
# npm, JSR, PyPI, five zig-built binaries with SHA256SUMS, a GitHub release — against a
# fresh local sandbox of registries, in a throw-away clone, then the status dashboard.
# Nothing leaves this machine. Installs what it needs first (scripts/setup.sh); safe to
# run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" DENO_NO_UPDATE_CHECK=1
exec shipit -C examples/hello rehearse "$@"
