"""Helpers for the release e2e tests: a project in a real git repo with a bare remote, and
running the real `shipit` CLI as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.sandbox.git_remote import GitRepo

TOML = """\
[npm]
enabled = false

[[commands]]
id = "pre"
run = "echo pre >> \\"$EFFECTS\\""
probe = "grep -qx pre \\"$EFFECTS\\""
after = "build"

[[commands]]
id = "post"
run = "{post}"
probe = "grep -qx post \\"$EFFECTS\\""
undo = "sed -i '/^post$/d' \\"$EFFECTS\\""
after = "push"
"""

POST_OK = 'echo post >> \\"$EFFECTS\\"'
POST_NEEDS_FLAG = 'test -f \\"$FLAG\\" && echo post >> \\"$EFFECTS\\"'


@dataclass
class Project:
    repo: GitRepo
    effects: Path
    flag: Path
    base: str

    @property
    def path(self) -> Path:
        return self.repo.path

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("CI", None)
        env.update(NO_COLOR="1", EFFECTS=str(self.effects), FLAG=str(self.flag))
        env.update(extra)
        return env

    def shipit(
        self, *args: str, timeout: float = 90, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipit", "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=timeout,
        )

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "shipit", "-C", str(self.path), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(**env),
        )

    def git(self, *args: str) -> str:
        return self.repo.git(*args)

    def remote_refs(self) -> dict[str, str]:
        out = subprocess.run(
            ["git", "ls-remote", str(self.repo.remote)], capture_output=True, text=True, check=True
        ).stdout
        return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}

    def remote_tags(self) -> list[str]:
        return sorted(
            r for r in self.remote_refs() if r.startswith("refs/tags/") and not r.endswith("^{}")
        )

    def local_tags(self) -> list[str]:
        return sorted(self.git("tag", "--list").split())

    def effect_lines(self) -> list[str]:
        return self.effects.read_text().splitlines() if self.effects.exists() else []

    def journal(self, tag: str) -> dict[str, Any]:
        path = self.path / ".shipit" / "releases" / tag / "journal.json"
        data: dict[str, Any] = json.loads(path.read_text())
        return data


def three_registry_files(
    name: str,
    version: str,
    shipit_toml: str,
    *,
    body: str = "1",
    package_extra: dict[str, Any] | None = None,
) -> dict[str, str]:
    """One small package released to npm, JSR and PyPI from the same repository: package.json,
    deno.json (its publish set leaves the npm and Python files out), pyproject.toml and the
    module of each, with ``body`` as the exported value."""
    module = name.replace("-", "_")
    package = {"name": name, "version": version, "license": "MIT", "main": "mod.js"}
    deno = {
        "name": f"@shipit/{name}",
        "version": version,
        "exports": "./mod.ts",
        "license": "MIT",
        "publish": {"exclude": ["src/", "pyproject.toml", "package.json", "mod.js"]},
    }
    return {
        "package.json": json.dumps({**package, **(package_extra or {})}, indent=2) + "\n",
        "mod.js": f"module.exports = {body};\n",
        "mod.ts": f"export const value: number = {body};\n",
        "deno.json": json.dumps(deno, indent=2) + "\n",
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\n'
            'license = {text = "MIT"}\n'
        ),
        f"src/{module}/__init__.py": f"VALUE = {body}\n",
        "LICENSE": "MIT\n",
        "shipit.toml": shipit_toml,
    }


def python_without(root: Path, tools: tuple[str, ...]) -> str:
    """An interpreter path with none of ``tools`` beside it (shipit also looks there).

    Inside a virtualenv that is a view of it: the base interpreter, its pyvenv.cfg and its
    lib/ (installed packages), but not its bin/ with the tools pip put there.
    """
    beside = Path(sys.executable).parent
    if not any((beside / tool).exists() for tool in tools):
        return sys.executable
    assert sys.prefix != sys.base_prefix, f"{tools} beside a Python that is no virtualenv"
    view = root / "python"
    (view / "bin").mkdir(parents=True)
    shutil.copy(Path(sys.prefix) / "pyvenv.cfg", view / "pyvenv.cfg")
    (view / "lib").symlink_to(Path(sys.prefix) / "lib")
    (view / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    return str(view / "bin" / "python")


def path_without(tools: tuple[str, ...]) -> str:
    """The runner's PATH minus every directory holding one of ``tools``."""
    dirs = os.environ.get("PATH", os.defpath).split(os.pathsep)
    return os.pathsep.join(d for d in dirs if not any((Path(d) / t).exists() for t in tools))


def make_project(repo: GitRepo, tmp_path: Path, *, post: str = POST_OK) -> Project:
    """package.json at 1.2.3, shipit.toml with two command steps, committed and pushed."""
    repo.commit(
        "add project",
        {
            "package.json": '{\n  "name": "demo",\n  "version": "1.2.3"\n}\n',
            "shipit.toml": TOML.format(post=post),
        },
    )
    repo.push()
    return Project(repo, tmp_path / "effects.log", tmp_path / "flag", repo.head())
