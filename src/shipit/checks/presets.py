"""What each tool check runs: the project's own commands first, then configured tools only.

For every check (typecheck, lint, test, security) ``plan(ctx, check)`` returns the commands
to run, each with the reason it was chosen, and the tools left out with the reason and the
line of configuration that turns them on. The order of preference, per ecosystem:

- Deno: the ``deno.json`` task of the check's name (``check``, ``lint``, ``test``); else
  ``deno check`` on the exports (what ``deno publish`` type-checks), ``deno lint`` only when
  deno.json has a ``lint`` section or CI runs it, ``deno fmt --check`` only when deno.json
  has a ``fmt`` section, a task runs it or CI runs it, ``deno test`` (``-P`` when deno.json
  grants test permissions).
- Node: the ``package.json`` script (``typecheck``, ``lint``, ``test``); ``tsc --noEmit``
  only with a tsconfig.json and typescript among the dependencies.
- Python: a tox environment or nox session of the check's name (``lint``, ``mypy``, ...),
  then a hatch script, then the tools the project configures (``[tool.ruff]``,
  ``[tool.mypy]``, pytest configuration). A tool nobody configured is not run.

``checks.<name>.command`` replaces all of this.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipit.checks.base import CheckContext
from shipit.checks.command import Command, find_tool, shell
from shipit.project import tooling

TOOL_CHECKS = ("typecheck", "lint", "test", "security")
TYPECHECK_SCRIPTS = ("typecheck", "type-check", "types", "check-types", "tsc", "check:types")
TYPECHECK_ENVS = ("typecheck", "type", "types", "typing", "mypy", "pyright")
LINT_ENVS = ("lint", "linting", "ruff", "flake8", "style")
FMT_TASKS = ("fmt:check", "check:fmt", "format:check", "check:format")
LINTERS_IN_TESTS = ("xo", "eslint", "standard", "biome", "oxlint")


@dataclass(frozen=True)
class Skipped:
    """A tool the check could run but does not: why, and the configuration that turns it on."""

    tool: str
    reason: str
    enable: str

    def to_json(self) -> dict[str, str]:
        return {"tool": self.tool, "reason": self.reason, "enable": self.enable}


@dataclass
class Plan:
    """What one check will run (each command with its reason) and what it leaves out."""

    check: str
    commands: list[Command] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    nothing_to_scan: list[str] = field(default_factory=list)  # security: no dependency at all

    def skip(self, tool: str, reason: str, enable: str) -> None:
        """Leave ``tool`` out, saying why and what turns it on."""
        self.skipped.append(Skipped(tool, reason, enable))

    @property
    def reason(self) -> str:
        """Why nothing runs (for a skipped check)."""
        if self.skipped:
            s = self.skipped[0]
            return f"{s.reason}; to run it: {s.enable}"
        if self.check == "security":
            return "no vulnerability scanner for this project (set checks.security.command)"
        return f"nothing to run for this project (set checks.{self.check}.command)"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "commands": [{"command": c.display, "why": c.why} for c in self.commands],
            "skipped": [s.to_json() for s in self.skipped],
        }
        if self.nothing_to_scan:
            out["nothing_to_scan"] = list(self.nothing_to_scan)
        return out


Part = Callable[[CheckContext, Plan], None]  # what one ecosystem adds to a check's plan


def plan(ctx: CheckContext, check: str, coverage_dir: Path | None = None) -> Plan:
    """The plan of ``check`` for this project (``coverage_dir``: where tests write coverage)."""
    out = Plan(check)
    command = getattr(ctx.config.checks, check).command
    if command:
        out.commands.append(
            shell(command, ctx.root, why=f"checks.{check}.command in the configuration")
        )
        return out
    eco = ctx.project.ecosystems
    if check == "security":
        _security(ctx, eco, out)
        return out
    cov = coverage_dir or ctx.log_dir / "coverage"
    parts: dict[str, dict[str, Part]] = {
        "typecheck": {
            "deno": _deno_typecheck,
            "node": _node_typecheck,
            "python": _python_typecheck,
        },
        "lint": {"deno": _deno_lint, "node": _node_lint, "python": _python_lint},
        "test": {
            "deno": functools.partial(_deno_test, cov=cov),
            "node": _node_test,
            "python": functools.partial(_python_test, cov=cov),
        },
    }
    for ecosystem, part in parts.get(check, {}).items():
        if ecosystem in eco:
            part(ctx, out)
    return out


def _tool(ctx: CheckContext, name: str) -> str:
    """Where ``find_tool`` finds ``name``, else the bare name (running it says it is missing)."""
    return find_tool(name, ctx.root, ctx.env) or name


def _deno(ctx: CheckContext) -> str:
    return _tool(ctx, "deno")


def _task(ctx: CheckContext, name: str, body: str, config: str | None) -> Command:
    return Command(
        (_deno(ctx), "task", name),
        ctx.root,
        why=f"the `{name}` task in {config}: {body}",
        label=f"deno task {name}",
    )


def _npm_script(ctx: CheckContext, node: tooling.Node, name: str) -> Command:
    manager = node.manager
    argv = (manager, "test") if name == "test" else (manager, "run", name)
    body = node.scripts.get(name, "")
    return Command(argv, ctx.root, why=f"the `{name}` script in package.json: {body}")


# ------------------------------------------------------------------ typecheck


def _deno_typecheck(ctx: CheckContext, out: Plan) -> None:
    d = tooling.deno(ctx.root)
    body = d.tasks.get("check")
    if body is not None and "deno check" in body:
        out.commands.append(_task(ctx, "check", body, d.file))
        return
    entries = d.exports
    why = (
        f"the exports of {d.file} (what `deno publish` type-checks)"
        if entries
        else "a Deno project (`deno check` type-checks every module)"
    )
    out.commands.append(Command((_deno(ctx), "check", *(entries or ["."])), ctx.root, why=why))


def _node_typecheck(ctx: CheckContext, out: Plan) -> None:
    node = tooling.node(ctx.root)
    script = next((s for s in TYPECHECK_SCRIPTS if node.script(s)), None)
    if script:
        out.commands.append(_npm_script(ctx, node, script))
        return
    if not (ctx.root / "tsconfig.json").is_file():
        out.skip(
            "tsc",
            "no `typecheck` script in package.json and no tsconfig.json",
            'add a "typecheck" script to package.json (or set checks.typecheck.command)',
        )
        return
    if "typescript" not in node.dependencies:
        out.skip(
            "tsc",
            "tsconfig.json exists but typescript is not among package.json's dependencies",
            'add a "typecheck": "tsc --noEmit" script to package.json',
        )
        return
    tsc = _tool(ctx, "tsc")
    out.commands.append(
        Command(
            (tsc, "--noEmit", "--pretty", "false"),
            ctx.root,
            why="tsconfig.json and typescript in package.json's dependencies",
        )
    )


def _tox(ctx: CheckContext, py: tooling.Python, env: str) -> Command:
    tox = _tool(ctx, "tox")
    body = " ".join(py.tox_envs.get(env, "").split())
    return Command(
        (tox, "-e", env), ctx.root, why=f"the `{env}` environment in {py.tox_file}: {body}"
    )


def _nox(ctx: CheckContext, session: str) -> Command:
    nox = _tool(ctx, "nox")
    return Command((nox, "-s", session), ctx.root, why=f"the `{session}` session in noxfile.py")


def _hatch(ctx: CheckContext, py: tooling.Python, script: str) -> Command:
    hatch = _tool(ctx, "hatch")
    return Command(
        (hatch, "run", script),
        ctx.root,
        why=f"the hatch script `{script}` in pyproject.toml: {py.hatch_scripts[script]}",
    )


def _project_runner(
    ctx: CheckContext, py: tooling.Python, names: tuple[str, ...]
) -> Command | None:
    """A tox environment, nox session or hatch script the project runs for this check."""
    env = next((n for n in names if n in py.tox_envs), None)
    if env:
        return _tox(ctx, py, env)
    session = next((n for n in names if n in py.nox_sessions), None)
    if session:
        return _nox(ctx, session)
    scripts = py.hatch_scripts
    script = next(
        (s for n in names for s in scripts if s == n or s.endswith(f":{n}") or s == f"{n}:check"),
        None,
    )
    return _hatch(ctx, py, script) if script else None


def _python_tools(
    ctx: CheckContext,
    py: tooling.Python,
    out: Plan,
    runners: tuple[str, ...],
    tools: tuple[tuple[str, tuple[str, ...]], ...],
    missing: Skipped,
) -> None:
    """The project's own tox/nox/hatch runner named one of ``runners``; else the first of
    ``tools`` (name, arguments) the project configures; else ``missing``."""
    own = _project_runner(ctx, py, runners)
    if own is not None:
        out.commands.append(own)
        return
    for tool, args in tools:
        where = py.configures(tool)
        if where:
            exe = _tool(ctx, tool)
            out.commands.append(Command((exe, *args), ctx.root, why=where))
            return
    out.skipped.append(missing)


def _python_typecheck(ctx: CheckContext, out: Plan) -> None:
    py = tooling.python(ctx.root)
    files = py.tools.get("mypy", {}).get("files")
    target: tuple[str, ...] = () if files else ("src" if (ctx.root / "src").is_dir() else ".",)
    missing = Skipped(
        "mypy",
        "the project configures no type checker (no [tool.mypy] or [tool.pyright], "
        "no typecheck environment in tox.ini)",
        "add a [tool.mypy] table to pyproject.toml (or set checks.typecheck.command)",
    )
    _python_tools(ctx, py, out, TYPECHECK_ENVS, (("mypy", target), ("pyright", ())), missing)


# ------------------------------------------------------------------ lint


def _deno_lint(ctx: CheckContext, out: Plan) -> None:
    d = tooling.deno(ctx.root)
    runs = tooling.workflow_commands(ctx.root)
    body = d.tasks.get("lint")
    covered_fmt = False
    if body is not None:
        out.commands.append(_task(ctx, "lint", body, d.file))
        covered_fmt = "deno fmt" in body
    elif d.has("lint") or tooling.runs_command(runs, "deno lint"):
        why = (
            f'the "lint" section of {d.file}'
            if d.has("lint")
            else "the CI workflow runs `deno lint`"
        )
        out.commands.append(Command((_deno(ctx), "lint"), ctx.root, why=why))
    else:
        out.skip(
            "deno lint",
            f"{d.file or 'deno.json'} has no `lint` task or section and CI does not run "
            "`deno lint`",
            f'add "lint": {{}} to {d.file or "deno.json"} (or a "lint" task)',
        )
    if covered_fmt:
        return
    fmt_task = next((t for t in FMT_TASKS if t in d.tasks), None)
    fmt_task = fmt_task or next(
        (t for t, b in d.tasks.items() if "deno fmt --check" in b and t != "lint"), None
    )
    if fmt_task:
        out.commands.append(_task(ctx, fmt_task, d.tasks[fmt_task], d.file))
    elif d.has("fmt") or tooling.runs_command(runs, "deno fmt --check"):
        why = (
            f'the "fmt" section of {d.file}'
            if d.has("fmt")
            else "the CI workflow runs `deno fmt --check`"
        )
        out.commands.append(Command((_deno(ctx), "fmt", "--check"), ctx.root, why=why))
    else:
        out.skip(
            "deno fmt --check",
            f"{d.file or 'deno.json'} has no `fmt` section and neither a task nor CI "
            "runs `deno fmt --check`",
            f'add "fmt": {{}} to {d.file or "deno.json"}',
        )


def _node_lint(ctx: CheckContext, out: Plan) -> None:
    node = tooling.node(ctx.root)
    if node.script("lint"):
        out.commands.append(_npm_script(ctx, node, "lint"))
        return
    test = node.script("test") or ""
    inside = next((t for t in LINTERS_IN_TESTS if t in test.replace("&&", " ").split()), None)
    if inside:
        out.skip(
            inside,
            f"`{node.manager} test` runs {inside} (the test check reports its problems)",
            'add a "lint" script to package.json to run it as its own check',
        )
        return
    out.skip(
        "lint",
        "package.json has no `lint` script",
        'add a "lint" script to package.json (or set checks.lint.command)',
    )


def _python_lint(ctx: CheckContext, out: Plan) -> None:
    missing = Skipped(
        "ruff",
        "the project configures no linter (no [tool.ruff], ruff.toml or flake8 "
        "configuration, no lint environment in tox.ini)",
        "add a [tool.ruff] table to pyproject.toml (or set checks.lint.command)",
    )
    tools = (("ruff", ("check", "--output-format=concise", ".")), ("flake8", ()))
    _python_tools(ctx, tooling.python(ctx.root), out, LINT_ENVS, tools, missing)


# ------------------------------------------------------------------ tests


def _deno_test(ctx: CheckContext, out: Plan, cov: Path) -> None:
    d = tooling.deno(ctx.root)
    bar = ctx.config.checks.test.min_coverage
    coverage = (f"--coverage={cov / 'deno'}",) if bar is not None else ()
    body = d.tasks.get("test")
    if body is not None:
        task = _task(ctx, "test", body, d.file)
        single = body.strip().startswith("deno test") and not any(
            op in body for op in ("&&", "||", ";", "|")
        )
        if coverage and single:  # deno task passes extra arguments on to the command
            label = " ".join([task.label, *coverage])
            task = Command((*task.argv, *coverage), task.cwd, why=task.why, label=label)
        out.commands.append(task)
        return
    flags: tuple[str, ...] = ("-P",) if d.test_permissions else ()
    why = "a Deno project" + (
        f" (-P: {d.file} grants the tests permissions)" if d.test_permissions else ""
    )
    out.commands.append(Command((_deno(ctx), "test", *flags, *coverage), ctx.root, why=why))


def _node_test(ctx: CheckContext, out: Plan) -> None:
    node = tooling.node(ctx.root)
    if node.script("test"):
        out.commands.append(_npm_script(ctx, node, "test"))
    else:
        out.skip(
            "npm test",
            "package.json has no test script (or npm init's placeholder)",
            'add a "test" script to package.json',
        )


def _python_source(root: Path, name: str | None) -> str:
    """What coverage measures: ``src``, the package directory of a flat layout, or ``.``."""
    if (root / "src").is_dir():
        return "src"
    if name:
        module = name.replace("-", "_").replace(".", "_").lower()
        if (root / module).is_dir():
            return module
    return "."


def _python_test(ctx: CheckContext, out: Plan, cov: Path) -> None:
    py = tooling.python(ctx.root)
    where = py.configures("pytest") or (
        "a tests/ directory" if (ctx.root / "tests").is_dir() else None
    )
    if where is None:
        out.skip(
            "pytest",
            "no pytest configuration and no tests/ directory",
            "add [tool.pytest.ini_options] to pyproject.toml (or set checks.test.command)",
        )
        return
    pytest = _tool(ctx, "pytest")
    argv: tuple[str, ...] = (pytest, "-q", "-rfE", "-p", "no:cacheprovider")
    if ctx.config.checks.test.min_coverage is not None:
        argv += (
            f"--cov={_python_source(ctx.root, ctx.project.name)}",
            f"--cov-report=json:{cov / 'coverage.json'}",
        )
    out.commands.append(Command(argv, ctx.root, why=where))


# ------------------------------------------------------------------ security


def _security(ctx: CheckContext, eco: tuple[str, ...], out: Plan) -> None:
    root = ctx.root
    if "node" in eco:
        node = tooling.node(root)
        if node.lockfile in ("package-lock.json", "npm-shrinkwrap.json"):
            out.commands.append(
                Command(
                    ("npm", "audit", "--json"),
                    root,
                    label="npm audit --json",
                    why=f"{node.lockfile} pins the dependencies",
                )
            )
        elif node.dependencies:
            out.skip(
                "npm audit",
                "no package-lock.json to audit",
                "commit the lockfile (npm install writes package-lock.json)",
            )
        else:
            out.nothing_to_scan.append("package.json declares no dependencies")
    if "python" in eco:
        pip_audit = find_tool("pip-audit", root, ctx.env)
        if (
            not (root / "requirements.txt").is_file()
            and tooling.python(root).declares_no_dependencies
        ):
            # pip-audit would build a virtualenv to install nothing (about a second of CPU)
            out.nothing_to_scan.append("pyproject.toml declares no dependencies")
        elif pip_audit:
            args = ("-r", "requirements.txt") if (root / "requirements.txt").is_file() else (".",)
            out.commands.append(
                Command(
                    (pip_audit, *args, "-f", "json", "--progress-spinner", "off"),
                    root,
                    label="pip-audit -f json",
                    why="pip-audit is installed",
                )
            )
        else:
            out.skip(
                "pip-audit",
                "pip-audit is not installed",
                "pip install pip-audit (or set checks.security.command)",
            )
