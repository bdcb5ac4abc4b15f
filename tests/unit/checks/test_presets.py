"""Presets: each check runs what the project itself runs, says why, and leaves out (with the
line that turns it on) every tool the project does not configure."""

from __future__ import annotations

import json
from pathlib import Path

from shipit.checks import presets
from shipit.checks.base import CheckContext
from shipit.config import Config, Settings
from shipit.project.model import Project


def ctx_for(
    root: Path, ecosystems: tuple[str, ...], config: dict[str, object] | None = None
) -> CheckContext:
    cfg = Config.model_validate(config or {})
    return CheckContext(
        root=root,
        config=cfg,
        settings=Settings.from_env({}, cfg),
        project=Project(root=root, ecosystems=ecosystems, sources=(), canonical=None, name="demo"),
        env={"PATH": "/usr/bin:/bin"},
        log_dir=root / ".shipit" / "checks",
    )


def shown(ctx: CheckContext, check: str) -> list[str]:
    return [c.display for c in presets.plan(ctx, check, ctx.root / "cov").commands]


def test_deno_without_configuration(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text(json.dumps({"exports": {".": "./mod.ts", "./x": "./x.ts"}}))
    ctx = ctx_for(tmp_path, ("deno",))
    assert shown(ctx, "typecheck") == ["deno check ./mod.ts ./x.ts"]
    [check] = presets.plan(ctx, "typecheck").commands
    assert check.why == "the exports of deno.json (what `deno publish` type-checks)"
    lint = presets.plan(ctx, "lint")
    assert lint.commands == []  # no lint or fmt configuration: not run
    assert [(s.tool, s.enable) for s in lint.skipped] == [
        ("deno lint", 'add "lint": {} to deno.json (or a "lint" task)'),
        ("deno fmt --check", 'add "fmt": {} to deno.json'),
    ]
    assert "to run it: add" in lint.reason
    assert shown(ctx, "test") == ["deno test"]
    security = presets.plan(ctx, "security")
    assert security.commands == [] and security.reason.startswith("no vulnerability scanner")


def test_deno_tasks_and_config_come_first(tmp_path: Path) -> None:
    config = {
        "exports": "./mod.ts",
        "tasks": {"test": "deno test -P", "lint": "deno lint && deno fmt --check"},
        "test": {"permissions": {"read": True}},
    }
    (tmp_path / "deno.json").write_text(json.dumps(config))
    ctx = ctx_for(tmp_path, ("deno",))
    assert shown(ctx, "lint") == ["deno task lint"]  # covers fmt too: no second command
    [test] = presets.plan(ctx, "test").commands
    assert test.display == "deno task test"
    assert test.why == "the `test` task in deno.json: deno test -P"
    del config["tasks"]
    config["lint"] = {"rules": {"exclude": ["no-explicit-any"]}}
    config["fmt"] = {"lineWidth": 100}
    (tmp_path / "deno.json").write_text(json.dumps(config))
    assert shown(ctx, "lint") == ["deno lint", "deno fmt --check"]
    [test] = presets.plan(ctx, "test").commands
    assert test.display == "deno test -P"  # the config grants test permissions
    assert "-P: deno.json grants the tests permissions" in test.why


def test_deno_lint_when_ci_runs_it(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text(json.dumps({"exports": "./mod.ts"}))
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "jobs:\n  test:\n    steps:\n      # - run: deno fmt --check\n      - run: deno lint\n"
    )
    ctx = ctx_for(tmp_path, ("deno",))
    plan = presets.plan(ctx, "lint")
    assert [(c.display, c.why) for c in plan.commands] == [
        ("deno lint", "the CI workflow runs `deno lint`")
    ]
    assert [s.tool for s in plan.skipped] == ["deno fmt --check"]  # commented out in CI


def test_deno_coverage_flag_only_with_a_bar(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text(json.dumps({"tasks": {"test": "deno test -A"}}))
    ctx = ctx_for(tmp_path, ("deno",), {"checks": {"test": {"min-coverage": 80}}})
    assert shown(ctx, "test") == [f"deno task test --coverage={tmp_path / 'cov' / 'deno'}"]


def test_node_scripts(tmp_path: Path) -> None:
    pkg: dict[str, object] = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    (tmp_path / "package.json").write_text(json.dumps(pkg))
    ctx = ctx_for(tmp_path, ("node",))
    assert presets.plan(ctx, "typecheck").commands == []  # no tsconfig
    assert presets.plan(ctx, "lint").skipped[0].enable.startswith('add a "lint" script')
    assert presets.plan(ctx, "test").commands == []  # npm init's placeholder is not a test
    pkg = {
        "scripts": {"test": "vitest run", "lint": "eslint ."},
        "devDependencies": {"typescript": "^5"},
    }
    (tmp_path / "package.json").write_text(json.dumps(pkg))
    (tmp_path / "tsconfig.json").write_text("{}")
    (tmp_path / "package-lock.json").write_text("{}")
    assert shown(ctx, "typecheck") == ["tsc --noEmit --pretty false"]
    [lint] = presets.plan(ctx, "lint").commands
    assert (lint.display, lint.why) == (
        "npm run lint",
        "the `lint` script in package.json: eslint .",
    )
    assert shown(ctx, "test") == ["npm test"]
    assert shown(ctx, "security") == ["npm audit --json"]
    pkg["scripts"] = {"test": "xo && ava", "typecheck": "tsc --noEmit"}
    pkg["packageManager"] = "pnpm@9.0.0"
    (tmp_path / "package.json").write_text(json.dumps(pkg))
    assert shown(ctx, "typecheck") == ["pnpm run typecheck"]
    assert shown(ctx, "test") == ["pnpm test"]
    [skip] = presets.plan(ctx, "lint").skipped
    assert skip.tool == "xo" and "runs xo" in skip.reason


def test_tsconfig_without_typescript_is_not_run(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": "x"}))
    (tmp_path / "tsconfig.json").write_text("{}")
    plan = presets.plan(ctx_for(tmp_path, ("node",)), "typecheck")
    assert plan.commands == [] and plan.skipped[0].tool == "tsc"


def test_python_tools_only_when_configured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[project.optional-dependencies]\ndev = ["mypy>=1", "ruff"]\n'
    )
    ctx = ctx_for(tmp_path, ("python",))
    typecheck = presets.plan(ctx, "typecheck")
    assert typecheck.commands == []  # listed in dev dependencies is not configured
    assert typecheck.skipped[0].enable.startswith("add a [tool.mypy] table to pyproject.toml")
    assert presets.plan(ctx, "lint").commands == []
    assert presets.plan(ctx, "test").skipped[0].tool == "pytest"
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[tool.mypy]\nstrict = true\n[tool.ruff]\n'
        "[tool.pytest.ini_options]\n"
    )
    (tmp_path / "src").mkdir()
    [mypy] = presets.plan(ctx, "typecheck").commands
    assert (mypy.display, mypy.why) == ("mypy src", "[tool.mypy] in pyproject.toml")
    assert shown(ctx, "lint") == ["ruff check --output-format=concise ."]
    assert shown(ctx, "test") == ["pytest -q -rfE -p no:cacheprovider"]


def test_python_tox_environment_first(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.ruff]\n')
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = py311, lint\n\n[testenv]\ncommands = pytest\n\n"
        "[testenv:lint]\nskip_install = true\ndeps = ruff\ncommands = ruff check src\n"
    )
    ctx = ctx_for(tmp_path, ("python",))
    [lint] = presets.plan(ctx, "lint").commands
    assert lint.display == "tox -e lint"
    assert lint.why == "the `lint` environment in tox.ini: ruff check src"


def test_hatch_and_nox(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[tool.hatch.envs.types.scripts]\ncheck = "mypy src"\n'
    )
    (tmp_path / "noxfile.py").write_text(
        'import nox\n\n\n@nox.session(python="3.12")\ndef lint(session):\n    pass\n'
    )
    ctx = ctx_for(tmp_path, ("python",))
    assert shown(ctx, "typecheck") == ["hatch run types:check"]
    assert shown(ctx, "lint") == ["nox -s lint"]


def test_configured_command_replaces_the_preset(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text("{}")
    ctx = ctx_for(tmp_path, ("deno",), {"checks": {"lint": {"command": "deno lint --json src/"}}})
    [cmd] = presets.plan(ctx, "lint").commands
    assert cmd.argv == ("/bin/sh", "-c", "deno lint --json src/")
    assert cmd.parser == "deno-lint-json"
    assert cmd.why == "checks.lint.command in the configuration"


def test_security_has_nothing_to_audit_without_dependencies(tmp_path: Path) -> None:
    """pip-audit builds a virtualenv even for a project that declares no dependency: shipit
    says there is nothing to audit instead; any declared (or dynamic) dependency is audited."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "pip-audit").write_text("#!/bin/sh\n")
    (bindir / "pip-audit").chmod(0o755)
    project = tmp_path / "p"
    project.mkdir()
    ctx = ctx_for(project, ("python",))
    ctx.env = {"PATH": f"{bindir}:/usr/bin:/bin"}

    def write(table: str) -> presets.Plan:
        (project / "pyproject.toml").write_text(f'[project]\nname = "demo"\n{table}')
        return presets.plan(ctx, "security")

    for table in ("", "dependencies = []\n"):
        plan = write(table)
        assert plan.commands == []
        assert plan.nothing_to_scan == ["pyproject.toml declares no dependencies"]
        assert plan.to_json()["nothing_to_scan"] == plan.nothing_to_scan
    for table in ('dependencies = ["httpx>=0.27"]\n', 'dynamic = ["dependencies"]\n'):
        assert [c.label for c in write(table).commands] == ["pip-audit -f json"]
    (project / "requirements.txt").write_text("httpx==0.28.1\n")
    [audit] = write("").commands
    assert audit.argv[1:3] == ("-r", "requirements.txt")
