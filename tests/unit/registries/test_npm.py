"""The npm adapter: document URL, parsing real-shaped package documents, whoami, failures."""

from __future__ import annotations

import pytest

from shipit.errors import RegistryError, TransientError
from shipit.registries._http import short_reason
from shipit.registries.npm import Npm, document_url, parse_document

from .conftest import Canned

INTEGRITY = "sha512-" + "A" * 86 + "=="

# the shape npmjs and verdaccio answer for GET /@scope%2fpkg (trimmed)
SCOPED_DOC = {
    "_id": "@acme/widget",
    "name": "@acme/widget",
    "dist-tags": {"latest": "1.1.0", "next": "2.0.0-rc.1"},
    "versions": {
        "1.0.0": {
            "name": "@acme/widget",
            "version": "1.0.0",
            "dist": {
                "integrity": "sha512-old",
                "shasum": "0" * 40,
                "tarball": "https://registry.npmjs.org/@acme/widget/-/widget-1.0.0.tgz",
            },
        },
        "1.1.0": {
            "name": "@acme/widget",
            "version": "1.1.0",
            "dist": {
                "integrity": INTEGRITY,
                "shasum": "1" * 40,
                "tarball": "https://registry.npmjs.org/@acme/widget/-/widget-1.1.0.tgz",
            },
        },
        "2.0.0-rc.1": {"name": "@acme/widget", "version": "2.0.0-rc.1", "dist": {}},
    },
    "time": {"created": "2026-01-01T00:00:00.000Z", "1.0.0": "2026-01-01T00:00:00.000Z"},
}


def test_document_url_encodes_the_scope_slash_like_npm() -> None:
    assert document_url("http://r/", "@scope/pkg") == "http://r/@scope%2fpkg"
    assert document_url("http://r/npm/", "plain") == "http://r/npm/plain"
    assert document_url("http://r", "plain") == "http://r/plain"


def test_a_published_version_of_a_scoped_package() -> None:
    got = parse_document(SCOPED_DOC, "@acme/widget", "1.1.0", "http://r/")
    assert got.package_exists and got.exists
    assert got.integrity == INTEGRITY
    assert got.latest == "1.1.0"
    assert dict(got.dist_tags) == {"latest": "1.1.0", "next": "2.0.0-rc.1"}
    assert got.versions == ("1.0.0", "1.1.0", "2.0.0-rc.1")
    assert got.url == "http://r/@acme%2fwidget"


def test_a_version_that_is_not_there_and_one_without_integrity() -> None:
    absent = parse_document(SCOPED_DOC, "@acme/widget", "1.2.0", "http://r/")
    assert absent.package_exists and not absent.exists and absent.integrity is None
    no_dist = parse_document(SCOPED_DOC, "@acme/widget", "2.0.0-rc.1", "http://r/")
    assert no_dist.exists and no_dist.integrity is None


def test_read_asks_for_the_document_with_the_token(canned: Canned) -> None:
    canned.answer("/@acme%2fwidget", body=SCOPED_DOC)
    got = Npm(canned.url, "npm_tok_read_1234").read("@acme/widget", "1.0.0")
    assert got.exists and got.integrity == "sha512-old"
    [req] = canned.seen
    headers = {k.lower(): v for k, v in req.headers.items()}
    assert headers["authorization"] == "Bearer npm_tok_read_1234"
    assert headers["accept"] == "application/json"


def test_an_unknown_package_is_a_404_not_an_error(canned: Canned) -> None:
    canned.answer("/nobody-has-this", 404, {"error": "not_found"})
    got = Npm(canned.url).read("nobody-has-this", "1.0.0")
    assert not got.package_exists and not got.exists and got.versions == ()


def test_a_refused_token_names_the_registry_and_the_fix(canned: Canned) -> None:
    canned.answer("/private-pkg", 401, {"error": "authorization required"})
    with pytest.raises(RegistryError) as err:
        Npm(canned.url, "npm_bad_token_5678").read("private-pkg", "1.0.0")
    assert err.value.status == 401 and err.value.message == "authorization required"
    assert err.value.what == f"npm rejected the token for {canned.url}"
    assert "NPM_TOKEN" in (err.value.hint or "")
    assert "npm_bad_token_5678" not in str(err.value)


def test_a_busy_registry_is_transient_with_its_retry_after(canned: Canned) -> None:
    canned.answer("/busy", 503, {"error": "down"}, headers={"Retry-After": "3"})
    with pytest.raises(TransientError) as err:
        Npm(canned.url).read("busy", "1.0.0")
    assert err.value.status == 503 and err.value.retry_after == 3
    assert short_reason(err.value, canned.url) == f"{canned.url} answered 503"


def test_no_registry_listening_is_transient(closed_port: str) -> None:
    with pytest.raises(TransientError) as err:
        Npm(closed_port).read("pkg", "1.0.0")
    assert short_reason(err.value, closed_port) == f"cannot connect to {closed_port}"


def test_whoami(canned: Canned) -> None:
    canned.answer("/-/whoami", body={"username": "ada"})
    assert Npm(canned.url, "npm_tok_whoami_1").whoami() == "ada"
    canned.answer("/-/whoami", body={})  # verdaccio, for a token it does not know
    assert Npm(canned.url, "npm_tok_whoami_1").whoami() is None
    canned.answer("/-/whoami", 403, {"error": "forbidden"})
    with pytest.raises(RegistryError) as err:
        Npm(canned.url, "npm_tok_whoami_1").whoami()
    assert err.value.status == 403
