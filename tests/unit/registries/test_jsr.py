"""The JSR adapter: URLs like deno's, meta.json and {version}_meta.json as JSR writes them
(``yanked`` left out when false, ``latest: null``), the token read, yanking."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from shipit.errors import PermanentError, RegistryError
from shipit.registries.jsr import Jsr, checksum, error_code, parse_meta, split_name

from .conftest import Canned

# jsr-io/jsr api/src/metadata.rs: versions newest first, yanked only when true, latest is
# the newest stable version that is not yanked (null when there is none)
META = {
    "scope": "acme",
    "name": "widget",
    "latest": "1.0.0",
    "versions": {
        "1.1.0": {"yanked": True, "createdAt": "2026-02-01T10:00:00.000000000Z"},
        "1.0.0": {"createdAt": "2026-01-01T10:00:00.000000000Z"},
    },
}
ONLY_PRERELEASES = {
    "scope": "acme",
    "name": "widget",
    "latest": None,
    "versions": {"2.0.0-rc.1": {"createdAt": "2026-03-01T10:00:00.000000000Z"}},
}
VERSION_META = {
    "manifest": {
        "/mod.ts": {"size": 31, "checksum": "sha256-" + "a" * 64},
        "/deno.json": {"size": 80, "checksum": "sha256-" + "b" * 64},
    },
    "moduleGraph2": {"/mod.ts": {}},
    "exports": {".": "./mod.ts"},
}


def test_api_url_follows_deno() -> None:
    assert Jsr("https://jsr.io/").api_url == "https://api.jsr.io/"
    assert Jsr("http://127.0.0.1:9000/x/").api_url == "http://127.0.0.1:9000/api/"
    assert Jsr("http://127.0.0.1:9000").url == "http://127.0.0.1:9000/"
    jsr = Jsr("http://127.0.0.1:9000/")
    assert jsr.package_api_url("@acme/widget", "1.0.0") == (
        "http://127.0.0.1:9000/api/scopes/acme/packages/widget/versions/1.0.0"
    )
    assert jsr.new_package_url("@acme/widget") == (
        "http://127.0.0.1:9000/new?scope=acme&package=widget&from=cli"
    )


def test_split_name_refuses_what_is_not_a_jsr_name() -> None:
    assert split_name("@acme/widget-2") == ("acme", "widget-2")
    for bad in ("widget", "@Acme/widget", "@acme/widget/extra"):
        with pytest.raises(PermanentError):
            split_name(bad)


def test_meta_json_with_a_yanked_version() -> None:
    yanked = parse_meta(META, "@acme/widget", "1.1.0", "http://j/")
    assert yanked.exists and yanked.yanked
    assert yanked.latest == "1.0.0" and yanked.yanked_versions == ("1.1.0",)
    assert yanked.versions == ("1.1.0", "1.0.0")
    current = parse_meta(META, "@acme/widget", "1.0.0", "http://j/")
    assert current.exists and not current.yanked
    absent = parse_meta(META, "@acme/widget", "1.2.0", "http://j/")
    assert absent.package_exists and not absent.exists


def test_latest_null_when_only_prereleases_are_published() -> None:
    got = parse_meta(ONLY_PRERELEASES, "@acme/widget", "2.0.0-rc.1", "http://j/")
    assert got.latest is None and got.exists


def test_read_fetches_the_files_only_for_a_published_version(canned: Canned) -> None:
    canned.answer("/@acme/widget/meta.json", body=META)
    canned.answer("/@acme/widget/1.0.0_meta.json", body=VERSION_META)
    got = Jsr(canned.url).read("@acme/widget", "1.0.0")
    assert dict(got.files or {}) == {
        "/mod.ts": "sha256-" + "a" * 64,
        "/deno.json": "sha256-" + "b" * 64,
    }
    assert got.url == f"{canned.url}@acme/widget@1.0.0"
    assert all(s.headers.get("Accept") == "application/json" for s in canned.seen)
    canned.seen.clear()
    absent = Jsr(canned.url).read("@acme/widget", "3.0.0")
    assert not absent.exists and absent.files is None
    assert canned.paths() == ["/@acme/widget/meta.json"]  # no second request
    canned.seen.clear()
    Jsr(canned.url).read("@acme/widget", "1.0.0", files=False)
    assert canned.paths() == ["/@acme/widget/meta.json"]


def test_an_unknown_package(canned: Canned) -> None:
    got = Jsr(canned.url).read("@acme/nothing", "1.0.0")
    assert not got.package_exists and not got.exists


def test_checksum_matches_the_manifest_form(tmp_path: Path) -> None:
    content = b"export const x = 1;\n"
    path = tmp_path / "mod.ts"
    path.write_bytes(content)
    assert checksum(path) == "sha256-" + hashlib.sha256(content).hexdigest()


def test_package_exists_with_the_token(canned: Canned) -> None:
    path = "/api/scopes/acme/packages/widget"
    canned.answer(path, body={"scope": "acme", "name": "widget"})
    assert Jsr(canned.url, "jsr_tok_exists_1").package_exists("@acme/widget")
    assert canned.seen[0].headers["Authorization"] == "Bearer jsr_tok_exists_1"
    canned.answer(path, 404, {"code": "packageNotFound", "message": "The package was not found."})
    assert not Jsr(canned.url, "jsr_tok_exists_1").package_exists("@acme/widget")
    canned.answer(
        path,
        401,
        {"code": "invalidBearerToken", "message": "The provided bearer token is invalid."},
    )
    with pytest.raises(RegistryError) as err:
        Jsr(canned.url, "jsr_tok_exists_1").package_exists("@acme/widget")
    assert err.value.status == 401
    assert err.value.message == "The provided bearer token is invalid."


def test_yank_and_a_refused_yank(canned: Canned) -> None:
    path = "/api/scopes/acme/packages/widget/versions/1.0.0"
    canned.answer(path, 204, method="PATCH")
    Jsr(canned.url, "jsr_tok_yank_1").yank("@acme/widget", "1.0.0")
    assert json.loads(canned.seen[0].body) == {"yanked": True}
    assert canned.seen[0].headers["Authorization"] == "Bearer jsr_tok_yank_1"
    canned.answer(
        path,
        403,
        {"code": "actorNotScopeAdmin", "message": "The actor is not an admin of the scope."},
        method="PATCH",
    )
    with pytest.raises(RegistryError) as err:
        Jsr(canned.url, "jsr_tok_yank_1").yank("@acme/widget", "1.0.0")
    assert err.value.status == 403 and error_code(err.value) == "actorNotScopeAdmin"
