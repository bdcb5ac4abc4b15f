"""SIGKILL around the real registry publishes (verdaccio with the real npm, the JSR test
server with the real `deno publish`), then `shipit resume`: each version is published once,
with the bytes that were built, and resume never trips over "already published"."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from typing import Any

import httpx
import pytest

from shipit.sandbox.git_remote import GitRepo


def _project(repo: GitRepo, name: str) -> None:
    repo.commit(
        "the project",
        {
            "package.json": json.dumps(
                {"name": name, "version": "1.0.0", "license": "MIT", "main": "mod.js"}, indent=2
            )
            + "\n",
            "mod.js": "export const hello = () => 'hi';\n",
            "mod.ts": "export const hello = (): string => 'hi';\n",
            "deno.json": json.dumps(
                {
                    "name": f"@crash/{name}",
                    "version": "1.0.0",
                    "exports": "./mod.ts",
                    "license": "MIT",
                },
                indent=2,
            )
            + "\n",
            "LICENSE": "MIT\n",
            "shipit.toml": (
                "[retry]\ninitial-wait = 0.1\nmax-wait = 0.5\n"
                "[github]\nenabled = false  # the session's one GitHub repo is shared\n"
            ),
        },
    )
    repo.push()


def _shipit(repo: GitRepo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault",
    [
        "kill@npm:publish:before",
        "kill@npm:publish:after",
        "kill@jsr:publish:after",
        "kill@git:push:after",
    ],
)
def test_kill_around_publish_then_resume_publishes_once(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str], fault: str
) -> None:
    _project(git_repo, unique_name)
    env = {**os.environ, **sandbox_env, "NO_COLOR": "1"}
    killed = _shipit(
        git_repo, {**env, "SHIPIT_TEST_FAULT": fault}, "release", "--yes", "--skip-checks"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = _shipit(git_repo, env, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    journal = json.loads(
        (git_repo.path / ".shipit" / "releases" / "v1.0.0" / "journal.json").read_text()
    )
    assert journal["state"] == "released"
    steps = journal["steps"]
    step_id = fault.split("@")[1].rsplit(":", 1)[0]
    if fault.endswith(":after"):  # it had happened: the probe found it, nothing re-sent
        assert steps[step_id]["state"] == "already-done", steps[step_id]
    # npm: the version is there once, with the integrity of the tarball shipit built
    doc = httpx.get(
        f"{sandbox_env['NPM_CONFIG_REGISTRY'].rstrip('/')}/{unique_name}",
        headers={"Authorization": f"Bearer {sandbox_env['NPM_TOKEN']}"},
    ).json()
    assert list(doc["versions"]) == ["1.0.0"]
    built = [
        e
        for e in (steps["npm:pack"]["evidence"], steps["npm:publish"]["evidence"])
        if e.get("integrity")
    ]
    assert built and all(
        e["integrity"] == doc["versions"]["1.0.0"]["dist"]["integrity"] for e in built
    )
    # JSR: one version
    meta = httpx.get(f"{sandbox_env['JSR_URL'].rstrip('/')}/@crash/{unique_name}/meta.json").json()
    assert list(meta["versions"]) == ["1.0.0"]
    tags = git_repo.git("ls-remote", "--tags", "origin").split()
    assert tags.count("refs/tags/v1.0.0") == 1


@pytest.mark.slow
def test_lost_journal_and_artifacts_release_again_publishes_nothing_twice(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name)
    env = {**os.environ, **sandbox_env, "NO_COLOR": "1"}
    killed = _shipit(
        git_repo,
        {**env, "SHIPIT_TEST_FAULT": "kill@npm:publish:after"},
        "release",
        "--yes",
        "--skip-checks",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    shutil.rmtree(git_repo.path / ".shipit")  # journal and built tarball gone
    again = _shipit(git_repo, env, "release", "--yes", "--skip-checks")
    assert again.returncode == 0, again.stderr
    assert "npm:publish: already done" in again.stderr
    assert "git:push: already done" in again.stderr
    doc = httpx.get(
        f"{sandbox_env['NPM_CONFIG_REGISTRY'].rstrip('/')}/{unique_name}",
        headers={"Authorization": f"Bearer {sandbox_env['NPM_TOKEN']}"},
    ).json()
    assert list(doc["versions"]) == ["1.0.0"]
    meta = httpx.get(f"{sandbox_env['JSR_URL'].rstrip('/')}/@crash/{unique_name}/meta.json").json()
    assert list(meta["versions"]) == ["1.0.0"]


@pytest.mark.slow
def test_dry_run_publishes_nothing_and_writes_nothing(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name)
    env = {**os.environ, **sandbox_env, "NO_COLOR": "1"}
    before = git_repo.git("ls-remote", "origin") + git_repo.git(
        "status", "--porcelain", "--ignored"
    )
    dry = _shipit(git_repo, env, "--json", "release", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["dry_run"] is True
    states = {s["id"]: s["state"] for s in doc["steps"]}
    for step_id in ("npm:pack", "git:tag", "git:push", "npm:publish", "jsr:publish"):
        assert states[step_id] == "todo", (step_id, states)
    registry = sandbox_env["NPM_CONFIG_REGISTRY"].rstrip("/")
    auth = {"Authorization": f"Bearer {sandbox_env['NPM_TOKEN']}"}
    assert httpx.get(f"{registry}/{unique_name}", headers=auth).status_code == 404
    jsr = sandbox_env["JSR_URL"].rstrip("/")
    assert httpx.get(f"{jsr}/@crash/{unique_name}/meta.json").status_code == 404
    after = git_repo.git("ls-remote", "origin") + git_repo.git("status", "--porcelain", "--ignored")
    assert after == before
    assert not (git_repo.path / ".shipit").exists()


def _index_files(index_url: str, name: str) -> list[str]:
    page = httpx.get(f"{index_url.rstrip('/')}/{name}/", follow_redirects=True, timeout=10)
    if page.status_code == 404:
        return []
    assert page.status_code == 200, page.text
    return sorted(re.findall(r'href="[^"]*/([^/"#]+)#sha256=[0-9a-f]{64}"', page.text))


@pytest.mark.slow
def test_kill_between_two_pypi_files_then_resume_uploads_only_the_missing_one(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str], pypiserver: Any
) -> None:
    module = unique_name.replace("-", "_")
    git_repo.commit(
        "a python project",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=61"]\n'
                'build-backend = "setuptools.build_meta"\n\n'
                f'[project]\nname = "{unique_name}"\nversion = "1.0.0"\n'
            ),
            f"{module}/__init__.py": "VALUE = 1\n",
            "shipit.toml": "[retry]\ninitial-wait = 0.1\n[github]\nenabled = false\n",
        },
    )
    git_repo.push()
    env = {**os.environ, **sandbox_env, "NO_COLOR": "1"}
    killed = _shipit(
        git_repo,
        {**env, "SHIPIT_TEST_FAULT": "kill@pypi:publish:during"},
        "release",
        "--yes",
        "--skip-checks",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = _index_files(pypiserver.index_url, unique_name)
    assert len(partial) == 1, partial  # the first file is up, the second is not
    resumed = _shipit(git_repo, env, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    files = _index_files(pypiserver.index_url, unique_name)
    assert len(files) == 2 and partial[0] in files, files
    journal = json.loads(
        (git_repo.path / ".shipit" / "releases" / "v1.0.0" / "journal.json").read_text()
    )
    assert journal["state"] == "released"
    log = (git_repo.path / ".shipit" / "releases" / "v1.0.0" / "shipit.log").read_text()
    # the resumed run sent only the missing file: one twine call naming it, none for the first
    uploads = re.findall(r"twine upload .*? --repository-url \S+ (.+)", log)
    assert [line.count(partial[0]) for line in uploads] == [1, 0], uploads
