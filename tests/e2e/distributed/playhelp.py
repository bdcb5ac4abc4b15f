"""Play the generated release workflow on one machine: an origin, one clone per job.

A "job" is what a GitHub Actions runner does: a fresh clone of the bare origin (as
actions/checkout leaves it: the branch for a manual run, the tag detached for a tag push),
then the shipit command the workflow runs in it. Artifacts move between jobs as plain
directory copies, like upload-artifact/download-artifact with merge-multiple.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shipit.sandbox import git_remote

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hello"
TARGETS = ("x86_64-linux-gnu", "aarch64-macos")

SHIPIT_TOML = """\
[binaries]
enabled = true
name = "hello"
preset = "zig"
entry = "cli/main.c"
targets = ["x86_64-linux-gnu", "aarch64-macos"]
archive = "tar.gz"

[checks.security]
enabled = false  # npm audit needs the real registry; the sandbox is offline

[retry]
initial-wait = 0.1
max-wait = 0.5
"""


@dataclass(frozen=True)
class Origin:
    """The bare repository every job clones, and the release it holds."""

    remote: Path
    version: str
    npm_name: str
    commit: str

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    def tags(self) -> list[str]:
        out = git_remote.git("ls-remote", "--tags", self.remote, cwd=self.remote)
        return sorted(line.split("\t")[1] for line in out.splitlines() if "^{}" not in line)


def make_origin(root: Path, *, version: str, npm_name: str) -> Origin:
    """A C program (two zig targets) that is also an npm package, pushed to a bare origin."""
    repo = git_remote.seeded_repo(root, name="maintainer")
    package = {
        "name": npm_name,
        "version": version,
        "license": "MIT",
        "main": "./index.js",
        "files": ["index.js", "LICENSE"],
    }
    commit = repo.commit(
        "hello, a program and a package",
        {
            "cli/main.c": (EXAMPLE / "cli" / "main.c").read_text(),
            "index.js": (EXAMPLE / "index.js").read_text(),
            "LICENSE": (EXAMPLE / "LICENSE").read_text(),
            "package.json": json.dumps(package, indent=2) + "\n",
            "shipit.toml": SHIPIT_TOML,
        },
    )
    repo.push()
    return Origin(repo.remote, version, npm_name, commit)


def checkout(origin: Origin, path: Path, *, tag: str | None = None) -> Path:
    """A job's checkout: the main branch, or (tag push) the tag, detached."""
    git_remote.clone(origin.remote, path)
    if tag is not None:
        git_remote.git("checkout", "--quiet", "--detach", tag, cwd=path)
    return path


def job_env(base: dict[str, str], *, job: str, run_id: str = "4242") -> dict[str, str]:
    env = {**os.environ, **base, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("CI", None)
    env.update(GITHUB_RUN_ID=run_id, GITHUB_RUN_ATTEMPT="1", GITHUB_JOB=job)
    return env


def shipit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(cwd), "--ci", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def upload(part_dir: Path, artifacts: Path, name: str) -> Path:
    """upload-artifact: the job's output directory becomes a named artifact."""
    dest = artifacts / name
    shutil.copytree(part_dir, dest)
    return dest


def download_merged(artifacts: Path, pattern: str, dest: Path) -> Path:
    """download-artifact with ``pattern`` and ``merge-multiple: true``."""
    dest.mkdir(parents=True, exist_ok=True)
    for artifact in sorted(artifacts.glob(pattern)):
        for item in artifact.iterdir():
            shutil.copy2(item, dest / item.name)
    return dest


def npm_versions(registry: str, name: str) -> list[str]:
    response = httpx.get(f"{registry}{name.replace('/', '%2f')}", timeout=10)
    if response.status_code == 404:
        return []
    return sorted(response.json().get("versions", {}))


def github_releases(api: str, token: str, repo: str, tag: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{api}/repos/{repo}/releases",
        params={"per_page": 100},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return [r for r in response.json() if r["tag_name"] == tag]
