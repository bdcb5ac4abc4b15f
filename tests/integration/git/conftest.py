"""Real git repositories for the git tests: a work clone pushed to a bare `origin`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@dataclass
class Repo:
    path: Path
    remote: Path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit(self, name: str = "file.txt", content: str = "x\n", message: str = "change") -> str:
        (self.path / name).write_text(content)
        self.git("add", name)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def make_repo(tmp: Path, *, commit: bool = True, remote: bool = True) -> Repo:
    bare = tmp / "origin.git"
    work = tmp / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(work, "config", "user.name", "Test")
    git(work, "config", "user.email", "test@example.com")
    if remote:
        git(tmp, "init", "-q", "--bare", "-b", "main", str(bare))
        git(work, "remote", "add", "origin", str(bare))
    repo = Repo(work, bare)
    if commit:
        repo.commit("README.md", "hello\n", "initial commit")
        if remote:
            git(work, "push", "-q", "-u", "origin", "main")
    return repo


def clone(repo: Repo, dest: Path) -> Repo:
    git(dest.parent, "clone", "-q", str(repo.remote), str(dest))
    git(dest, "config", "user.name", "Other")
    git(dest, "config", "user.email", "other@example.com")
    return Repo(dest, repo.remote)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A work clone on `main` with one commit, pushed to a bare `origin` (upstream set)."""
    return make_repo(tmp_path)


@pytest.fixture
def repo_factory(tmp_path: Path) -> Callable[..., Repo]:
    """make_repo(commit=..., remote=...) in a fresh sub-directory each call."""
    counter = iter(range(1000))

    def factory(*, commit: bool = True, remote: bool = True) -> Repo:
        sub = tmp_path / f"r{next(counter)}"
        sub.mkdir()
        return make_repo(sub, commit=commit, remote=remote)

    return factory


@pytest.fixture
def other_clone(repo: Repo, tmp_path: Path) -> Repo:
    """A second clone of `repo`'s origin (someone else pushing)."""
    return clone(repo, tmp_path / "other")
