"""Example projects (Deno, Node, Python) as real git repos with a bare origin, and a helper
that runs named checks on them exactly as ``shipit check`` does (config, detection, the
parallel runner) against the sandbox's registries."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipit.checks import catalog
from shipit.checks.base import CheckResult
from shipit.checks.runner import Report, run_checks
from shipit.config import Settings, load
from shipit.project.detect import detect
from shipit.sandbox.git_remote import GitRepo

FIXTURES = Path(__file__).parent / "fixtures"

DENO_MOD = """export function add(a: number, b: number): number {
  return a + b;
}

export function greet(name: string): string {
  return `hello ${name}`;
}
"""
DENO_TEST = """import { add, greet } from "./mod.ts";

Deno.test("add adds", () => {
  if (add(1, 2) !== 3) throw new Error("add is wrong");
});

Deno.test("greet greets", () => {
  if (greet("x") !== "hello x") throw new Error("greet is wrong");
});
"""

NODE_INDEX = """"use strict";
function add(a, b) {
  return a + b;
}
module.exports = { add };
"""
NODE_TEST = """"use strict";
const test = require("node:test");
const assert = require("node:assert");
const { add } = require("../index.js");

test("adds", () => {
  assert.strictEqual(add(1, 2), 3);
});
"""

PY_INIT = '''"""A tiny package."""


def add(a: int, b: int) -> int:
    return a + b


def double(a: int) -> int:
    return a * 2
'''
PY_TEST = """from {module} import add, double


def test_add() -> None:
    assert add(1, 2) == 3


def test_double() -> None:
    assert double(2) == 4
"""
PY_GITIGNORE = "__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n.coverage\n*.egg-info/\n"


@dataclass
class Example:
    """A project in a work clone: write files, commit, push, and run checks on it."""

    repo: GitRepo
    env: dict[str, str]
    name: str

    @property
    def path(self) -> Path:
        return self.repo.path

    def write(self, files: dict[str, str]) -> None:
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, message: str, files: dict[str, str] | None = None, push: bool = True) -> None:
        self.write(files or {})
        self.repo.git("add", "-A")
        self.repo.git("commit", "--quiet", "--allow-empty", "-m", message)
        if push:
            self.repo.push()

    def report(self, *names: str, env: dict[str, str] | None = None) -> Report:
        root = self.path
        run_env = {**self.env, **(env or {})}
        config = load(root).config
        project = detect(root, config, run_env)
        ctx = catalog.build_context(
            root, config, Settings.from_env(run_env, config), project, run_env
        )
        wanted = list(names) or list(catalog.NAMES)
        checks = [c for c in catalog.all_checks() if c.name in wanted]
        return run_checks(checks, ctx)

    def check(self, name: str, env: dict[str, str] | None = None) -> CheckResult:
        [result] = self.report(name, env=env).results
        return result

    def shipit(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The real CLI as a user runs it."""
        import sys

        shipit = Path(sys.executable).parent / "shipit"
        return subprocess.run(
            [str(shipit), "-C", str(self.path), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def check_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    """The session's isolated environment plus the sandbox, with this virtualenv activated
    (its bin first on PATH, as a developer's shell has it) so pytest finds pytest-cov."""
    import sys

    env = dict(os.environ)
    env.update(sandbox_env)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    return env


ExampleFactory = Callable[..., Example]


def _example(repo: GitRepo, env: dict[str, str], name: str, files: dict[str, str]) -> Example:
    ex = Example(repo, env, name)
    ex.commit("example project", files)
    return ex


@pytest.fixture
def deno_project(git_repo: GitRepo, check_env: dict[str, str], unique_name: str) -> ExampleFactory:
    def make(version: str = "1.0.0", shipit_toml: str = "", **extra: str) -> Example:
        deno_json = {
            "name": f"@shipit-test/{unique_name}",
            "version": version,
            "exports": "./mod.ts",
            "license": "MIT",
            "lint": {"rules": {"tags": ["recommended"]}},  # the project lints with deno lint
        }
        files = {
            "deno.json": json.dumps(deno_json, indent=2) + "\n",
            "mod.ts": DENO_MOD,
            "mod_test.ts": DENO_TEST,
            "LICENSE": "MIT\n",
        }
        if shipit_toml:
            files["shipit.toml"] = shipit_toml
        files.update({k.replace("__", "/").replace("_DOT_", "."): v for k, v in extra.items()})
        return _example(git_repo, check_env, unique_name, files)

    return make


@pytest.fixture
def node_project(git_repo: GitRepo, check_env: dict[str, str], unique_name: str) -> ExampleFactory:
    def make(
        version: str = "1.0.0",
        shipit_toml: str = "",
        files: dict[str, str] | None = None,
        package: dict[str, object] | None = None,
    ) -> Example:
        pkg: dict[str, object] = {
            "name": unique_name,
            "version": version,
            "main": "index.js",
            "license": "MIT",
            "scripts": {"test": "node --test", "lint": "node --check index.js"},
        }
        pkg.update(package or {})
        all_files = {
            "package.json": json.dumps(pkg, indent=2) + "\n",
            "index.js": NODE_INDEX,
            "test/index.test.js": NODE_TEST,
        }
        if shipit_toml:
            all_files["shipit.toml"] = shipit_toml
        all_files.update(files or {})
        return _example(git_repo, check_env, unique_name, all_files)

    return make


@pytest.fixture
def python_project(
    git_repo: GitRepo, check_env: dict[str, str], unique_name: str
) -> ExampleFactory:
    module = unique_name.replace("-", "_")

    def make(
        version: str = "1.0.0", tool_shipit: str = "", files: dict[str, str] | None = None
    ) -> Example:
        pyproject = f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{unique_name}"
version = "{version}"
requires-python = ">=3.11"

[tool.mypy]
strict = true
files = ["src"]

[tool.ruff]
line-length = 100

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
{tool_shipit}"""
        all_files = {
            "pyproject.toml": pyproject,
            f"src/{module}/__init__.py": PY_INIT,
            "tests/test_calc.py": PY_TEST.format(module=module),
            ".gitignore": PY_GITIGNORE,
        }
        all_files.update(files or {})
        return _example(git_repo, check_env, unique_name, all_files)

    return make


@pytest.fixture
def module_name(unique_name: str) -> str:
    return unique_name.replace("-", "_")
