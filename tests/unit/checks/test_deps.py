"""Dependencies asked before anything runs: node_modules missing or stale against the lockfile
of npm, pnpm or yarn, each answer with the command to type; exit 127 named by program."""

from __future__ import annotations

import json
import os
from pathlib import Path

from shipit import proc
from shipit.checks import deps
from shipit.checks.base import Kind
from shipit.checks.tooling import missing_program

OUTPUTS = Path(__file__).parent / "outputs"


def write(root: Path, files: dict[str, object]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))


PKG = {"name": "lib", "version": "1.0.0", "devDependencies": {"xo": "^0.60.0"}}
LOCK = {
    "name": "lib",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "lib", "devDependencies": {"xo": "^0.60.0"}},
        "node_modules/xo": {"version": "0.60.0", "dev": True},
        "node_modules/fsevents": {"version": "2.3.3", "optional": True},
    },
}


def test_no_dependencies_nothing_to_install(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": {"name": "lib", "version": "1.0.0"}})
    assert deps.node_dependencies(tmp_path) is None


def test_npm_missing_and_stale(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": PKG, "package-lock.json": LOCK})
    missing = deps.node_dependencies(tmp_path)
    assert missing is not None and missing.kind == Kind.DEPENDENCY
    assert missing.message == "the Node dependencies are not installed (no node_modules)"
    assert missing.hint == "run `npm ci`"
    hidden = {"packages": {"node_modules/xo": {"version": "0.59.0"}}}
    write(tmp_path, {"node_modules/.package-lock.json": hidden})
    stale = deps.node_dependencies(tmp_path)
    assert stale is not None
    assert stale.message == (
        "the installed Node dependencies are out of date: xo 0.59.0 is installed but "
        "package-lock.json pins 0.60.0"
    )
    assert (stale.file, stale.hint) == ("package-lock.json", "run `npm ci`")
    hidden["packages"]["node_modules/xo"]["version"] = "0.60.0"  # optional fsevents absent
    write(tmp_path, {"node_modules/.package-lock.json": hidden})
    assert deps.node_dependencies(tmp_path) is None


def test_lockfile_without_a_new_dependency_needs_npm_install(tmp_path: Path) -> None:
    pkg = {**PKG, "devDependencies": {"xo": "^0.60.0", "ava": "^6"}}
    write(tmp_path, {"package.json": pkg, "package-lock.json": LOCK, "node_modules/x": "1"})
    found = deps.node_dependencies(tmp_path)
    assert found is not None and found.hint == "run `npm install`"
    assert "package-lock.json does not list ava" in found.message


def test_pnpm_and_yarn(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": PKG, "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"})
    assert deps.install_command(tmp_path) == "pnpm install --frozen-lockfile"
    write(tmp_path, {"node_modules/.pnpm/lock.yaml": "lockfileVersion: '6.0'\n"})
    stale = deps.node_dependencies(tmp_path)
    assert stale is not None and stale.hint == "run `pnpm install --frozen-lockfile`"
    (tmp_path / "pnpm-lock.yaml").unlink()
    write(tmp_path, {"yarn.lock": "# yarn lockfile v1\n", "node_modules/.yarn-integrity": "{}"})
    assert deps.install_command(tmp_path) == "yarn install --frozen-lockfile"
    os.utime(tmp_path / "node_modules" / ".yarn-integrity", (1, 1))  # older than yarn.lock
    stale = deps.node_dependencies(tmp_path)
    assert stale is not None and stale.message.endswith(
        "yarn.lock changed since the last yarn install"
    )
    write(tmp_path, {"yarn.lock": "__metadata:\n  version: 8\n"})
    assert deps.install_command(tmp_path) == "yarn install --immutable"


def test_exit_127_names_the_missing_program(tmp_path: Path) -> None:
    err = (OUTPUTS / "npm-test-127.err").read_text()
    out = (OUTPUTS / "npm-test-127.out").read_text()
    result = proc.Result(("npm", "test"), 127, out, err, 0.1)
    assert missing_program(result) == "xo"
    bash = proc.Result(("sh",), 127, "", "/bin/sh: line 1: ava: command not found\n", 0.1)
    assert missing_program(bash) == "ava"
    assert missing_program(proc.Result(("x",), 1, "", "sh: 1: xo: not found\n", 0.1)) is None
    write(tmp_path, {"package.json": PKG, "package-lock.json": LOCK})
    assert deps.install_hint("xo", tmp_path, ("node",)) == "run `npm ci`"
    assert deps.install_hint("tox", tmp_path, ("python",)) == "run `pip install tox`"
