"""The sandbox's git server: a bare repository used as ``origin``, and work clones of it.

``create_bare`` makes the remote (default branch ``main``); ``clone`` checks it out with a
local identity and signing off, so tests and rehearsals behave the same on any machine;
``seeded_repo`` gives a fresh clone with one commit on ``main``, pushed, upstream set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipit import proc
from shipit.errors import GitError

DEFAULT_BRANCH = "main"
_IDENTITY = {"user.name": "shipit sandbox", "user.email": "sandbox@shipit.invalid"}
_LOCAL_CONFIG = {
    **_IDENTITY,
    "commit.gpgsign": "false",
    "tag.gpgsign": "false",
    "init.defaultBranch": DEFAULT_BRANCH,
}


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for git that never prompts and ignores the user's system config."""
    env = dict(os.environ if base is None else base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


def git(*args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run one git command in ``cwd``; return its stdout; raise GitError on failure."""
    git_path = proc.require("git", hint="install git (https://git-scm.com) and try again")
    result = proc.run([git_path, *map(str, args)], cwd=cwd, env=git_env(env), timeout=120)
    if not result.ok:
        raise GitError(
            f"git {args[0]} failed in {cwd}",
            why=result.tail() or f"exit {result.returncode}",
            hint="check the repository with `git status`",
        )
    return result.stdout


def create_bare(path: Path, *, branch: str = DEFAULT_BRANCH) -> Path:
    """Create (or keep) a bare repository at ``path`` whose HEAD names ``branch``."""
    if (path / "HEAD").is_file():
        return path
    path.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "--bare", f"--initial-branch={branch}", path, cwd=path.parent)
    return path


def configure(work: Path) -> None:
    """Give a work tree a local identity and turn signing off (tests must not need keys)."""
    for key, value in _LOCAL_CONFIG.items():
        git("config", "--local", key, value, cwd=work)


def clone(remote: Path, path: Path) -> Path:
    """Clone ``remote`` into ``path`` (configured with ``configure``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "--quiet", remote, path, cwd=path.parent)
    configure(path)
    return path


@dataclass(frozen=True)
class GitRepo:
    """A work clone (``path``) of a bare ``remote`` registered as ``origin``."""

    path: Path
    remote: Path
    branch: str = DEFAULT_BRANCH

    def git(self, *args: str | Path) -> str:
        return git(*args, cwd=self.path)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def remote_head(self) -> str:
        """The commit the remote's branch points at."""
        return git("rev-parse", f"refs/heads/{self.branch}", cwd=self.remote).strip()

    def commit(self, message: str, files: Mapping[str, str] | None = None) -> str:
        """Write ``files`` (path -> text), commit them (or an empty commit); return the sha."""
        for name, text in (files or {}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", "--", name)
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.head()

    def push(self, *refs: str) -> None:
        self.git("push", "--quiet", "origin", *(refs or (self.branch,)))


def seeded_repo(
    root: Path, *, name: str = "work", files: Mapping[str, str] | None = None
) -> GitRepo:
    """A bare ``root/remote.git`` and a clone ``root/<name>`` with one pushed commit on main."""
    remote = create_bare(root / "remote.git")
    work = clone(remote, root / name)
    repo = GitRepo(path=work, remote=remote)
    repo.git("checkout", "--quiet", "-B", DEFAULT_BRANCH)
    repo.commit("initial commit", files or {"README.md": "# sandbox project\n"})
    repo.git("push", "--quiet", "--set-upstream", "origin", DEFAULT_BRANCH)
    return repo
