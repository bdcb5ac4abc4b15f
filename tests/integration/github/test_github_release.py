"""The GitHub release against the sandbox server: draft -> assets -> publish, faults, bad token."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
import pytest
from ghhelp import api, assets_of, make_release, random_bytes, releases_for

from shipit.engine.step import NullProgress, ProbeState
from shipit.sandbox.faults import add_faults, clear_faults
from shipit.sandbox.servers import TestServer
from shipit.steps import github


def _version() -> str:
    return f"1.{uuid.uuid4().int % 100000}.0"


@pytest.fixture(autouse=True)
def _no_faults_left(github_server: TestServer) -> object:
    clear_faults(github_server.url)
    yield None
    clear_faults(github_server.url)


FILES = {
    "hello-linux-x64.tar.gz": b"",  # filled per test
    "hello-windows-x64.zip": b"",
}


def _files() -> dict[str, bytes]:
    return {name: random_bytes(200_000 + i * 70_001) for i, name in enumerate(FILES)}


def _assert_complete(server: TestServer, tag: str, root: Path, names: list[str]) -> dict:
    [rel] = releases_for(server, tag)
    assets = assets_of(server, rel["id"])
    assert sorted(a["name"] for a in assets) == sorted(names)  # no duplicates, nothing missing
    for asset in assets:
        local = (root / asset["name"]) if (root / asset["name"]).exists() else None
        if local is None:
            local = root / ".shipit" / "releases" / tag / "dist" / asset["name"]
        assert asset["state"] == "uploaded"
        assert asset["digest"] == "sha256:" + hashlib.sha256(local.read_bytes()).hexdigest()
    return rel


def test_draft_assets_publish(github_server: TestServer, tmp_path: Path) -> None:
    version = _version()
    files = _files()
    release = make_release(tmp_path / "p", github_server, version, files)
    outcome = release.run()
    assert outcome.state == "released", outcome
    names = [*files, "SHA256SUMS"]
    rel = _assert_complete(github_server, f"v{version}", release.ctx.root, names)
    assert rel["draft"] is False and rel["prerelease"] is False
    assert rel["body"].startswith("### Added") and "Binaries for five" in rel["body"]
    assert "0.1.0" not in rel["body"]
    # the published assets download to the same bytes
    asset = next(a for a in assets_of(github_server, rel["id"]) if a["name"] in files)
    got = httpx.get(asset["browser_download_url"], follow_redirects=True)
    assert got.content == files[asset["name"]]
    # a second run probes everything as done and changes nothing
    again = make_release(tmp_path / "p", github_server, version, files)
    again.ctx.dist_dir.mkdir(parents=True, exist_ok=True)
    second = again.run()
    assert second.state == "released"
    assert set(second.ran) <= {"checksums"}
    _assert_complete(github_server, f"v{version}", release.ctx.root, names)


def test_prerelease_without_changelog_uses_generated_notes(
    github_server: TestServer, tmp_path: Path
) -> None:
    version = _version() + "-rc.1"
    release = make_release(tmp_path / "p", github_server, version, _files(), changelog=False)
    assert release.run().state == "released"
    [rel] = releases_for(github_server, f"v{version}")
    assert rel["prerelease"] is True


@pytest.mark.parametrize("asset_state", [None, "starter"])
def test_503_during_upload_then_success_without_duplicates(
    github_server: TestServer, tmp_path: Path, asset_state: str | None
) -> None:
    version = _version()
    files = _files()
    rule: dict = {"method": "POST", "path": "^/uploads/", "status": 503, "times": 1}
    if asset_state:
        rule.update(status=502, asset_state=asset_state)
    add_faults(github_server.url, rule)
    release = make_release(tmp_path / "p", github_server, version, files)
    outcome = release.run()
    assert outcome.state == "released", outcome
    _assert_complete(github_server, f"v{version}", release.ctx.root, [*files, "SHA256SUMS"])
    history = release.journal.steps()
    assert any(s.attempts > 1 for s in history.values()), history


def test_upload_dropped_midway_then_resume(github_server: TestServer, tmp_path: Path) -> None:
    version = _version()
    files = _files()
    # more drops than attempts: the first run gives up, leaving cut-off assets behind
    add_faults(
        github_server.url,
        {
            "method": "POST",
            "path": "^/uploads/",
            "action": "drop_after_body",
            "asset_state": "starter",
            "times": 20,
        },
    )
    release = make_release(tmp_path / "p", github_server, version, files)
    first = release.run()
    assert first.state != "released"
    [draft] = releases_for(github_server, f"v{version}")
    assert draft["draft"] is True  # nobody sees a half-filled release
    assert any(a["state"] != "uploaded" for a in assets_of(github_server, draft["id"]))
    clear_faults(github_server.url)
    second = release.run()  # resume with the same journal
    assert second.state == "released", second
    _assert_complete(github_server, f"v{version}", release.ctx.root, [*files, "SHA256SUMS"])


def test_answer_lost_after_upload_is_probed_not_duplicated(
    github_server: TestServer, tmp_path: Path
) -> None:
    version = _version()
    files = _files()
    add_faults(
        github_server.url,
        {"method": "POST", "path": "^/uploads/", "action": "drop_after_body", "times": 2},
    )
    release = make_release(tmp_path / "p", github_server, version, files)
    assert release.run().state == "released"
    _assert_complete(github_server, f"v{version}", release.ctx.root, [*files, "SHA256SUMS"])


def test_422_already_exists_on_upload_is_handled_by_probing(
    github_server: TestServer, tmp_path: Path
) -> None:
    version = _version()
    files = {"hello.bin": random_bytes(50_000)}
    release = make_release(tmp_path / "p", github_server, version, files)
    ctx = release.ctx
    draft = github.Draft().run(ctx, NullProgress())
    # someone else (a parallel run) uploads the same file first ...
    with api(github_server) as gh:
        rel = gh.get_release(draft["id"])
        assert rel is not None
        gh.upload_asset(rel, ctx.root / "hello.bin")
    # ... after our listing said there was none: the real server answers 422 already_exists
    add_faults(
        github_server.url,
        {"method": "GET", "path": r"/releases/\d+/assets$", "status": 200, "body": [], "times": 1},
    )
    step = github.Asset(ctx.root / "hello.bin")
    evidence = step.run(ctx, NullProgress())
    assert evidence["name"] == "hello.bin" and evidence["release_id"] == draft["id"]
    assert [a["name"] for a in assets_of(github_server, draft["id"])] == ["hello.bin"]


def test_422_already_exists_on_create_reuses_the_published_release(
    github_server: TestServer, tmp_path: Path
) -> None:
    version = _version()
    release = make_release(tmp_path / "p", github_server, version, {"a.txt": b"a\n"})
    with api(github_server) as gh:
        existing = gh.create_release(tag_name=f"v{version}", name="by hand", draft=False)
    # our listing misses it (a parallel run published it meanwhile); GitHub then answers the
    # create with its documented 422 already_exists, and the step must probe, not fail
    add_faults(
        github_server.url,
        {
            "method": "GET",
            "path": r"/releases/tags/",
            "status": 404,
            "body": {"message": "Not Found"},
            "times": 1,
        },
        {"method": "GET", "path": r"/releases$", "status": 200, "body": [], "times": 1},
        {
            "method": "POST",
            "path": r"/releases$",
            "status": 422,
            "body": {
                "message": "Validation Failed",
                "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
            },
            "times": 1,
        },
    )
    evidence = github.Draft().run(release.ctx, NullProgress())
    assert evidence["id"] == existing["id"] and evidence["created"] is False
    assert len(releases_for(github_server, f"v{version}")) == 1


def test_bad_token_clear_error_and_nothing_made(github_server: TestServer, tmp_path: Path) -> None:
    version = _version()
    release = make_release(
        tmp_path / "p", github_server, version, _files(), token="ghp_wrongwrongwrong1234"
    )
    outcome = release.run()
    assert outcome.state == "failed"
    [failure] = outcome.failed
    text = str(failure.error) if hasattr(failure, "error") else str(failure)
    assert "GitHub rejected the token" in text
    assert "GITHUB_TOKEN" in text and "contents: write" in text
    assert "ghp_wrongwrongwrong1234" not in text
    assert releases_for(github_server, f"v{version}") == []


def test_same_name_other_content_is_a_conflict_unless_replace(
    github_server: TestServer, tmp_path: Path
) -> None:
    version = _version()
    files = {"tool.bin": random_bytes(10_000)}
    first = make_release(tmp_path / "a", github_server, version, files)
    assert first.run().state == "released"
    other = {"tool.bin": random_bytes(10_000)}
    # a different build of the same version: the probe must refuse to overwrite
    clash = make_release(tmp_path / "b", github_server, version, other)
    step = github.Asset(clash.ctx.root / "tool.bin")
    probe = step.probe(clash.ctx)
    assert probe.state is ProbeState.CONFLICT
    assert "tool.bin" in (probe.why or "") and "--replace-assets" in (probe.hint or "")
    replacing = make_release(tmp_path / "b", github_server, version, other, replace_assets=True)
    assert github.Asset(replacing.ctx.root / "tool.bin").probe(replacing.ctx).state is (
        ProbeState.TODO
    )
    github.Asset(replacing.ctx.root / "tool.bin").run(replacing.ctx, NullProgress())
    [rel] = releases_for(github_server, f"v{version}")
    [asset] = [a for a in assets_of(github_server, rel["id"]) if a["name"] == "tool.bin"]
    assert asset["digest"] == "sha256:" + hashlib.sha256(other["tool.bin"]).hexdigest()


def test_rollback_deletes_assets_and_release(github_server: TestServer, tmp_path: Path) -> None:
    version = _version()
    release = make_release(tmp_path / "p", github_server, version, _files())
    assert release.run().state == "released"
    undone = release.rollback()
    assert undone.state == "rolled-back", undone
    assert releases_for(github_server, f"v{version}") == []


def test_primary_rate_limit_too_long_fails_clearly(
    github_server: TestServer, tmp_path: Path
) -> None:
    release = make_release(
        tmp_path / "p",
        github_server,
        _version(),
        _files(),
        github_cfg={"max-rate-limit-wait": 5},
    )
    httpx.post(
        f"{github_server.url}/_shipit/rate_limit",
        json={"remaining": 0, "reset_in": 3600, "status": 403},
    )
    try:
        with pytest.raises(Exception) as err:
            github.Draft().probe(release.ctx)
    finally:
        httpx.post(
            f"{github_server.url}/_shipit/rate_limit", json={"remaining": 5000, "reset_in": 3600}
        )
    assert "rate limit" in str(err.value) and "max-rate-limit-wait" in str(err.value)


def test_primary_rate_limit_short_wait_then_success(
    github_server: TestServer, tmp_path: Path
) -> None:
    release = make_release(tmp_path / "p", github_server, _version(), _files())
    httpx.post(
        f"{github_server.url}/_shipit/rate_limit",
        json={"remaining": 0, "reset_in": 1, "status": 429},
    )
    try:
        probe = github.Draft().probe(release.ctx)
    finally:
        httpx.post(
            f"{github_server.url}/_shipit/rate_limit", json={"remaining": 5000, "reset_in": 3600}
        )
    assert probe.state is ProbeState.TODO


def test_secondary_rate_limit_is_transient_with_retry_after(
    github_server: TestServer, tmp_path: Path
) -> None:
    from shipit.engine.retry import TransientError

    release = make_release(tmp_path / "p", github_server, _version(), _files())
    add_faults(
        github_server.url,
        {
            "method": "GET",
            "path": r"/releases$",
            "status": 403,
            "headers": {"Retry-After": "7"},
            "body": {"message": "You have exceeded a secondary rate limit."},
        },
    )
    with pytest.raises(TransientError) as err:
        github.Draft().probe(release.ctx)
    assert err.value.retry_after == 7.0
