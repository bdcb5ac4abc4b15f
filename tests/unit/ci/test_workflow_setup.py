"""What each job of the release workflow installs, read from project files shaped like real
ones: the Node version and package manager, Deno's version, the Python dependencies the checks
need, and what the jobs install shipit from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipit import __version__
from shipit.config import Config, parse
from shipit.project.detect import detect
from shipit.workflow_setup import (
    DenoSetup,
    NodeSetup,
    PythonSetup,
    deno_setup,
    node_setup,
    node_steps,
    python_setup,
    shipit_requirement,
)


def _config(data: dict[str, Any]) -> Config:
    return parse(data, path=Path("shipit.toml"))


def _project(root: Path, files: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        path.write_text(text)
    cfg = _config(config or {})
    return cfg, detect(root, cfg, {})


PKG = {"name": "@acme/lib", "version": "1.2.0", "license": "MIT"}
DEPS = {**PKG, "devDependencies": {"xo": "^1.0.0", "ava": "^6.0.0"}, "scripts": {"test": "ava"}}


# ---------------------------------------------------------------- Node


def test_npm_package_with_lockfile_and_nvmrc(tmp_path: Path) -> None:
    cfg, project = _project(
        tmp_path, {"package.json": DEPS, "package-lock.json": "{}", ".nvmrc": "22\n"}
    )
    node = node_setup(cfg, project, tmp_path)
    assert node == NodeSetup(
        version="",
        version_file=".nvmrc",
        manager="npm",
        lockfile="package-lock.json",
        install="npm ci",
        registry_url="https://registry.npmjs.org",
        npm_upgrade=True,  # Node 22's npm may be older than trusted publishing needs
    )
    assert node.cache == "npm"
    plan = "\n".join(node_steps(node, job="plan"))
    assert "cache: npm" in plan and 'cache-dependency-path: "package-lock.json"' in plan
    assert "registry-url" not in plan and "npm >= 11.5.1" not in plan
    publish = "\n".join(node_steps(node, job="publish"))
    assert "cache: npm" not in publish and "package-manager-cache: false" in publish
    assert 'registry-url: "https://registry.npmjs.org"' in publish
    assert 'npm install --global "npm@^11.5.1"' in publish
    assert publish.rstrip().endswith("run: npm ci")


def test_engines_names_the_version_and_tokens_need_no_new_npm(tmp_path: Path) -> None:
    package = {**DEPS, "engines": {"node": ">=20"}}
    cfg, project = _project(
        tmp_path,
        {"package.json": package, "package-lock.json": "{}"},
        {"npm": {"auth": "token", "registry": "https://npm.acme.test/"}},
    )
    node = node_setup(cfg, project, tmp_path)
    assert node is not None
    assert (node.version, node.version_file) == ("", "package.json")
    assert node.registry_url == "https://npm.acme.test/"
    assert node.npm_upgrade is False  # a token publishes with any npm


def test_default_node_is_24_and_config_wins(tmp_path: Path) -> None:
    cfg, project = _project(tmp_path, {"package.json": PKG, ".node-version": "20.11.0\n"})
    node = node_setup(cfg, project, tmp_path)
    assert node is not None and node.version_file == ".node-version"
    assert node.install == ""  # no dependencies: nothing to install
    cfg2, project2 = _project(tmp_path, {}, {"ci": {"node-version": "24"}})
    node2 = node_setup(cfg2, project2, tmp_path)
    assert node2 is not None and (node2.version, node2.version_file) == ("24", "")
    assert node2.npm_upgrade is False  # Node 24's npm publishes with trusted publishing


def test_no_lockfile_installs_without_writing_one(tmp_path: Path) -> None:
    cfg, project = _project(tmp_path, {"package.json": DEPS})  # sindresorhus style
    node = node_setup(cfg, project, tmp_path)
    assert node is not None
    assert node.install == "npm install --no-package-lock"
    assert node.cache == ""
    assert "package-manager-cache: false  # no lockfile" in "\n".join(node_steps(node, job="plan"))


def test_pnpm_from_package_manager_or_from_the_lockfile_version(tmp_path: Path) -> None:
    package = {**DEPS, "packageManager": "pnpm@10.4.1+sha512.abc"}
    lock = "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n"
    cfg, project = _project(tmp_path, {"package.json": package, "pnpm-lock.yaml": lock})
    node = node_setup(cfg, project, tmp_path)
    assert node is not None
    assert (node.manager, node.install) == ("pnpm", "pnpm install --frozen-lockfile")
    assert node.pnpm_version == ""  # pnpm/action-setup reads packageManager
    steps = node_steps(node, job="plan")
    assert steps[0].startswith("      - uses: pnpm/action-setup@")
    assert "version:" not in steps[1]  # no `with:` at all
    assert "cache: pnpm" in "\n".join(steps)

    (tmp_path / "package.json").write_text(json.dumps(DEPS))
    cfg, project = _project(tmp_path, {})
    node = node_setup(cfg, project, tmp_path)
    assert node is not None and node.pnpm_version == "10"


def test_yarn_berry_comes_from_corepack_and_classic_keeps_its_flag(tmp_path: Path) -> None:
    berry = {**DEPS, "packageManager": "yarn@4.5.0"}
    cfg, project = _project(
        tmp_path, {"package.json": berry, "yarn.lock": "__metadata:\n  version: 8\n"}
    )
    node = node_setup(cfg, project, tmp_path)
    assert node is not None
    assert (node.install, node.corepack, node.cache) == ("yarn install --immutable", True, "")
    steps = "\n".join(node_steps(node, job="plan"))
    assert steps.index("actions/setup-node@") < steps.index("corepack enable")

    classic = tmp_path / "classic"
    cfg, project = _project(classic, {"package.json": DEPS, "yarn.lock": "# yarn lockfile v1\n"})
    node = node_setup(cfg, project, classic)
    assert node is not None
    assert (node.install, node.corepack, node.cache) == (
        "yarn install --frozen-lockfile",
        False,
        "yarn",
    )


def test_package_in_a_workspace_installs_at_the_lockfile(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"private": True, "workspaces": ["pkgs/*"]}))
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / ".nvmrc").write_text("22\n")
    cfg, project = _project(tmp_path / "pkgs" / "lib", {"package.json": DEPS})
    node = node_setup(cfg, project, tmp_path)
    assert node is not None
    assert (node.lockfile, node.install_dir, node.version_file) == (
        "package-lock.json",
        ".",
        ".nvmrc",
    )
    steps = "\n".join(node_steps(node, job="plan"))
    assert 'working-directory: "."\n        run: npm ci' in steps


def test_python_library_needs_no_node(tmp_path: Path) -> None:
    cfg, project = _project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n'})
    assert node_setup(cfg, project, tmp_path) is None
    assert deno_setup(cfg, project, tmp_path, build=False) is None


# ---------------------------------------------------------------- Deno


DENO = {"name": "@acme/lib", "version": "1.2.0", "exports": "./mod.ts", "license": "MIT"}


@pytest.mark.parametrize(
    ("files", "config", "expected"),
    [
        ({}, {}, DenoSetup(version="v2.x", jobs=("plan", "publish"))),
        ({".dvmrc": "2.4.1\n"}, {}, DenoSetup(version_file=".dvmrc", jobs=("plan", "publish"))),
        (
            {".tool-versions": "python 3.12.4\ndeno 2.3.0\n"},
            {},
            DenoSetup(version_file=".tool-versions", jobs=("plan", "publish")),
        ),
        (
            {".tool-versions": "python 3.12.4\n"},  # names no deno: not a deno version file
            {},
            DenoSetup(version="v2.x", jobs=("plan", "publish")),
        ),
        (
            {"deno.json": {**DENO, "engines": {"deno": ">=2.2"}}},
            {},
            DenoSetup(version=">=2.2", jobs=("plan", "publish")),
        ),
        (
            {".dvmrc": "2.4.1\n"},
            {"ci": {"deno-version": "2.5.0"}},
            DenoSetup(version="2.5.0", jobs=("plan", "publish")),
        ),
    ],
)
def test_deno_version(
    tmp_path: Path, files: dict[str, Any], config: dict[str, Any], expected: DenoSetup
) -> None:
    cfg, project = _project(tmp_path, {"deno.json": DENO, "mod.ts": "export {}\n", **files}, config)
    assert deno_setup(cfg, project, tmp_path, build=False) == expected


def test_deno_preset_sets_deno_up_on_build_runners_only_for_a_go_style_project(
    tmp_path: Path,
) -> None:
    cfg, project = _project(tmp_path, {"main.ts": "console.log(1)\n"})
    assert deno_setup(cfg, project, tmp_path, build=True) == DenoSetup(
        version="v2.x", jobs=("build",)
    )


# ---------------------------------------------------------------- Python


PY = '[project]\nname = "acme"\nversion = "1.0.0"\n'
RUFF_MYPY = "\n[tool.ruff]\nline-length = 100\n\n[tool.mypy]\nstrict = true\n"


def test_declared_extras_are_installed_with_the_project(tmp_path: Path) -> None:
    text = PY + '\n[project.optional-dependencies]\ndev = ["pytest", "ruff"]\ndocs = ["mkdocs"]\n'
    cfg, project = _project(tmp_path, {"pyproject.toml": text + RUFF_MYPY, "tests/test_x.py": ""})
    assert python_setup(cfg, project) == PythonSetup(
        "pip", ('python -m pip install -e ".[dev]"',), (), "the project, extra dev (pip)"
    )


def test_dependency_groups_need_a_new_pip(tmp_path: Path) -> None:
    text = PY + '\n[dependency-groups]\ntest = ["pytest"]\nlint = ["ruff"]\n'
    cfg, project = _project(tmp_path, {"pyproject.toml": text + RUFF_MYPY, "tests/test_x.py": ""})
    py = python_setup(cfg, project)
    assert py is not None
    assert py.install == (
        'python -m pip install --upgrade "pip>=25.1"  # for --group',
        "python -m pip install -e . --group test --group lint",
    )


def test_requirement_files(tmp_path: Path) -> None:
    cfg, project = _project(
        tmp_path,
        {
            "pyproject.toml": PY + RUFF_MYPY,
            "requirements-dev.txt": "pytest\nruff\nmypy\n",
            "tests/test_x.py": "",
        },
    )
    py = python_setup(cfg, project)
    assert py is not None
    assert py.install == ("python -m pip install -e . -r requirements-dev.txt",)


def test_nothing_declared_installs_the_tools_the_checks_run(tmp_path: Path) -> None:
    cfg, project = _project(
        tmp_path,
        {"pyproject.toml": PY + RUFF_MYPY, "tests/test_x.py": ""},
        {"checks": {"test": {"min-coverage": 80}}},
    )
    py = python_setup(cfg, project)
    assert py is not None
    assert py.install == ("python -m pip install -e . mypy pytest ruff pytest-cov",)
    assert py.source == "the project, mypy, pytest, ruff, pytest-cov (pip)"


def test_lockfiles_choose_uv_or_poetry(tmp_path: Path) -> None:
    files = {"pyproject.toml": PY + RUFF_MYPY, "uv.lock": "version = 1\n"}
    cfg, project = _project(tmp_path, files)
    assert python_setup(cfg, project) == PythonSetup(
        "uv", ("uv sync --locked",), (), "uv.lock (uv sync)"
    )
    other = tmp_path / "poetry"
    cfg, project = _project(other, {"pyproject.toml": PY + RUFF_MYPY, "poetry.lock": ""})
    py = python_setup(cfg, project)
    assert py is not None and (py.manager, py.install) == (
        "poetry",
        (
            "poetry install --no-interaction",
            'echo "$(poetry env info --path)/bin" >> "$GITHUB_PATH"',
        ),
    )


def test_tox_environments_bring_tox(tmp_path: Path) -> None:
    tox = "[tox]\nenvlist = py312, lint\n\n[testenv:lint]\ncommands = ruff check .\n"
    cfg, project = _project(tmp_path, {"pyproject.toml": PY, "tox.ini": tox})
    assert python_setup(cfg, project) == PythonSetup("pip", (), ("tox",))


def test_no_check_runs_python_tools_installs_nothing(tmp_path: Path) -> None:
    cfg, project = _project(tmp_path, {"pyproject.toml": PY})  # no tests, no tool configured
    assert python_setup(cfg, project) is None
    off = {"checks": {"test": {"enabled": False}, "lint": {"enabled": False}}}
    cfg, project = _project(tmp_path, {"pyproject.toml": PY + RUFF_MYPY, "tests/t.py": ""}, off)
    py = python_setup(cfg, project)
    assert py is not None and py.install == ("python -m pip install -e . mypy",)


# ---------------------------------------------------------------- shipit itself


def test_shipit_requirement_from_configuration_or_this_version() -> None:
    configured = _config({"ci": {"shipit-requirement": "shipit-release @ git+https://x/y@abc"}})
    assert shipit_requirement(configured) == ("shipit-release @ git+https://x/y@abc", "")
    requirement, note = shipit_requirement(_config({}))
    assert requirement == f"shipit-release=={__version__}"
    # the tests run an editable install: said, and the PyPI version pinned instead
    assert note == "" or "set [ci] shipit-requirement" in note
