"""The real `shipit` CLI releasing one project to npm, JSR and PyPI together against the
sandbox (verdaccio + npm, the JSR test server + deno, pypiserver + twine), and the step-by-step
`shipit publish` commands: each version lands once, with the bytes that were built."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from releasehelp import three_registry_files

from shipit.sandbox.git_remote import GitRepo

TOML = """\
[github]
enabled = false

[retry]
initial-wait = 0.1
max-wait = 0.5
"""


def _project(repo: GitRepo, name: str, version: str = "1.0.0", body: str = "1") -> None:
    repo.commit("the project", three_registry_files(name, version, TOML, body=body))
    repo.push()


def _shipit(repo: GitRepo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _env(sandbox_env: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **sandbox_env, "NO_COLOR": "1"}
    env.pop("CI", None)
    return env


def _npm_integrity(registry: str, name: str, version: str) -> str | None:
    response = httpx.get(f"{registry}{name}", timeout=10)
    if response.status_code == 404:
        return None
    entry = response.json()["versions"].get(version)
    return str(entry["dist"]["integrity"]) if entry else None


def _jsr_versions(jsr_url: str, name: str) -> list[str]:
    response = httpx.get(f"{jsr_url}@shipit/{name}/meta.json", timeout=10)
    return sorted(response.json()["versions"]) if response.status_code == 200 else []


def _pypi_files(index_url: str, name: str) -> dict[str, str]:
    response = httpx.get(f"{index_url}{name}/", timeout=10, follow_redirects=True)
    if response.status_code != 200:
        return {}
    return dict(re.findall(r'href="[^"]*/([^/"#]+)#sha256=([0-9a-f]{64})"', response.text))


@pytest.mark.slow
def test_release_to_npm_jsr_and_pypi_together(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name)
    env = _env(sandbox_env)
    done = _shipit(git_repo, env, "--json", "release", "--yes", "--skip-checks")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    states = {s["id"]: s["state"] for s in report["steps"]}
    for step in (
        "npm:pack",
        "pypi:build",
        "git:tag",
        "git:push",
        "npm:publish",
        "jsr:publish",
        "pypi:publish",
    ):
        assert states.get(step) == "done", (step, states)
    evidence = {s["id"]: s["evidence"] for s in report["steps"]}

    registry = sandbox_env["NPM_CONFIG_REGISTRY"]
    assert _npm_integrity(registry, unique_name, "1.0.0") == evidence["npm:pack"]["integrity"]
    assert _jsr_versions(sandbox_env["JSR_URL"], unique_name) == ["1.0.0"]
    index = sandbox_env["TWINE_REPOSITORY_URL"] + "simple/"
    built = {f["name"]: f["sha256"] for f in evidence["pypi:build"]["files"]}
    assert len(built) == 2
    assert _pypi_files(index, unique_name) == built
    assert "refs/tags/v1.0.0" in git_repo.git("ls-remote", "--tags", "origin")
    # nothing of shipit's own went into the packages
    with_tar = subprocess.run(
        ["tar", "-tzf", evidence["npm:pack"]["tarball"]], capture_output=True, text=True
    )
    assert ".shipit" not in with_tar.stdout
    assert not any(".shipit" in path for path in evidence["jsr:publish"]["files"])
    # tokens never reached the output
    for token in (sandbox_env["NPM_TOKEN"], sandbox_env["JSR_TOKEN"], sandbox_env["PYPI_TOKEN"]):
        assert token not in done.stdout + done.stderr

    # the same release again: every registry is probed, nothing is published twice
    again = _shipit(git_repo, env, "--json", "release", "--yes", "--skip-checks")
    assert again.returncode == 0, again.stderr
    states = {s["id"]: s["state"] for s in json.loads(again.stdout)["steps"]}
    for step in ("npm:publish", "jsr:publish", "pypi:publish", "git:tag"):
        assert states[step] in ("already-done", "done"), states
    assert _npm_integrity(registry, unique_name, "1.0.0") == evidence["npm:pack"]["integrity"]
    assert _pypi_files(index, unique_name) == built


@pytest.mark.slow
def test_publish_npm_alone_then_conflict_is_exit_1(
    git_repo: GitRepo, unique_name: str, sandbox_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name)
    env = _env(sandbox_env)
    first = _shipit(git_repo, env, "publish", "npm", "--yes")
    assert first.returncode == 0, first.stderr
    registry = sandbox_env["NPM_CONFIG_REGISTRY"]
    published = _npm_integrity(registry, unique_name, "1.0.0")
    assert published is not None
    # only npm: no tag was pushed, nothing went to JSR or PyPI
    assert "v1.0.0" not in git_repo.git("ls-remote", "--tags", "origin")
    assert _jsr_versions(sandbox_env["JSR_URL"], unique_name) == []

    # other content under the same version: refused, explained, nothing overwritten
    _project(git_repo, unique_name, body="2")
    second = _shipit(git_repo, env, "publish", "npm", "--yes")
    assert second.returncode == 1, second.stderr
    # npm:publish's probe, made at the gate, finds it before anything is visible
    assert f"npm already has {unique_name}@1.0.0 with other content" in second.stderr
    assert "shipit release --version 1.0.1" in second.stderr
    assert "nothing was tagged, pushed or published" in second.stderr
    assert _npm_integrity(registry, unique_name, "1.0.0") == published


def test_publish_refuses_a_registry_the_project_does_not_use(
    git_repo: GitRepo, sandbox_env: dict[str, str]
) -> None:
    git_repo.commit("npm only", {"package.json": '{"name": "x", "version": "1.0.0"}\n'})
    result = _shipit(git_repo, _env(sandbox_env), "publish", "pypi", "--yes")
    assert result.returncode == 2
    assert "this project does not publish to pypi" in result.stderr
    assert "Traceback" not in result.stderr
