"""What the project itself runs: deno tasks and config, npm scripts, Python tool configuration.

Facts only, read from the files (nothing is executed): ``deno.json`` tasks, its ``lint``,
``fmt``, ``test`` and ``exclude`` settings; ``package.json`` scripts and dependencies and the
lockfile in use; ``pyproject.toml`` tool tables, ``tox.ini`` environments, ``noxfile.py``
sessions and hatch scripts; and the ``run:`` lines of the GitHub workflows. The check presets
(``shipit.checks.presets``) choose from these what each check runs.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipit.errors import ConfigError
from shipit.project import manifests

NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1'
DENO_CONFIGS = ("deno.json", "deno.jsonc")


def _json(path: Path) -> dict[str, Any]:
    try:
        return manifests.read_json(path) if path.is_file() else {}
    except (ConfigError, OSError):
        return {}


@dataclass(frozen=True)
class Deno:
    """``deno.json`` (or ``deno.jsonc``) as the checks need it."""

    file: str | None  # the config's name, None without one
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def tasks(self) -> dict[str, str]:
        raw = self.data.get("tasks")
        out: dict[str, str] = {}
        if isinstance(raw, dict):
            for name, value in raw.items():
                if isinstance(value, str):
                    out[str(name)] = value
                elif isinstance(value, dict) and isinstance(value.get("command"), str):
                    out[str(name)] = value["command"]  # the object form of a task
        return out

    @property
    def exports(self) -> list[str]:
        exports = self.data.get("exports")
        if isinstance(exports, str):
            return [exports]
        if isinstance(exports, dict):
            return [str(v) for v in exports.values() if isinstance(v, str)]
        return []

    @property
    def test_permissions(self) -> bool:
        """True when the config grants tests permissions (deno then wants ``-P``)."""
        test = self.data.get("test")
        return isinstance(test, dict) and "permissions" in test

    def has(self, key: str) -> bool:
        return key in self.data

    @property
    def remote_imports(self) -> bool:
        """True when the import map names jsr:, npm: or https: dependencies."""
        imports = self.data.get("imports")
        if not isinstance(imports, dict):
            return False
        return any(
            isinstance(v, str) and v.startswith(("jsr:", "npm:", "https:", "http:"))
            for v in imports.values()
        )


def deno(root: Path) -> Deno:
    for name in DENO_CONFIGS:
        path = root / name
        if path.is_file():
            return Deno(name, _json(path))
    return Deno(None)


@dataclass(frozen=True)
class Node:
    """``package.json`` and the package manager its lockfile names."""

    data: dict[str, Any] = field(default_factory=dict)
    lockfile: str | None = None  # package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, ...

    @property
    def scripts(self) -> dict[str, str]:
        raw = self.data.get("scripts")
        if not isinstance(raw, dict):
            return {}
        return {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}

    @property
    def dependencies(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in ("dependencies", "devDependencies", "optionalDependencies"):
            raw = self.data.get(key)
            if isinstance(raw, dict):
                out.update({str(k): str(v) for k, v in raw.items()})
        return out

    @property
    def manager(self) -> str:
        """npm, pnpm or yarn: from ``packageManager`` or the lockfile."""
        declared = str(self.data.get("packageManager") or "").split("@", 1)[0]
        if declared in ("npm", "pnpm", "yarn"):
            return declared
        if self.lockfile == "pnpm-lock.yaml":
            return "pnpm"
        if self.lockfile == "yarn.lock":
            return "yarn"
        return "npm"

    def script(self, name: str) -> str | None:
        body = self.scripts.get(name)
        if body is None or body.strip() == NPM_PLACEHOLDER_TEST:
            return None
        return body


LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock")


def node(root: Path) -> Node:
    lock = next((name for name in LOCKFILES if (root / name).is_file()), None)
    return Node(_json(root / "package.json"), lock)


@dataclass(frozen=True)
class Python:
    """The Python tools a project configures, and where it says so."""

    pyproject: dict[str, Any] = field(default_factory=dict)
    tox_envs: dict[str, str] = field(default_factory=dict)  # name -> its commands
    tox_file: str | None = None
    nox_sessions: tuple[str, ...] = ()
    setup_cfg: tuple[str, ...] = ()  # section names of setup.cfg
    files: frozenset[str] = frozenset()  # tool config files present at the root

    @property
    def tools(self) -> dict[str, Any]:
        tool = self.pyproject.get("tool")
        return tool if isinstance(tool, dict) else {}

    @property
    def hatch_scripts(self) -> dict[str, str]:
        """``env:script`` (``script`` for the default environment) -> its command(s)."""
        envs = self.tools.get("hatch", {}).get("envs", {})
        out: dict[str, str] = {}
        if isinstance(envs, dict):
            for env_name, env in envs.items():
                scripts = env.get("scripts", {}) if isinstance(env, dict) else {}
                for name, body in scripts.items() if isinstance(scripts, dict) else ():
                    key = name if env_name == "default" else f"{env_name}:{name}"
                    out[key] = " && ".join(body) if isinstance(body, list) else str(body)
        return out

    @property
    def declares_no_dependencies(self) -> bool:
        """``[project]`` lists no runtime dependency (an empty or absent ``dependencies``
        that is not ``dynamic``): there is nothing for a vulnerability scanner to read."""
        project = self.pyproject.get("project")
        if not isinstance(project, dict) or "name" not in project:
            return False  # a setup.py project: only the build knows its dependencies
        dynamic = project.get("dynamic", [])
        if isinstance(dynamic, list) and "dependencies" in dynamic:
            return False
        declared = project.get("dependencies", [])
        return isinstance(declared, list) and not declared

    def configures(self, tool: str) -> str | None:
        """Where the project configures ``tool`` (ruff, mypy, pyright, pytest, flake8)."""
        if tool == "pytest" and "ini_options" in self.tools.get("pytest", {}):
            return "[tool.pytest.ini_options] in pyproject.toml"
        if tool in self.tools:
            return f"[tool.{tool}] in pyproject.toml"
        own_files = {
            "ruff": ("ruff.toml", ".ruff.toml"),
            "mypy": ("mypy.ini", ".mypy.ini"),
            "pyright": ("pyrightconfig.json",),
            "pytest": ("pytest.ini", "conftest.py"),
            "flake8": (".flake8",),
        }.get(tool, ())
        for name in own_files:
            if name in self.files:
                return name
        cfg_section = {"mypy": "mypy", "pytest": "tool:pytest", "flake8": "flake8"}.get(tool)
        if cfg_section and cfg_section in self.setup_cfg:
            return f"[{cfg_section}] in setup.cfg"
        if tool == "pytest" and self.tox_file and "pytest" in self.tox_envs.get("[pytest]", ""):
            return "[pytest] in tox.ini"
        return None


def _tox(root: Path) -> tuple[dict[str, str], str | None]:
    """tox environments and their commands, from tox.ini (or ``[tool.tox]`` legacy_tox_ini)."""
    text: str | None = None
    where: str | None = None
    if (root / "tox.ini").is_file():
        text, where = (root / "tox.ini").read_text(encoding="utf-8"), "tox.ini"
    else:
        try:
            py = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            py = {}
        legacy = py.get("tool", {}).get("tox", {}).get("legacy_tox_ini")
        if isinstance(legacy, str):
            text, where = legacy, "pyproject.toml [tool.tox]"
    if text is None:
        return {}, None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}, where
    envs: dict[str, str] = {}
    for section in parser.sections():
        if section.startswith("testenv:"):
            for name in section[len("testenv:") :].split(","):
                envs[name.strip()] = parser.get(section, "commands", fallback="")
        elif section == "pytest":
            envs["[pytest]"] = "pytest"
    if parser.has_section("tox"):
        for name in re.split(r"[\s,]+", parser.get("tox", "envlist", fallback="")):
            if name and "{" not in name:
                envs.setdefault(name, parser.get("testenv", "commands", fallback=""))
    return envs, where


_NOX_SESSION = re.compile(
    r"@nox\.session(?:\(([^)]*)\))?\s*\n\s*def\s+(\w+)\s*\(", re.MULTILINE | re.DOTALL
)
_NOX_NAME = re.compile(r"name\s*=\s*[\"']([\w:-]+)[\"']")


def _nox(root: Path) -> tuple[str, ...]:
    path = root / "noxfile.py"
    if not path.is_file():
        return ()
    sessions = []
    for m in _NOX_SESSION.finditer(path.read_text(encoding="utf-8")):
        named = _NOX_NAME.search(m.group(1) or "")
        sessions.append(named.group(1) if named else m.group(2))
    return tuple(sessions)


def python(root: Path) -> Python:
    try:
        py = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        py = {}
    envs, tox_file = _tox(root)
    sections: tuple[str, ...] = ()
    if (root / "setup.cfg").is_file():
        cfg = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            cfg.read(root / "setup.cfg", encoding="utf-8")
            sections = tuple(cfg.sections())
        except configparser.Error:
            sections = ()
    names = frozenset(
        n
        for n in (
            "ruff.toml",
            ".ruff.toml",
            "mypy.ini",
            ".mypy.ini",
            "pyrightconfig.json",
            "pytest.ini",
            "conftest.py",
            ".flake8",
        )
        if (root / n).is_file()
    )
    return Python(py, envs, tox_file, _nox(root), sections, names)


def workflow_commands(root: Path) -> list[str]:
    """The text of the GitHub workflows without comment lines (where ``run:`` steps live)."""
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return []
    texts: list[str] = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        texts.append("\n".join(ln for ln in lines if not ln.lstrip().startswith("#")))
    return texts


def runs_command(runs: list[str], needle: str) -> bool:
    """True when one of the workflow steps runs ``needle`` (e.g. ``deno lint``)."""
    pattern = re.compile(r"(^|[\s;&|(])" + re.escape(needle) + r"($|[\s;&|)])", re.MULTILINE)
    return any(pattern.search(run) for run in runs)
