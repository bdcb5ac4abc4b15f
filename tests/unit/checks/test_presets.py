"""Presets: the commands each check runs, from detection alone, and configured overrides."""

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


def names(cmds: list[presets.Command]) -> list[str]:
    return [c.display for c in cmds]


def test_deno_presets(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text(json.dumps({"exports": {".": "./mod.ts", "./x": "./x.ts"}}))
    ctx = ctx_for(tmp_path, ("deno",))
    assert names(presets.typecheck(ctx)[0]) == ["deno check ./mod.ts ./x.ts"]
    assert names(presets.lint(ctx)[0]) == ["deno lint --json"]
    [test] = presets.test(ctx, tmp_path / "cov")[0]
    assert test.display == f"deno test --coverage={tmp_path / 'cov' / 'deno'}"
    cmds, reason = presets.security(ctx)
    assert cmds == [] and reason.startswith("no vulnerability scanner")


def test_node_presets_follow_package_json(tmp_path: Path) -> None:
    pkg = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    (tmp_path / "package.json").write_text(json.dumps(pkg))
    ctx = ctx_for(tmp_path, ("node",))
    assert presets.typecheck(ctx) == ([], presets.typecheck(ctx)[1])  # no tsconfig
    assert presets.lint(ctx)[0] == []  # no lint script
    assert presets.test(ctx, tmp_path)[0] == []  # npm init's placeholder is not a test
    pkg = {"scripts": {"test": "node --test", "lint": "eslint ."}}
    (tmp_path / "package.json").write_text(json.dumps(pkg))
    (tmp_path / "tsconfig.json").write_text("{}")
    (tmp_path / "package-lock.json").write_text("{}")
    assert names(presets.typecheck(ctx)[0]) == ["tsc --noEmit --pretty false"]
    assert names(presets.lint(ctx)[0]) == ["npm run lint --silent"]
    assert names(presets.test(ctx, tmp_path)[0]) == ["npm test"]
    assert names(presets.security(ctx)[0]) == ["npm audit --json"]


def test_python_type_checker_only_when_configured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    ctx = ctx_for(tmp_path, ("python",))
    cmds, reason = presets.typecheck(ctx)
    assert cmds == [] and "set checks.typecheck.command" in reason
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[project.optional-dependencies]\ndev = ["mypy>=1"]\n'
    )
    (tmp_path / "src").mkdir()
    assert names(presets.typecheck(ctx)[0]) == ["mypy src"]


def test_configured_command_replaces_the_preset(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text("{}")
    ctx = ctx_for(tmp_path, ("deno",), {"checks": {"lint": {"command": "deno lint --json src/"}}})
    [cmd] = presets.lint(ctx)[0]
    assert cmd.argv == ("/bin/sh", "-c", "deno lint --json src/")
    assert cmd.parser == "deno-lint"
    assert presets.parser_for("pytest -x") == "pytest"
    assert presets.parser_for("make check") == "generic"
