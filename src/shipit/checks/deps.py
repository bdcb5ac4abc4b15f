"""Are the project's dependencies installed? Asked before any tool runs.

Node: ``node_modules`` must exist when package.json has dependencies, and match the lockfile:
npm keeps a copy of what it installed in ``node_modules/.package-lock.json`` (compared entry
by entry with package-lock.json), pnpm in ``node_modules/.pnpm/lock.yaml``, yarn in
``node_modules/.yarn-state.yml`` / ``.yarn-integrity`` (older than yarn.lock: stale). Each
answer names the command that installs exactly the locked versions (``npm ci``,
``pnpm install --frozen-lockfile``, ``yarn install --immutable``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shipit.checks.base import Finding, Kind
from shipit.project import tooling

PYTHON_TOOLS = ("tox", "nox", "hatch", "ruff", "mypy", "pyright", "pytest", "flake8", "pip-audit")


def install_command(root: Path) -> str:
    """The command that installs the Node dependencies as the lockfile pins them."""
    node = tooling.node(root)
    if node.manager == "pnpm":
        return "pnpm install --frozen-lockfile" if node.lockfile else "pnpm install"
    if node.manager == "yarn":
        lock = root / "yarn.lock"
        classic = lock.is_file() and "yarn lockfile v1" in lock.read_text(encoding="utf-8")[:200]
        return "yarn install --frozen-lockfile" if classic else "yarn install --immutable"
    if node.lockfile in ("package-lock.json", "npm-shrinkwrap.json"):
        return "npm ci"
    return "npm install"


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _npm_stale(root: Path, node: tooling.Node) -> str | None:
    """Why node_modules does not match package-lock.json (None: it does, or we cannot tell)."""
    lock = _load(root / (node.lockfile or "package-lock.json")).get("packages")
    if not isinstance(lock, dict):
        return None
    for name in node.dependencies:
        if f"node_modules/{name}" not in lock:
            return f"{node.lockfile} does not list {name}, which package.json needs"
    hidden_path = root / "node_modules" / ".package-lock.json"
    if not hidden_path.is_file():
        return None  # not installed by npm 7+: nothing to compare with
    hidden = _load(hidden_path).get("packages")
    if not isinstance(hidden, dict):
        return None
    for path, entry in lock.items():
        if not path or not isinstance(entry, dict) or entry.get("optional") or entry.get("link"):
            continue
        if entry.get("devOptional") and path not in hidden:
            continue
        have = hidden.get(path)
        if not isinstance(have, dict):
            return f"{path.removeprefix('node_modules/')} is in {node.lockfile} but not installed"
        if entry.get("version") and have.get("version") != entry.get("version"):
            name = path.removeprefix("node_modules/")
            return (
                f"{name} {have.get('version')} is installed but {node.lockfile} "
                f"pins {entry.get('version')}"
            )
    return None


def _other_stale(root: Path, node: tooling.Node) -> str | None:
    if node.lockfile == "pnpm-lock.yaml":
        copy = root / "node_modules" / ".pnpm" / "lock.yaml"
        if copy.is_file() and copy.read_bytes() != (root / "pnpm-lock.yaml").read_bytes():
            return "pnpm-lock.yaml changed since the last pnpm install"
    if node.lockfile == "yarn.lock":
        for state in (".yarn-state.yml", ".yarn-integrity"):
            path = root / "node_modules" / state
            if path.is_file() and path.stat().st_mtime < (root / "yarn.lock").stat().st_mtime:
                return "yarn.lock changed since the last yarn install"
    return None


def node_dependencies(root: Path) -> Finding | None:
    """A finding when the Node dependencies are missing or stale, else None."""
    node = tooling.node(root)
    if not node.dependencies:
        return None
    command = install_command(root)
    if node.manager == "yarn" and (root / ".pnp.cjs").is_file():
        return None  # Plug'n'Play: no node_modules by design
    if not (root / "node_modules").is_dir():
        return Finding(
            "the Node dependencies are not installed (no node_modules)",
            file="package.json",
            hint=f"run `{command}`",
            kind=Kind.DEPENDENCY,
        )
    stale = _npm_stale(root, node) if node.manager == "npm" else _other_stale(root, node)
    if stale:
        fix = command if "does not list" not in stale else node.manager + " install"
        return Finding(
            f"the installed Node dependencies are out of date: {stale}",
            file=node.lockfile,
            hint=f"run `{fix}`",
            kind=Kind.DEPENDENCY,
        )
    return None


def install_hint(program: str, root: Path, ecosystems: tuple[str, ...]) -> str:
    """How to get a missing program: the project's install command for its own tools."""
    node = tooling.node(root) if "node" in ecosystems else None
    if node is not None and (program in node.dependencies or program in ("tsc",)):
        return f"run `{install_command(root)}`"
    if node is not None and (root / "node_modules").is_dir() is False and node.dependencies:
        return f"run `{install_command(root)}`"
    if program in PYTHON_TOOLS:
        return f"run `pip install {program}`"
    if program == "deno":
        return "run `pip install deno` (or install deno from https://deno.com)"
    if node is not None and node.dependencies:
        return f"add it to package.json's devDependencies and run `{install_command(root)}`"
    return f"install `{program}` and put it on PATH"
