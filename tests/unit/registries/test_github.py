"""The GitHub adapter's reads for ``check`` and ``status``: a release by tag (GitHub answers
only published ones), the latest release, one page of releases, and its error shape."""

from __future__ import annotations

import pytest

from shipit.config import Config, GithubConfig, Settings
from shipit.errors import GitHubError, RegistryError, TransientError
from shipit.registries._http import short_reason
from shipit.registries.github import GitHub, releases_url

from .conftest import Canned

RELEASE = {
    "id": 7,
    "tag_name": "v1.0.0",
    "draft": False,
    "prerelease": False,
    "html_url": "https://github.com/o/r/releases/tag/v1.0.0",
    "upload_url": "https://uploads.github.com/repos/o/r/releases/7/assets{?name,label}",
    "assets": [],
}
NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/releases/releases",
    "status": "404",
}


def _gh(canned: Canned, token: str | None = "ghp_unit_test_1234") -> GitHub:
    config = Config(github=GithubConfig(api_version="2022-11-28"))
    env = {"GITHUB_API_URL": canned.url.rstrip("/")}
    if token:
        env["GITHUB_TOKEN"] = token
    settings = Settings.from_env(env, config)
    return GitHub.from_settings(
        config, settings, repository="o/r", max_rate_limit_wait=0, require_token=token is not None
    )


def test_release_for_tag_and_latest(canned: Canned) -> None:
    canned.answer("/repos/o/r/releases/tags/v1.0.0", body=RELEASE)
    canned.answer("/repos/o/r/releases/latest", body=RELEASE)
    with _gh(canned) as gh:
        assert gh.release_for_tag("v1.0.0") == RELEASE
        assert gh.release_for_tag("v2.0.0") is None  # 404: no published release
        assert gh.latest_release() == RELEASE
    assert canned.seen[0].headers["Authorization"] == "Bearer ghp_unit_test_1234"
    assert canned.seen[0].headers["X-GitHub-Api-Version"] == "2022-11-28"


def test_a_tag_with_slashes_is_one_path_segment(canned: Canned) -> None:
    with _gh(canned) as gh:
        assert gh.release_for_tag("pkg/v1.0.0") is None
    assert canned.paths() == ["/repos/o/r/releases/tags/pkg%2Fv1.0.0"]


def test_recent_releases_is_one_page_with_drafts(canned: Canned) -> None:
    draft = {**RELEASE, "id": 8, "tag_name": "v1.1.0", "draft": True}
    canned.answer("/repos/o/r/releases?per_page=30", body=[draft, RELEASE])
    with _gh(canned, token=None) as gh:  # status reads public repositories without a token
        assert [r["id"] for r in gh.recent_releases(30)] == [8, 7]
    assert "Authorization" not in canned.seen[0].headers


def test_errors_carry_githubs_status_and_message(canned: Canned) -> None:
    canned.answer(
        "/repos/o/r",
        401,
        {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
    )
    with _gh(canned) as gh, pytest.raises(GitHubError) as err:
        gh.repo()
    assert isinstance(err.value, RegistryError)
    assert (err.value.status, err.value.message) == (401, "Bad credentials")
    canned.answer("/repos/o/r", 404, NOT_FOUND)
    with _gh(canned) as gh, pytest.raises(GitHubError) as err:
        gh.repo()
    assert err.value.status == 404


def test_a_failing_github_is_transient_with_its_status(canned: Canned) -> None:
    canned.answer("/repos/o/r/releases/latest", 503, {"message": "Service Unavailable"})
    with _gh(canned) as gh, pytest.raises(TransientError) as err:
        gh.latest_release()
    assert err.value.status == 503
    where = canned.url.rstrip("/")
    assert short_reason(err.value, where) == f"{where} answered 503"


def test_releases_url_for_the_plan() -> None:
    assert releases_url("https://ghe.example.com/api/v3/", "o/r") == (
        "https://ghe.example.com/api/v3/repos/o/r/releases"
    )
