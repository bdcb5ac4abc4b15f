"""The GitHub test server driven through httpx with the calls a GitHub release client makes."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from shipit.http import client
from shipit.sandbox.faults import add_faults, clear_faults

from .conftest import Proc, start

TOKEN = "gh-sandbox-token"
REPO = "acme/tool"
MODULE = "shipit.sandbox.github_server"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


@pytest.fixture(scope="module")
def gh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    data = tmp_path_factory.mktemp("gh-data")
    proc = start(
        MODULE,
        "--data",
        str(data),
        "--token",
        TOKEN,
        "--read-token",
        "reader",
        "--repo",
        REPO,
        "--repo",
        "acme/other",
    )
    try:
        yield proc
    finally:
        proc.stop()


def api(url: str, token: str | None = TOKEN) -> httpx.Client:
    return client(base_url=url, headers=HEADERS, token=token)


def upload_url(release: dict[str, object]) -> str:
    template = str(release["upload_url"])
    assert template.endswith("{?name,label}")
    return template.removesuffix("{?name,label}")


def upload(
    c: httpx.Client, release: dict[str, object], name: str, data: bytes, label: str = ""
) -> httpx.Response:
    params = {"name": name, **({"label": label} if label else {})}
    return c.post(
        upload_url(release),
        params=params,
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )


def new_draft(c: httpx.Client, tag: str) -> dict[str, object]:
    resp = c.post(
        f"/repos/{REPO}/releases",
        json={
            "tag_name": tag,
            "target_commitish": "main",
            "name": tag,
            "body": "notes",
            "draft": True,
            "prerelease": False,
            "generate_release_notes": False,
        },
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def unique_tag() -> str:
    return f"v1.0.{time.monotonic_ns() % 10_000_000}"


def test_release_flow_draft_upload_publish_download_delete(gh: Proc) -> None:
    tag = unique_tag()
    one, two = os.urandom(3 * 1024 * 1024 + 17), b"checksums\n"
    with api(gh.url) as c:
        repo = c.get(f"/repos/{REPO}")
        assert repo.status_code == 200
        assert repo.json()["permissions"]["push"] is True
        for header in ("limit", "remaining", "reset", "used", "resource"):
            assert f"x-ratelimit-{header}" in repo.headers

        draft = new_draft(c, tag)
        assert draft["draft"] is True and draft["published_at"] is None
        assert draft["tag_name"] == tag and draft["assets"] == []
        # a draft is not tied to its tag: another draft with the same tag is fine
        other = new_draft(c, tag)
        # ... and get-by-tag does not see drafts
        assert c.get(f"/repos/{REPO}/releases/tags/{tag}").status_code == 404
        listed = c.get(f"/repos/{REPO}/releases", params={"per_page": 100}).json()
        assert {draft["id"], other["id"]} <= {r["id"] for r in listed}
        assert c.delete(f"/repos/{REPO}/releases/{other['id']}").status_code == 204

        a1 = upload(c, draft, "tool-linux-x64", one, label="Linux x64")
        assert a1.status_code == 201, a1.text
        asset = a1.json()
        assert asset["name"] == "tool-linux-x64" and asset["label"] == "Linux x64"
        assert asset["state"] == "uploaded" and asset["size"] == len(one)
        assert asset["digest"] == "sha256:" + hashlib.sha256(one).hexdigest()
        assert asset["content_type"] == "application/octet-stream"
        a2 = upload(c, draft, "SHA256SUMS", two)
        assert a2.status_code == 201

        dup = upload(c, draft, "tool-linux-x64", b"other bytes")
        assert dup.status_code == 422
        assert dup.json()["message"] == "Validation Failed"
        assert dup.json()["errors"] == [
            {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
        ]

        assets = c.get(f"/repos/{REPO}/releases/{draft['id']}/assets").json()
        assert [a["name"] for a in assets] == ["tool-linux-x64", "SHA256SUMS"]

        published = c.patch(f"/repos/{REPO}/releases/{draft['id']}", json={"draft": False})
        assert published.status_code == 200
        assert published.json()["draft"] is False and published.json()["published_at"]
        by_tag = c.get(f"/repos/{REPO}/releases/tags/{tag}")
        assert by_tag.status_code == 200 and by_tag.json()["id"] == draft["id"]
        url = by_tag.json()["assets"][0]["browser_download_url"]
        assert urlsplit(url).path == f"/{REPO}/releases/download/{tag}/tool-linux-x64"

        # a second published release for the tag is refused
        again = c.post(f"/repos/{REPO}/releases", json={"tag_name": tag})
        assert again.status_code == 422
        assert again.json()["errors"] == [
            {"resource": "Release", "code": "already_exists", "field": "tag_name"}
        ]
        assert c.get(f"/repos/{REPO}/git/ref/tags/{tag}").status_code == 200

    # the download is public once published, bytes identical
    with client() as anon:
        assert anon.get(url).content == one
    with api(gh.url) as c:
        via_api = c.get(
            f"/repos/{REPO}/releases/assets/{asset['id']}",
            headers={"Accept": "application/octet-stream"},
        )
        assert via_api.content == one
        assert c.get(f"/repos/{REPO}/releases/assets/{asset['id']}").json()["download_count"] == 2

        assert c.delete(f"/repos/{REPO}/releases/assets/{asset['id']}").status_code == 204
        assert c.get(f"/repos/{REPO}/releases/assets/{asset['id']}").status_code == 404
        assert c.delete(f"/repos/{REPO}/releases/{draft['id']}").status_code == 204
        assert c.get(f"/repos/{REPO}/releases/{draft['id']}").status_code == 404
        assert c.delete(f"/repos/{REPO}/git/refs/tags/{tag}").status_code == 204
        gone = c.delete(f"/repos/{REPO}/git/refs/tags/{tag}")
        assert gone.status_code == 422 and gone.json()["message"] == "Reference does not exist"


def test_errors_auth_and_permissions(gh: Proc) -> None:
    with api(gh.url, token="nope") as c:
        resp = c.get(f"/repos/{REPO}")
        assert resp.status_code == 401
        assert resp.json()["message"] == "Bad credentials"
        assert resp.json()["documentation_url"].startswith("https://docs.github.com/")
    with api(gh.url) as c:
        missing = c.get("/repos/acme/unknown")
        assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
        assert c.get(f"/repos/{REPO}/releases/999999").status_code == 404
        bad = c.post(f"/repos/{REPO}/releases", json={"name": "no tag"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "tag_name"
        draft = new_draft(c, unique_tag())
        no_type = c.post(upload_url(draft), params={"name": "x"}, content=b"abc")
        assert no_type.status_code == 400
    with api(gh.url, token="reader") as r:
        repo = r.get(f"/repos/{REPO}").json()
        assert repo["permissions"]["push"] is False
        # drafts are invisible without push access, and writes are refused
        listed = r.get(f"/repos/{REPO}/releases").json()
        assert draft["id"] not in {x["id"] for x in listed}
        assert r.post(f"/repos/{REPO}/releases", json={"tag_name": "v9"}).status_code == 403


def test_pagination_lists_every_release(gh: Proc) -> None:
    with api(gh.url) as c:
        ids = {new_draft(c, unique_tag())["id"] for _ in range(3)}
        first = c.get("/repos/acme/tool/releases", params={"per_page": 2})
        assert len(first.json()) == 2 and 'rel="next"' in first.headers["Link"]
        seen: set[int] = set()
        page = 1
        while True:
            resp = c.get(f"/repos/{REPO}/releases", params={"per_page": 2, "page": page})
            if not resp.json():
                break
            seen |= {r["id"] for r in resp.json()}
            page += 1
        assert ids <= seen


def test_rate_limit_exhausted_answers_403_with_remaining_zero(
    spawn: Callable[..., Proc], tmp_path: Path
) -> None:
    proc = spawn(
        MODULE, "--data", str(tmp_path), "--token", TOKEN, "--repo", REPO, "--rate-limit", "3"
    )
    with api(proc.url) as c:
        remaining = [int(c.get(f"/repos/{REPO}").headers["x-ratelimit-remaining"]) for _ in "abc"]
        assert remaining == [2, 1, 0]
        resp = c.get(f"/repos/{REPO}")
        assert resp.status_code == 403
        assert resp.headers["x-ratelimit-remaining"] == "0"
        assert int(resp.headers["x-ratelimit-reset"]) > time.time()
        assert "rate limit exceeded" in resp.json()["message"]
        # the admin endpoint moves the window: reset in 1 s, answering 429 meanwhile
        c.post("/_shipit/rate_limit", json={"reset_in": 1, "status": 429, "remaining": 0})
        assert c.get(f"/repos/{REPO}").status_code == 429
        time.sleep(1.1)
        ok = c.get(f"/repos/{REPO}")
        assert ok.status_code == 200 and ok.headers["x-ratelimit-remaining"] == "2"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    args = ("--data", str(tmp_path), "--token", TOKEN, "--repo", REPO)
    proc = start(MODULE, *args)
    try:
        with api(proc.url) as c:
            draft = new_draft(c, "v5.0.0")
            assert upload(c, draft, "bin", b"binary!").status_code == 201
            assert c.patch(
                f"/repos/{REPO}/releases/{draft['id']}", json={"draft": False}
            ).is_success
    finally:
        proc.stop()
    proc = start(MODULE, *args)
    try:
        with api(proc.url) as c:
            rel = c.get(f"/repos/{REPO}/releases/tags/v5.0.0").json()
            assert rel["id"] == draft["id"]
            assert [a["name"] for a in rel["assets"]] == ["bin"]
            assert c.get(rel["assets"][0]["browser_download_url"]).content == b"binary!"
            # new ids never collide with old ones
            assert new_draft(c, "v5.0.1")["id"] != draft["id"]
    finally:
        proc.stop()


def test_immutable_releases_lock_assets_and_tag(spawn: Callable[..., Proc], tmp_path: Path) -> None:
    proc = spawn(MODULE, "--data", str(tmp_path), "--token", TOKEN, "--repo", REPO, "--immutable")
    with api(proc.url) as c:
        draft = new_draft(c, "v1.0.0")
        assert upload(c, draft, "a", b"a").status_code == 201
        pub = c.patch(f"/repos/{REPO}/releases/{draft['id']}", json={"draft": False}).json()
        assert pub["immutable"] is True
        late = upload(c, draft, "b", b"b")
        assert late.status_code == 422 and "immutable" in late.json()["message"]
        assert c.delete(f"/repos/{REPO}/releases/{draft['id']}").status_code == 204
        reuse = c.post(f"/repos/{REPO}/releases", json={"tag_name": "v1.0.0"})
        assert reuse.status_code == 422
        assert reuse.json()["errors"][0]["code"] == "custom"
        assert reuse.json()["errors"][0]["message"] == "tag_name was used by an immutable release"


# --- cut-off uploads and faults -----------------------------------------------------------------


def test_a_cut_off_upload_leaves_a_starter_asset_that_blocks_the_name(gh: Proc) -> None:
    with api(gh.url) as c:
        draft = new_draft(c, unique_tag())
        target = urlsplit(upload_url(draft))
        port = int(target.port or 80)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(
                f"POST {target.path}?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: 1000000\r\n\r\n".encode()
                + b"x" * 1000
            )
            time.sleep(0.2)
        deadline = time.monotonic() + 5
        while True:
            assets = c.get(f"/repos/{REPO}/releases/{draft['id']}/assets").json()
            if assets or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [(a["name"], a["state"], a["size"]) for a in assets] == [("big.bin", "starter", 0)]
        # the leftover blocks the name until it is deleted, then the retry works
        assert upload(c, draft, "big.bin", b"full").status_code == 422
        assert c.delete(f"/repos/{REPO}/releases/assets/{assets[0]['id']}").status_code == 204
        assert upload(c, draft, "big.bin", b"full").json()["state"] == "uploaded"


def test_faults_on_the_github_server(gh: Proc) -> None:
    url = gh.url
    try:
        with api(url) as c:
            draft = new_draft(c, unique_tag())
            assets_path = f"/repos/{REPO}/releases/{draft['id']}/assets"
            up = f"/releases/{draft['id']}/assets$"

            # 502 during an upload leaves a starter asset (asset_state), like GitHub
            add_faults(
                url,
                {
                    "method": "POST",
                    "path": up,
                    "action": "status",
                    "status": 502,
                    "asset_state": "starter",
                },
            )
            resp = upload(c, draft, "one", b"1111")
            assert resp.status_code == 502
            assert [(a["name"], a["state"]) for a in c.get(assets_path).json()] == [
                ("one", "starter")
            ]

            # drop_after_body with asset_state: body read, asset left starter, no answer
            add_faults(
                url,
                {
                    "method": "POST",
                    "path": up,
                    "action": "drop_after_body",
                    "asset_state": "starter",
                },
            )
            with pytest.raises(httpx.TransportError):
                upload(c, draft, "two", b"2222")
            states = {a["name"]: a["state"] for a in c.get(assets_path).json()}
            assert states == {"one": "starter", "two": "starter"}

            # plain drop_after_body: the upload completes, the answer is lost
            add_faults(url, {"method": "POST", "path": up, "action": "drop_after_body"})
            with pytest.raises(httpx.TransportError):
                upload(c, draft, "three", b"3333")
            three = [a for a in c.get(assets_path).json() if a["name"] == "three"]
            assert three[0]["state"] == "uploaded" and three[0]["size"] == 4

            # drop_before_body: nothing happens
            add_faults(url, {"method": "POST", "path": up, "action": "drop_before_body"})
            with pytest.raises(httpx.TransportError):
                upload(c, draft, "four", b"4444")
            assert "four" not in {a["name"] for a in c.get(assets_path).json()}

            # status with Retry-After on an API call; rate-limit headers still present
            secondary = {"message": "You have exceeded a secondary rate limit."}
            add_faults(
                url,
                {
                    "method": "POST",
                    "path": f"^/repos/{REPO}/releases$",
                    "status": 429,
                    "headers": {"Retry-After": "1"},
                    "body": secondary,
                },
            )
            resp = c.post(f"/repos/{REPO}/releases", json={"tag_name": "never"})
            assert resp.status_code == 429 and resp.headers["retry-after"] == "1"
            assert "x-ratelimit-remaining" in resp.headers
            assert "secondary rate limit" in resp.json()["message"]

            # delay
            add_faults(
                url,
                {"method": "GET", "path": f"^/repos/{REPO}$", "action": "delay", "delay_s": 0.4},
            )
            t0 = time.monotonic()
            assert c.get(f"/repos/{REPO}").status_code == 200
            assert time.monotonic() - t0 >= 0.4
            assert c.get("/_shipit/faults").json() == {"rules": []}
    finally:
        clear_faults(url)
