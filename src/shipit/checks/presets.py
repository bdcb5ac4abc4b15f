"""The commands each check runs, from detection alone (or the configured command).

Deno: ``deno check`` on deno.json's exports, ``deno lint --json``, ``deno test --coverage``.
Node: ``tsc --noEmit`` when a tsconfig.json exists, ``npm run lint`` when the script exists,
``npm test`` when a real test script exists, ``npm audit --json`` when a lockfile exists.
Python: ``mypy``/``pyright`` when configured or listed in the project's dev dependencies,
``ruff check`` when ruff is available, ``pytest`` (with ``--cov`` when a coverage bar is set),
``pip-audit -f json``. A configured ``checks.<name>.command`` replaces the preset.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from shipit.checks.artifacts import deno_config
from shipit.checks.base import CheckContext
from shipit.checks.command import Command, find_tool, shell

NPM_DEFAULT_TEST = 'echo "Error: no test specified" && exit 1'


def parser_for(command: str) -> str:
    """Which output parser suits a configured command."""
    c = f" {command} "
    for needle, parser in (
        ("deno check", "deno-check"),
        ("deno lint", "deno-lint"),
        ("deno test", "deno-test"),
        ("tsc", "tsc"),
        ("mypy", "mypy"),
        ("pyright", "mypy"),
        ("ruff", "ruff"),
        ("eslint", "ruff"),
        ("pytest", "pytest"),
        ("npm test", "node-test"),
        ("node --test", "node-test"),
        ("vitest", "node-test"),
        ("jest", "node-test"),
    ):
        if needle in c:
            return parser
    return "generic"


def _package_json(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pyproject(root: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _dev_deps_text(py: dict[str, Any]) -> str:
    parts: list[Any] = [
        py.get("project", {}).get("optional-dependencies", {}),
        py.get("dependency-groups", {}),
        py.get("tool", {}).get("poetry", {}).get("group", {}),
        py.get("tool", {}).get("poetry", {}).get("dev-dependencies", {}),
    ]
    return json.dumps(parts).lower()


def _has_section(root: Path, file: str, section: str) -> bool:
    path = root / file
    try:
        return path.is_file() and f"[{section}]" in path.read_text(encoding="utf-8")
    except OSError:
        return False


def _scripts(root: Path) -> dict[str, str]:
    scripts = _package_json(root).get("scripts") or {}
    return {str(k): str(v) for k, v in scripts.items()} if isinstance(scripts, dict) else {}


def deno_entries(root: Path) -> list[str]:
    found = deno_config(root)
    if found is None:
        return []
    exports = found[1].get("exports")
    if isinstance(exports, str):
        return [exports]
    if isinstance(exports, dict):
        return [str(v) for v in exports.values() if isinstance(v, str)]
    return []


def _python_source(root: Path, name: str | None) -> str:
    """What coverage measures: ``src`` (every file in it, imported or not), the package
    directory of a flat layout, or everything."""
    if (root / "src").is_dir():
        return "src"
    if name:
        module = name.replace("-", "_").replace(".", "_").lower()
        if (root / module).is_dir():
            return module
    return "."


def _configured(ctx: CheckContext, check: str) -> list[Command] | None:
    cfg = getattr(ctx.config.checks, check)
    if cfg.command:
        return [shell(cfg.command, ctx.root, parser_for(cfg.command))]
    return None


def typecheck(ctx: CheckContext) -> tuple[list[Command], str]:
    """(commands, reason when there are none)."""
    configured = _configured(ctx, "typecheck")
    if configured is not None:
        return configured, ""
    root, eco = ctx.root, ctx.project.ecosystems
    cmds: list[Command] = []
    if "deno" in eco:
        deno = find_tool("deno", root, ctx.env) or "deno"
        cmds.append(Command((deno, "check", *deno_entries(root)), root, "deno-check"))
    if "node" in eco and (root / "tsconfig.json").is_file():
        tsc = find_tool("tsc", root, ctx.env) or "tsc"
        cmds.append(Command((tsc, "--noEmit", "--pretty", "false"), root, "tsc"))
    if "python" in eco:
        py = _pyproject(root)
        tool = py.get("tool", {})
        dev = _dev_deps_text(py)
        mypy_on = (
            "mypy" in tool
            or (root / "mypy.ini").is_file()
            or (root / ".mypy.ini").is_file()
            or _has_section(root, "setup.cfg", "mypy")
            or '"mypy' in dev
        )
        pyright_on = (
            "pyright" in tool or (root / "pyrightconfig.json").is_file() or '"pyright' in dev
        )
        if mypy_on:
            mypy = find_tool("mypy", root, ctx.env) or "mypy"
            files = tool.get("mypy", {}).get("files")
            target: tuple[str, ...] = () if files else ("src" if (root / "src").is_dir() else ".",)
            cmds.append(Command((mypy, *target), root, "mypy"))
        elif pyright_on:
            cmds.append(Command((find_tool("pyright", root, ctx.env) or "pyright",), root, "mypy"))
    reason = "" if cmds else "no type checker for this project (set checks.typecheck.command)"
    return cmds, reason


def lint(ctx: CheckContext) -> tuple[list[Command], str]:
    configured = _configured(ctx, "lint")
    if configured is not None:
        return configured, ""
    root, eco = ctx.root, ctx.project.ecosystems
    cmds: list[Command] = []
    if "deno" in eco:
        deno = find_tool("deno", root, ctx.env) or "deno"
        cmds.append(Command((deno, "lint", "--json"), root, "deno-lint"))
    if "node" in eco and "lint" in _scripts(root):
        cmds.append(Command(("npm", "run", "lint", "--silent"), root, "ruff"))
    if "python" in eco:
        ruff = find_tool("ruff", root, ctx.env)
        if ruff:
            cmds.append(Command((ruff, "check", "--output-format=concise", "."), root, "ruff"))
    reason = "" if cmds else "no linter for this project (set checks.lint.command)"
    return cmds, reason


def test(ctx: CheckContext, coverage_dir: Path) -> tuple[list[Command], str]:
    """Test commands; coverage files go under ``coverage_dir`` (deno: ``deno`` subdir,
    pytest: ``coverage.json``)."""
    configured = _configured(ctx, "test")
    if configured is not None:
        return configured, ""
    root, eco = ctx.root, ctx.project.ecosystems
    bar = ctx.config.checks.test.min_coverage
    cmds: list[Command] = []
    if "deno" in eco:
        deno = find_tool("deno", root, ctx.env) or "deno"
        cmds.append(
            Command((deno, "test", f"--coverage={coverage_dir / 'deno'}"), root, "deno-test")
        )
    if "node" in eco:
        script = _scripts(root).get("test")
        if script and script.strip() != NPM_DEFAULT_TEST:
            cmds.append(Command(("npm", "test"), root, "node-test"))
    if "python" in eco:
        pytest = find_tool("pytest", root, ctx.env)
        if pytest:
            argv: tuple[str, ...] = (pytest, "-q", "-rfE", "-p", "no:cacheprovider")
            if bar is not None:
                argv += (
                    f"--cov={_python_source(root, ctx.project.name)}",
                    f"--cov-report=json:{coverage_dir / 'coverage.json'}",
                )
            cmds.append(Command(argv, root, "pytest"))
    reason = "" if cmds else "no test command for this project (set checks.test.command)"
    return cmds, reason


def security(ctx: CheckContext) -> tuple[list[Command], str]:
    configured = _configured(ctx, "security")
    if configured is not None:
        return configured, ""
    root, eco = ctx.root, ctx.project.ecosystems
    cmds: list[Command] = []
    if "node" in eco and any(
        (root / f).is_file() for f in ("package-lock.json", "npm-shrinkwrap.json")
    ):
        cmds.append(Command(("npm", "audit", "--json"), root, "audit", "npm audit --json"))
    if "python" in eco:
        pip_audit = find_tool("pip-audit", root, ctx.env)
        if pip_audit:
            req = root / "requirements.txt"
            args = ("-r", "requirements.txt") if req.is_file() else (".",)
            cmds.append(
                Command(
                    (pip_audit, *args, "-f", "json", "--progress-spinner", "off"),
                    root,
                    "audit",
                    "pip-audit -f json",
                )
            )
    reason = (
        "" if cmds else "no vulnerability scanner for this project (set checks.security.command)"
    )
    return cmds, reason
