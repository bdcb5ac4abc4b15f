"""The shared fixtures keep their contract: what other tests rely on, checked for real."""

from __future__ import annotations

import os
import subprocess

import httpx

from shipit.sandbox.isolation import CLOSED_URL

GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def test_sandbox_env_tokens_work_on_every_server(sandbox_env: dict[str, str]) -> None:
    env = sandbox_env
    with httpx.Client(trust_env=False, timeout=10) as http:
        npm = http.get(
            env["NPM_CONFIG_REGISTRY"] + "-/whoami",
            headers={"Authorization": f"Bearer {env['NPM_TOKEN']}"},
        )
        assert npm.status_code == 200 and npm.json()["username"]

        jsr = http.get(
            env["JSR_URL"] + "api/user", headers={"Authorization": f"Bearer {env['JSR_TOKEN']}"}
        )
        assert jsr.status_code == 200
        bad = http.get(env["JSR_URL"] + "api/user", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["code"] == "invalidBearerToken"

        repo = http.get(
            f"{env['GITHUB_API_URL']}/repos/{env['GITHUB_REPOSITORY']}",
            headers={**GITHUB_HEADERS, "Authorization": f"Bearer {env['GITHUB_TOKEN']}"},
        )
        assert repo.status_code == 200
        assert repo.json()["full_name"] == env["GITHUB_REPOSITORY"]
        assert repo.json()["permissions"]["push"] is True

        pypi = http.post(  # credentials accepted: the upload is refused for its content, not 403
            env["TWINE_REPOSITORY_URL"],
            data={":action": "file_upload"},
            auth=(env["TWINE_USERNAME"], env["PYPI_TOKEN"]),
        )
        assert pypi.status_code not in (401, 403)
        denied = http.post(
            env["TWINE_REPOSITORY_URL"], data={":action": "file_upload"}, auth=("__token__", "x")
        )
        assert denied.status_code in (401, 403)


def test_session_cannot_reach_real_registries() -> None:
    for name in ("NPM_CONFIG_REGISTRY", "JSR_URL", "TWINE_REPOSITORY_URL", "GITHUB_API_URL"):
        assert os.environ[name] == CLOSED_URL
    for name in ("NPM_TOKEN", "GITHUB_TOKEN", "PYPI_TOKEN", "TWINE_PASSWORD", "JSR_TOKEN"):
        assert name not in os.environ
    assert os.environ["NO_COLOR"] == "1"
    assert os.environ["DENO_NO_UPDATE_CHECK"] == "1"
    result = subprocess.run(
        ["npm", "view", "left-pad", "version", "--fetch-retries=0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ECONNREFUSED" in result.stderr


def test_git_repo_is_pushed_with_upstream(git_repo) -> None:
    assert git_repo.path.is_dir() and (git_repo.remote / "HEAD").is_file()
    assert git_repo.git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git_repo.git("rev-list", "--count", "HEAD").strip() == "1"
    assert git_repo.head() == git_repo.remote_head()
    assert git_repo.git("rev-parse", "--abbrev-ref", "@{upstream}").strip() == "origin/main"
    assert git_repo.git("config", "commit.gpgsign").strip() == "false"
    assert git_repo.git("config", "user.email").strip()
    assert git_repo.git("status", "--porcelain") == ""


def test_git_repo_is_fresh_per_test(git_repo, tmp_path) -> None:
    assert git_repo.path.is_relative_to(tmp_path)
    sha = git_repo.commit("second", {"src/a.txt": "a\n"})
    git_repo.push()
    assert git_repo.remote_head() == sha


def test_unique_names_differ(unique_name: str) -> None:
    assert unique_name.startswith("pkg-")
    assert unique_name == unique_name.lower()
    assert len(unique_name) > len("pkg-") + 6
