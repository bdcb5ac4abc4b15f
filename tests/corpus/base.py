"""What every corpus project shares: a real git work clone with a bare origin, files written
and committed, planted problems, and the cached Node tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipit.sandbox import git_remote
from shipit.sandbox.verdaccio import cache_root

BIN = Path(sys.executable).parent  # the venv: deno, tox, ruff, mypy, pytest


@dataclass(frozen=True)
class Planted:
    """Where a planted problem is and how ``shipit check`` must name it."""

    check: str  # the check that reports it
    file: str | None  # relative to the project root
    line: int | None
    kind: str  # shipit.checks.base.Kind value
    text: str  # a part of the finding's message


@dataclass
class CorpusProject:
    """A project of one shape in a work clone of a bare origin."""

    shape: str
    repo: git_remote.GitRepo
    name: str  # the package name (unique per test)
    planters: dict[str, Callable[[CorpusProject], Planted]] = field(default_factory=dict)
    after_write: Callable[[CorpusProject], None] | None = None  # e.g. deno fmt

    @property
    def path(self) -> Path:
        return self.repo.path

    @property
    def problems(self) -> list[str]:
        return sorted(self.planters)

    def write(self, files: Mapping[str, str]) -> None:
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def line_of(self, rel: str, needle: str) -> int:
        for i, line in enumerate((self.path / rel).read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return i
        raise AssertionError(f"{needle!r} not in {rel}")

    def commit(self, message: str) -> None:
        """Commit everything and push: the tree is clean and up to date with origin."""
        if self.after_write is not None:
            self.after_write(self)
        self.repo.git("add", "-A")
        self.repo.git("commit", "--quiet", "--allow-empty", "-m", message)
        self.repo.push()

    def tag(self, name: str) -> None:
        self.repo.git("tag", "-a", name, "-m", f"Release {name}")
        self.repo.push(f"refs/tags/{name}")

    def plant(self, problem: str) -> Planted:
        """Commit ``problem`` (one of ``problems``) and say where it is."""
        planted = self.planters[problem](self)
        self.commit(f"plant: {problem}")
        return planted


def new_repo(root: Path) -> git_remote.GitRepo:
    """A bare ``origin`` and a work clone on main with no commits of the project yet."""
    return git_remote.seeded_repo(root, files={".gitattributes": "* text=auto eol=lf\n"})


def run(argv: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run a tool the builder needs (deno fmt, tsc); fail loudly."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "DENO_NO_UPDATE_CHECK": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout


def node_tools(name: str) -> Path:
    """The installed tool set ``tests/corpus/node_tools/<name>`` (scripts/setup.sh)."""
    path = cache_root() / "corpus-node-tools" / name
    assert (path / "node_modules").is_dir(), f"run scripts/setup.sh: {path} is not installed"
    return path


def install_node_tools(project: CorpusProject, tools: str) -> None:
    """What ``npm ci`` leaves: the lockfile of the tool set (as the project's own) and its
    node_modules (a link to the installed set, so nothing is copied)."""
    source = node_tools(tools)
    lock = json.loads((source / "package-lock.json").read_text(encoding="utf-8"))
    pkg = json.loads((project.path / "package.json").read_text(encoding="utf-8"))
    lock["name"], lock["version"] = pkg["name"], pkg["version"]
    root = lock["packages"][""]
    root.update({"name": pkg["name"], "version": pkg["version"]})
    root.pop("private", None)
    (project.path / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    link = project.path / "node_modules"
    if link.is_symlink() or link.exists():
        link.unlink() if link.is_symlink() else shutil.rmtree(link)
    link.symlink_to(source / "node_modules", target_is_directory=True)
