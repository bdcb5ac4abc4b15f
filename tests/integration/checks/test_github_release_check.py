"""The registry check and a GitHub release that is already published for the release's tag:
another commit's release stops the release; this commit's own release (a CI re-run or a
resume after the publish) is resumable, and the release's probes then compare its assets."""

from __future__ import annotations

import secrets

import httpx

from shipit.checks.base import Status

from .conftest import ExampleFactory


def _publish_release(env: dict[str, str], tag: str) -> None:
    api, repo = env["GITHUB_API_URL"], env["GITHUB_REPOSITORY"]
    response = httpx.post(
        f"{api}/repos/{repo}/releases",
        json={"tag_name": tag, "name": tag, "draft": False},
        headers={"Authorization": f"Bearer {env['GITHUB_TOKEN']}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def test_published_release_of_another_commit_fails_and_of_head_is_resumable(
    node_project: ExampleFactory,
) -> None:
    version = f"4.{secrets.randbelow(10**6)}.0"  # the session's GitHub repository is shared
    ex = node_project(version=version, shipit_toml="[github]\nenabled = true\n")
    tag = f"v{version}"
    _publish_release(ex.env, tag)
    other = ex.check("registry")
    assert other.status is Status.FAILED
    assert other.findings[0].message.startswith(f"a published GitHub release for {tag} already")
    next_version = f"4.{version.split('.')[1]}.1"
    assert (
        other.findings[0].hint
        == f"release a new version: `shipit release --version {next_version}`"
    )

    ex.repo.git("tag", "-a", tag, "-m", f"Release {tag}")  # the release made it, from HEAD
    same = ex.check("registry")
    assert same.status is Status.PASSED, same.findings
    assert f"the GitHub release {tag} is published and its tag is at HEAD: resumable" in (
        same.summary
    )
