"""Trusted publishing through the real CLI, against the sandbox's GitHub-Actions-like OIDC
issuer and its trusting registries (``shipit sandbox up --oidc``): with no NPM_TOKEN, JSR_TOKEN
or PYPI_TOKEN one `shipit release --yes` publishes with the real npm, deno and twine; a job
of another repository, an expired or forged ID token, a job without `id-token: write` and an
old npm are each stopped by `shipit check` with what to fix, before anything is visible."""

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
from shipit.sandbox.manager import Sandbox
from shipit.sandbox.oidc_issuer import add_request_token
from shipit.sandbox.servers import OidcIssuer, TestServer
from shipit.sandbox.verdaccio import Verdaccio

STRANGER = "someone-else/project"
TOKEN_VARS = ("NPM_TOKEN", "NODE_AUTH_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "TWINE_PASSWORD")
TOML = """\
[github]
enabled = false

[retry]
initial-wait = 0.1
max-wait = 0.5
"""


def _project(repo: GitRepo, name: str, trusted_repo: str) -> None:
    repository = {"type": "git", "url": f"git+https://github.com/{trusted_repo}.git"}
    repo.commit(
        "the project",
        three_registry_files(name, "1.0.0", TOML, package_extra={"repository": repository}),
    )
    repo.push()


def _existing_packages(
    name: str, verdaccio: Verdaccio, jsr_server: TestServer, tmp_path: Path
) -> None:
    """What a maintainer does once: the first npm version with a token, the JSR package."""
    first = tmp_path / "first-version"
    first.mkdir()
    (first / "package.json").write_text(
        json.dumps({"name": name, "version": "0.1.0", "license": "MIT"}) + "\n"
    )
    npmrc = tmp_path / "maintainer.npmrc"
    npmrc.write_text(f"{verdaccio.auth_key()}={verdaccio.token}\n")
    published = subprocess.run(
        ["npm", "publish", "--registry", verdaccio.url],
        cwd=first,
        env={**os.environ, "NPM_CONFIG_USERCONFIG": str(npmrc)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert published.returncode == 0, published.stderr
    created = httpx.post(
        f"{jsr_server.url}/api/scopes/shipit/packages",
        json={"package": name},
        headers={"Authorization": f"Bearer {jsr_server.token}"},
        trust_env=False,
    )
    assert created.status_code == 200, created.text


def _job_env(oidc_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {**os.environ, **oidc_env, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("CI", None)
    for name in TOKEN_VARS:
        assert not env.get(name), f"{name} must not be set for trusted publishing"
    env.update(extra)
    return env


def _shipit(repo: GitRepo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _issuer(sandbox: Sandbox) -> OidcIssuer:
    issuer = sandbox.service("oidc")
    assert isinstance(issuer, OidcIssuer)
    return issuer


def _npm_versions(registry: str, name: str) -> list[str]:
    response = httpx.get(f"{registry}{name}", trust_env=False, timeout=10)
    return sorted(response.json().get("versions", {})) if response.status_code == 200 else []


def _jsr_versions(jsr_url: str, name: str) -> list[str]:
    response = httpx.get(f"{jsr_url}@shipit/{name}/meta.json", trust_env=False, timeout=10)
    return sorted(response.json()["versions"]) if response.status_code == 200 else []


def _pypi_files(index_url: str, name: str) -> dict[str, str]:
    response = httpx.get(f"{index_url}{name}/", trust_env=False, timeout=10, follow_redirects=True)
    if response.status_code != 200:
        return {}
    return dict(re.findall(r'href="[^"]*/([^/"#]+)#sha256=([0-9a-f]{64})"', response.text))


def _registries_hold_nothing_new(env: dict[str, str], name: str) -> None:
    assert _npm_versions(env["NPM_CONFIG_REGISTRY"], name) == ["0.1.0"]
    assert _jsr_versions(env["JSR_URL"], name) == []
    assert _pypi_files(env["TWINE_REPOSITORY_URL"] + "simple/", name) == {}


@pytest.mark.slow
def test_one_release_publishes_to_npm_jsr_and_pypi_without_any_token(
    git_repo: GitRepo,
    unique_name: str,
    oidc_env: dict[str, str],
    verdaccio: Verdaccio,
    jsr_server: TestServer,
    tmp_path: Path,
) -> None:
    _project(git_repo, unique_name, oidc_env["GITHUB_REPOSITORY"])
    _existing_packages(unique_name, verdaccio, jsr_server, tmp_path)
    env = _job_env(oidc_env)

    check = _shipit(git_repo, env, "--json", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    results = {r["name"]: r for r in json.loads(check.stdout)["checks"]}
    assert results["registry"]["status"] == "passed"
    for registry in ("npm", "jsr", "pypi"):
        assert (
            f"{registry}: trusted publishing for {oidc_env['GITHUB_REPOSITORY']}"
            in (results["registry"]["summary"])
        )

    plan = _shipit(git_repo, env, "--json", "plan")
    assert plan.returncode == 0, plan.stdout  # `check` left nothing in the tree: not blocked
    described = {s["id"]: s["description"] for s in json.loads(plan.stdout)["steps"]}
    for step in ("npm:publish", "jsr:publish", "pypi:publish"):
        assert "auth: trusted publishing (OIDC)" in described[step], described[step]
    assert "--no-provenance" in described["jsr:publish"]  # the sandbox cannot reach Sigstore
    assert "Sigstore" in described["jsr:publish"]

    done = _shipit(git_repo, env, "--json", "release", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    states = {s["id"]: s["state"] for s in report["steps"]}
    for step in ("git:tag", "git:push", "npm:publish", "jsr:publish", "pypi:publish"):
        assert states.get(step) == "done", (step, states)
    evidence = {s["id"]: s["evidence"] for s in report["steps"]}
    assert _npm_versions(env["NPM_CONFIG_REGISTRY"], unique_name) == ["0.1.0", "1.0.0"]
    doc = httpx.get(f"{env['NPM_CONFIG_REGISTRY']}{unique_name}", trust_env=False).json()
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == evidence["npm:pack"]["integrity"]
    assert _jsr_versions(env["JSR_URL"], unique_name) == ["1.0.0"]
    built = {f["name"]: f["sha256"] for f in evidence["pypi:build"]["files"]}
    assert _pypi_files(env["TWINE_REPOSITORY_URL"] + "simple/", unique_name) == built
    assert "refs/tags/v1.0.0" in git_repo.git("ls-remote", "--tags", "origin")
    request_token = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    for output in (check.stdout + check.stderr, plan.stdout, done.stdout + done.stderr):
        assert request_token not in output
        assert "eyJ" not in output  # no JWT

    status = _shipit(git_repo, env, "status")
    assert status.returncode == 0, status.stderr
    assert "trusted publishing" in status.stdout


@pytest.mark.slow
def test_a_job_of_another_repository_is_refused_before_anything_is_visible(
    git_repo: GitRepo,
    unique_name: str,
    oidc_sandbox: Sandbox,
    oidc_env: dict[str, str],
    verdaccio: Verdaccio,
    jsr_server: TestServer,
    tmp_path: Path,
) -> None:
    _project(git_repo, unique_name, STRANGER)
    _existing_packages(unique_name, verdaccio, jsr_server, tmp_path)
    stranger = add_request_token(_issuer(oidc_sandbox).url, repository=STRANGER)
    env = _job_env(oidc_env, GITHUB_REPOSITORY=STRANGER, ACTIONS_ID_TOKEN_REQUEST_TOKEN=stranger)

    check = _shipit(git_repo, env, "check", "--only", "registry")
    assert check.returncode == 1, check.stdout
    text = check.stdout
    assert f"npm does not trust {STRANGER}" in text
    assert f"npm trust github {unique_name} --repo {STRANGER} --file release.yml" in text
    assert f"PyPI does not trust {STRANGER}" in text
    assert "add a trusted publisher" in text
    linked = oidc_env["GITHUB_REPOSITORY"]
    assert f"the JSR package @shipit/{unique_name} is linked to {linked}, not to {STRANGER}" in text

    release = _shipit(git_repo, env, "release", "--yes")
    assert release.returncode != 0
    # refused by the release invariants (the registry check's OIDC pre-flight), in the
    # checks step beside the builds, which are then discarded
    assert "nothing was tagged, pushed or published" in release.stderr
    _registries_hold_nothing_new(env, unique_name)
    assert "refs/tags/" not in git_repo.git("ls-remote", "--tags", "origin")


def test_an_expired_id_token_is_named_before_any_registry_sees_it(
    git_repo: GitRepo, unique_name: str, oidc_sandbox: Sandbox, oidc_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name, oidc_env["GITHUB_REPOSITORY"])
    expired = add_request_token(_issuer(oidc_sandbox).url, expired=True)
    env = _job_env(oidc_env, ACTIONS_ID_TOKEN_REQUEST_TOKEN=expired)

    check = _shipit(git_repo, env, "check", "--only", "registry")

    assert check.returncode == 1, check.stdout
    for label in ("npm", "JSR", "PyPI"):
        assert f"{label}: the ID token from GitHub Actions has expired (it expired at" in (
            check.stdout
        )
    assert "re-run the job (ID tokens live minutes) and check the runner's clock" in check.stdout


def test_a_forged_id_token_is_refused_by_npm_and_pypi(
    git_repo: GitRepo,
    unique_name: str,
    oidc_sandbox: Sandbox,
    oidc_env: dict[str, str],
    verdaccio: Verdaccio,
    jsr_server: TestServer,
    tmp_path: Path,
) -> None:
    _project(git_repo, unique_name, oidc_env["GITHUB_REPOSITORY"])
    _existing_packages(unique_name, verdaccio, jsr_server, tmp_path)
    forged = add_request_token(_issuer(oidc_sandbox).url, bad_signature=True)
    env = _job_env(oidc_env, ACTIONS_ID_TOKEN_REQUEST_TOKEN=forged)

    check = _shipit(git_repo, env, "check", "--only", "registry")

    assert check.returncode == 1, check.stdout
    assert "npm rejected the job's ID token as invalid" in check.stdout
    assert "PyPI rejected the job's ID token as invalid" in check.stdout


def test_a_job_without_id_token_write_is_told_to_add_it(
    git_repo: GitRepo, unique_name: str, oidc_env: dict[str, str]
) -> None:
    _project(git_repo, unique_name, oidc_env["GITHUB_REPOSITORY"])
    env = _job_env(oidc_env)
    for name in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        env.pop(name)

    check = _shipit(git_repo, env, "check", "--only", "registry")

    assert check.returncode == 1, check.stdout
    for label in ("npm", "JSR", "PyPI"):
        assert f"trusted publishing to {label} is not possible here (the job has no " in (
            check.stdout
        )
    assert "`id-token: write` permission: GitHub Actions did not set" in check.stdout
    assert "permissions: { contents: write, id-token: write }" in check.stdout


def test_an_npm_too_old_for_trusted_publishing_is_named(
    git_repo: GitRepo, unique_name: str, oidc_env: dict[str, str], tmp_path: Path
) -> None:
    _project(git_repo, unique_name, oidc_env["GITHUB_REPOSITORY"])
    fake = tmp_path / "old-npm"
    fake.mkdir()
    (fake / "npm").write_text("#!/bin/sh\necho 10.9.0\n")
    (fake / "npm").chmod(0o755)
    env = _job_env(oidc_env)
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"

    check = _shipit(git_repo, env, "check", "--only", "registry")

    assert check.returncode == 1, check.stdout
    assert "npm 10.9.0 cannot do trusted publishing (it needs 11.5.1 or newer)" in check.stdout
    assert "npm install -g npm@latest" in check.stdout
