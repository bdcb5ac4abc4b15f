"""Release invariants through the real CLI, against the sandbox registries: with
``--skip-checks`` a dirty tree, an untracked file, another branch, a detached HEAD, a branch
behind origin or a missing deno publish nothing and say why; and the version-first release:
``--version X`` and ``--bump patch`` do the whole job in one command.

"Nothing happened" is checked everywhere it could have: nothing new on verdaccio, pypiserver,
the JSR and GitHub test servers, no tag on origin, and the work tree, HEAD and refs exactly as
they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from releasehelp import path_without, python_without, three_registry_files

from shipit.sandbox.git_remote import GitRepo


def _version_for(name: str) -> str:
    """A version no other test releases (the GitHub test server's repository is shared)."""
    return f"0.{int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)}.0"


def _project(repo: GitRepo, name: str, version: str, *, github: bool = True) -> None:
    toml = "[retry]\ninitial-wait = 0.1\nmax-wait = 0.5\n"
    if not github:
        toml = "[github]\nenabled = false\n\n" + toml
    repo.commit("the project", three_registry_files(name, version, toml))
    repo.push()


def _env(sandbox_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {**os.environ, **sandbox_env, "NO_COLOR": "1", "COLUMNS": "300", **extra}
    env.pop("CI", None)
    return env


def _shipit(
    repo: GitRepo, env: dict[str, str], *args: str, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def world(repo: GitRepo, sandbox_env: dict[str, str], name: str) -> dict[str, Any]:
    """Everything a release could have changed: the four registries, origin, the repository."""
    npm = httpx.get(f"{sandbox_env['NPM_CONFIG_REGISTRY']}{name}", timeout=10)
    jsr = httpx.get(f"{sandbox_env['JSR_URL']}@shipit/{name}/meta.json", timeout=10)
    pypi = httpx.get(
        f"{sandbox_env['TWINE_REPOSITORY_URL']}simple/{name}/", timeout=10, follow_redirects=True
    )
    github = httpx.get(
        f"{sandbox_env['GITHUB_API_URL']}/repos/{sandbox_env['GITHUB_REPOSITORY']}/releases",
        params={"per_page": 100},
        headers={"Authorization": f"Bearer {sandbox_env['GITHUB_TOKEN']}"},
        timeout=10,
    )
    untracked = repo.git("ls-files", "--others", "--exclude-standard").split()
    return {
        "npm": npm.json().get("versions", {}).keys() if npm.status_code == 200 else None,
        "jsr": sorted(jsr.json()["versions"]) if jsr.status_code == 200 else None,
        "pypi": pypi.text if pypi.status_code == 200 else None,
        "github": sorted(r["tag_name"] for r in github.json()),
        "origin": repo.git("ls-remote", "origin"),
        "refs": repo.git("for-each-ref", "refs/heads", "refs/tags"),  # fetching is fine
        "head": repo.git("rev-parse", "HEAD"),
        "status": repo.git("status", "--porcelain", "--untracked-files=all"),
        "diff": repo.git("diff", "HEAD"),
        "untracked": {f: (repo.path / f).read_bytes() for f in untracked},
    }


def _dirty(repo: GitRepo) -> None:
    (repo.path / "mod.js").write_text("module.exports = 2; // not committed\n")


def _untracked(repo: GitRepo) -> None:
    (repo.path / "notes.md").write_text("draft\n")


def _branch_configured(repo: GitRepo) -> None:
    toml = repo.path / "shipit.toml"
    toml.write_text('[release]\nbranch = "main"\n\n' + toml.read_text())
    repo.git("commit", "-qam", "release from main")
    repo.git("push", "-q")
    repo.git("switch", "-qc", "feature")


def _branch_by_remote(repo: GitRepo) -> None:
    repo.git("switch", "-qc", "feature")
    repo.git("push", "-qu", "origin", "feature")


def _detached(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "--detach")


def _behind(repo: GitRepo) -> None:
    other = repo.path.parent / "other"
    subprocess.run(["git", "clone", "-q", str(repo.remote), str(other)], check=True)
    subprocess.run(
        ["git", "-C", str(other), "commit", "-q", "--allow-empty", "-m", "someone else's"],
        check=True,
        env={**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@example.com"}
        | {"GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@example.com"},
    )
    subprocess.run(["git", "-C", str(other), "push", "-q"], check=True)


CASES: dict[str, tuple[Callable[[GitRepo], None], str, str]] = {
    # name: (what the user did, what shipit says, the fix it names)
    "dirty": (_dirty, "uncommitted change(s): mod.js", "git stash -u"),
    "untracked": (_untracked, "uncommitted change(s): notes.md", "git add -A"),
    "branch": (
        _branch_configured,
        "on branch `feature`, not the release branch `main`",
        "git switch main",
    ),
    "branch-of-origin": (
        _branch_by_remote,
        "on branch `feature`, not the release branch `main`",
        "git switch main",
    ),
    "detached": (_detached, "HEAD is detached", "git switch main"),
    "behind": (
        _behind,
        "is 1 commit(s) behind origin/main",
        "git pull --rebase origin main",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_skip_checks_never_skips_the_release_invariants(
    case: str, git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name, _version_for(unique_name))
    make, said, fix = CASES[case]
    make(git_repo)
    before = world(git_repo, sandbox_env, unique_name)
    result = _shipit(git_repo, _env(sandbox_env), "release", "--yes", "--skip-checks")
    assert result.returncode == 1, result.stdout + result.stderr
    assert said in result.stderr, result.stderr
    assert fix in result.stderr
    assert "Traceback" not in result.stderr
    assert world(git_repo, sandbox_env, unique_name) == before


@pytest.mark.slow
def test_a_missing_deno_is_found_before_anything_is_built_or_published(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    _project(git_repo, unique_name, _version_for(unique_name))
    before = world(git_repo, sandbox_env, unique_name)
    python = python_without(tmp_path, ("deno",))
    env = _env(sandbox_env, PATH=path_without(("deno",)))
    result = _shipit(git_repo, env, "release", "--yes", "--skip-checks", python=python)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "`deno` is not installed (jsr:publish runs it)" in result.stderr
    assert "pip install deno" in result.stderr
    assert world(git_repo, sandbox_env, unique_name) == before
    assert not (git_repo.path / ".shipit" / "releases").exists()  # refused before a journal


def _registries(sandbox_env: dict[str, str], name: str, version: str) -> dict[str, bool]:
    npm = httpx.get(f"{sandbox_env['NPM_CONFIG_REGISTRY']}{name}", timeout=10)
    jsr = httpx.get(f"{sandbox_env['JSR_URL']}@shipit/{name}/meta.json", timeout=10)
    pypi = httpx.get(
        f"{sandbox_env['TWINE_REPOSITORY_URL']}simple/{name}/", timeout=10, follow_redirects=True
    )
    return {
        "npm": npm.status_code == 200 and version in npm.json()["versions"],
        "jsr": jsr.status_code == 200 and version in jsr.json()["versions"],
        "pypi": pypi.status_code == 200 and f"-{version}.tar.gz" in pypi.text,
    }


def _manifests(repo: GitRepo) -> dict[str, str]:
    return {
        "package.json": json.loads((repo.path / "package.json").read_text())["version"],
        "deno.json": json.loads((repo.path / "deno.json").read_text())["version"],
        "pyproject.toml": next(
            line.split('"')[1]
            for line in (repo.path / "pyproject.toml").read_text().splitlines()
            if line.startswith("version")
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--version", "--bump"])
def test_one_command_writes_the_version_builds_from_it_and_publishes(
    how: str, git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name, "1.0.0", github=False)
    base = git_repo.head()
    args = ["--version", "1.0.1"] if how == "--version" else ["--bump", "patch"]
    done = _shipit(git_repo, _env(sandbox_env), "--json", "release", "--yes", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    head = git_repo.head()
    assert git_repo.git("rev-parse", "HEAD~1").strip() == base
    assert git_repo.git("log", "-1", "--format=%s").strip() == "chore(release): v1.0.1"
    assert _manifests(git_repo) == {"package.json": "1.0.1", "deno.json": "1.0.1"} | {
        "pyproject.toml": "1.0.1"
    }
    assert git_repo.git("status", "--porcelain") == ""  # committed, nothing left over
    refs = git_repo.git("ls-remote", "origin")
    assert f"{head}\trefs/heads/main" in refs and f"{head}\trefs/tags/v1.0.1^{{}}" in refs
    assert _registries(sandbox_env, unique_name, "1.0.1") == {
        "npm": True,
        "jsr": True,
        "pypi": True,
    }
    report = json.loads(done.stdout)
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["checks"]["evidence"]["quality"] in ("passed", "none configured")
    # the tarball was packed from the release commit: it says 1.0.1
    assert steps["npm:pack"]["evidence"]["version"] == "1.0.1"


@pytest.mark.slow
def test_a_failing_quality_check_discards_what_was_built_and_publishes_nothing(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    version = _version_for(unique_name)
    _project(git_repo, unique_name, version)
    toml = git_repo.path / "shipit.toml"
    toml.write_text(toml.read_text() + "\n[checks.test]\ncommand = \"sh -c 'exit 1'\"\n")
    git_repo.git("commit", "-qam", "a test that fails")
    git_repo.git("push", "-q")
    before = world(git_repo, sandbox_env, unique_name)
    result = _shipit(git_repo, _env(sandbox_env), "--json", "release", "--yes", "--bump", "minor")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["checks"]["state"] == "failed"
    assert "test: failed" in steps["checks"]["error"]["why"]
    # the builds ran beside the checks, then were discarded with the release commit
    assert {"git:commit", "npm:pack", "pypi:build"} <= set(report["discarded"])
    assert steps["git:commit"]["state"] == "undone" and steps["npm:pack"]["state"] == "undone"
    bumped = report["release"]["tag"]
    dist = git_repo.path / ".shipit" / "releases" / bumped / "dist"
    assert not any(p.suffix in (".tgz", ".whl") for p in dist.rglob("*"))
    assert world(git_repo, sandbox_env, unique_name) == before  # manifests say `version` again
    assert _manifests(git_repo)["package.json"] == version
    again = _shipit(git_repo, _env(sandbox_env), "status")
    assert "rolled-back" in again.stdout + again.stderr
