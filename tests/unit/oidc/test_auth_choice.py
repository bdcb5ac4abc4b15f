"""Which way each registry authenticates (token or trusted publishing), and the checks shipit
makes on an ID token before a registry sees it."""

from __future__ import annotations

import base64
import json
import time

import pytest

from shipit.errors import ErrorCode, OidcTokenInvalid
from shipit.oidc import Ambient, IdToken, check_times, choose, decode_claims

ACTIONS = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
}


def jwt_of(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("configured", "token", "env", "mode"),
    [
        ("auto", "npm_abc", ACTIONS, "token"),  # a token wins in auto
        ("auto", None, ACTIONS, "oidc"),
        ("auto", None, {}, "none"),
        ("oidc", "npm_abc", ACTIONS, "oidc"),  # explicit OIDC ignores the token
        ("token", None, ACTIONS, "none"),  # explicit token never falls back to OIDC
        ("token", "npm_abc", {}, "token"),
    ],
)
def test_the_way_each_registry_authenticates(
    configured: str, token: str | None, env: dict[str, str], mode: str
) -> None:
    assert choose("npm", configured, token, env).mode == mode


def test_auto_without_token_outside_actions_says_both_ways_are_missing() -> None:
    auth = choose("pypi", "auto", None, {"CI": "true"})

    assert auth.mode == "none"
    assert auth.describe() == "no credentials: no PYPI_TOKEN"
    assert auth.problem == (
        "trusted publishing is not possible: this is not a GitHub Actions job "
        "(GITHUB_ACTIONS is not true)"
    )


def test_oidc_without_the_id_token_permission_names_the_missing_variables() -> None:
    auth = choose("jsr", "oidc", None, {"GITHUB_ACTIONS": "true"})

    assert auth.mode == "oidc"
    assert auth.problem == (
        "the job has no `id-token: write` permission: GitHub Actions did not set "
        "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN"
    )
    assert auth.describe() == 'trusted publishing (OIDC): [jsr] auth = "oidc"'


def test_auto_in_actions_describes_why_oidc_was_chosen() -> None:
    auth = choose("npm", "auto", None, ACTIONS)

    assert auth.problem is None
    assert auth.describe() == (
        "trusted publishing (OIDC): GitHub Actions job with id-token: write, and no NPM_TOKEN"
    )


def test_a_loopback_issuer_is_the_sandbox() -> None:
    assert not Ambient.of(ACTIONS).sandbox
    local = {**ACTIONS, "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:4000/idtoken?a=1"}
    assert Ambient.of(local).sandbox


def test_claims_name_the_identity_a_trust_must_match() -> None:
    claims = {
        "repository": "acme/widget",
        "job_workflow_ref": "acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0",
        "environment": "release",
    }
    token = IdToken(raw=jwt_of(claims), claims=decode_claims(jwt_of(claims)), audience="pypi")

    assert token.identity() == "acme/widget, workflow release.yml, environment release"
    assert jwt_of(claims) not in repr(token)


def test_an_expired_id_token_is_refused_with_when_it_expired() -> None:
    now = 1_800_000_000
    with pytest.raises(OidcTokenInvalid) as caught:
        check_times({"exp": now - 600, "nbf": now - 900}, now=now)

    assert caught.value.code is ErrorCode.OIDC_TOKEN_INVALID
    assert caught.value.what == "the ID token from GitHub Actions has expired"
    assert caught.value.why == "it expired at 2027-01-15T07:50:00Z, 600 seconds ago"
    check_times({"exp": now + 300, "nbf": now - 5}, now=now)  # a fresh one passes


def test_a_token_from_the_future_or_without_expiry_is_refused() -> None:
    now = time.time()
    with pytest.raises(OidcTokenInvalid, match="not valid yet"):
        check_times({"exp": now + 900, "nbf": now + 600}, now=now)
    with pytest.raises(OidcTokenInvalid, match="no expiry"):
        check_times({}, now=now)


@pytest.mark.parametrize("raw", ["not-a-jwt", "a.!!!.c", "a." + "bnVsbA" + ".c"])
def test_a_malformed_id_token_is_refused(raw: str) -> None:
    with pytest.raises(OidcTokenInvalid, match="malformed"):
        decode_claims(raw)
