"""Trusted publishing in the sandbox, spoken to by the real clients: the issuer's ID tokens,
npm's own OIDC exchange in front of verdaccio, deno's ``githuboidc`` publish to the JSR server,
PyPI's mint-token with twine; each registry refuses another repository's, an expired and a
forged ID token."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import jwt
import pytest

from shipit.sandbox.manager import Sandbox
from shipit.sandbox.oidc_issuer import add_request_token
from shipit.sandbox.oidc_trust import InvalidIdToken, IssuerKeys, reset_trust, set_trust
from shipit.sandbox.pypiserver import PyPIServer
from shipit.sandbox.servers import OidcIssuer, TestServer
from shipit.sandbox.verdaccio import Verdaccio

ROOT = Path(__file__).resolve().parents[3]
DENO = ROOT / ".venv" / "bin" / "deno"
TWINE = str(Path(sys.executable).parent / "twine")
STRANGER = "someone-else/project"


def _issuer(sandbox: Sandbox) -> OidcIssuer:
    issuer = sandbox.service("oidc")
    assert isinstance(issuer, OidcIssuer)
    return issuer


def id_token(env: dict[str, str], audience: str, request_token: str | None = None) -> str:
    """What a job gets from ``ACTIONS_ID_TOKEN_REQUEST_URL`` for ``audience``."""
    url = env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" + quote(audience, safe="")
    token = request_token or env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    response = httpx.get(url, headers={"Authorization": f"bearer {token}"}, trust_env=False)
    assert response.status_code == 200, response.text
    return str(response.json()["value"])


def job_env(oidc_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {**os.environ, **oidc_env, "NO_COLOR": "1"}
    env.update(extra)
    return env


# --- the issuer ---------------------------------------------------------------------------------


def test_id_tokens_carry_githubs_claims_and_verify_against_the_published_keys(
    oidc_sandbox: Sandbox, oidc_env: dict[str, str]
) -> None:
    issuer = _issuer(oidc_sandbox)
    token = id_token(oidc_env, "npm:127.0.0.1")

    discovery = httpx.get(issuer.url + "/.well-known/openid-configuration", trust_env=False)
    jwks = httpx.get(discovery.json()["jwks_uri"], trust_env=False).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid].key
    claims = jwt.decode(
        token, key, algorithms=["RS256"], audience="npm:127.0.0.1", issuer=issuer.url
    )

    repo = oidc_env["GITHUB_REPOSITORY"]
    assert claims["repository"] == repo
    assert claims["repository_owner"] == repo.split("/")[0]
    assert claims["workflow_ref"] == f"{repo}/.github/workflows/release.yml@refs/heads/main"
    assert claims["job_workflow_ref"] == claims["workflow_ref"]
    assert claims["ref"] == "refs/heads/main"
    assert len(claims["sha"]) == 40
    assert claims["environment"] == "release"
    assert claims["repository_visibility"] == "private"  # npm then leaves provenance off
    assert claims["exp"] > claims["iat"]
    # without an audience: GitHub's default one, the owner's URL
    plain = httpx.get(
        oidc_env["ACTIONS_ID_TOKEN_REQUEST_URL"],
        headers={"Authorization": f"bearer {oidc_env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
        trust_env=False,
    )
    default = jwt.decode(plain.json()["value"], options={"verify_signature": False})
    assert default["aud"] == f"https://github.com/{repo.split('/')[0]}"
    # a request token the issuer never gave out
    refused = httpx.get(
        oidc_env["ACTIONS_ID_TOKEN_REQUEST_URL"],
        headers={"Authorization": "bearer sbx-idtoken-forged"},
        trust_env=False,
    )
    assert refused.status_code == 401


def test_registries_tell_expired_forged_and_misaddressed_tokens_apart(
    oidc_sandbox: Sandbox, oidc_env: dict[str, str]
) -> None:
    issuer = _issuer(oidc_sandbox)
    keys = IssuerKeys(issuer.url)
    good = id_token(oidc_env, "pypi")
    assert keys.verify(good, audience="pypi")["repository"] == oidc_env["GITHUB_REPOSITORY"]

    expired = id_token(oidc_env, "pypi", add_request_token(issuer.url, expired=True))
    with pytest.raises(InvalidIdToken, match="token expired"):
        keys.verify(expired, audience="pypi")
    forged = id_token(oidc_env, "pypi", add_request_token(issuer.url, bad_signature=True))
    with pytest.raises(InvalidIdToken, match="signature verification failed"):
        keys.verify(forged, audience="pypi")
    with pytest.raises(InvalidIdToken, match="invalid audience"):
        keys.verify(good, audience="npm:127.0.0.1")
    with pytest.raises(InvalidIdToken, match="malformed"):
        keys.verify("not.a.jwt", audience="pypi")


# --- npm ----------------------------------------------------------------------------------------


def npm(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def versions_of(verdaccio: Verdaccio, name: str) -> list[str]:
    response = httpx.get(f"{verdaccio.url}{name}", trust_env=False)
    return sorted(response.json().get("versions", {})) if response.status_code == 200 else []


@pytest.mark.slow
def test_real_npm_publishes_by_trusted_publishing_and_fails_silently_when_not_trusted(
    oidc_env: dict[str, str],
    verdaccio: Verdaccio,
    npm_env,
    npm_package,
    unique_name: str,
    tmp_path: Path,
) -> None:
    frontend = oidc_env["NPM_CONFIG_REGISTRY"]
    job = npm_env(frontend, token="")  # an .npmrc without any token, as in the job
    for name in (
        "GITHUB_ACTIONS",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    ):
        job[name] = oidc_env[name]

    # trusted publishing cannot create a package: npm goes on without a token and fails
    unknown = npm(["publish"], npm_package(unique_name, "0.9.0"), job)
    assert unknown.returncode != 0
    assert "ENEEDAUTH" in unknown.stdout + unknown.stderr

    created = npm(["publish"], npm_package(unique_name, "1.0.0"), npm_env(verdaccio))
    assert created.returncode == 0, created.stderr
    published = npm(["publish"], npm_package(unique_name, "1.0.1"), job)
    assert published.returncode == 0, published.stdout + published.stderr
    assert versions_of(verdaccio, unique_name) == ["1.0.0", "1.0.1"]

    # trusted for another repository: the exchange is refused, npm says nothing about it
    set_trust(frontend, {"package": unique_name, "repository": STRANGER})
    try:
        refused = npm(["publish"], npm_package(unique_name, "1.0.2"), job)
    finally:
        reset_trust(frontend, unique_name)
    assert refused.returncode != 0
    assert "ENEEDAUTH" in refused.stdout + refused.stderr
    assert "oidc" not in (refused.stdout + refused.stderr).lower()
    assert versions_of(verdaccio, unique_name) == ["1.0.0", "1.0.1"]


def test_npm_exchange_answers_as_npmjs_does(
    oidc_sandbox: Sandbox,
    oidc_env: dict[str, str],
    verdaccio: Verdaccio,
    npm_env,
    npm_package,
    unique_name: str,
) -> None:
    frontend = oidc_env["NPM_CONFIG_REGISTRY"]
    url = f"{frontend}-/npm/v1/oidc/token/exchange/package/{unique_name}"
    token = id_token(oidc_env, "npm:127.0.0.1")

    def exchange(jwt_value: str) -> httpx.Response:
        return httpx.post(url, headers={"Authorization": f"Bearer {jwt_value}"}, trust_env=False)

    missing = exchange(token)
    assert missing.status_code == 404
    assert missing.json()["message"] == "OIDC token exchange error - package not found"
    created = npm(["publish"], npm_package(unique_name, "1.0.0"), npm_env(verdaccio))
    assert created.returncode == 0, created.stderr

    answer = exchange(token)
    assert answer.status_code in (200, 201)
    whoami = httpx.get(
        verdaccio.url + "-/whoami",
        headers={"Authorization": f"Bearer {answer.json()['token']}"},
        trust_env=False,
    )
    assert whoami.json().get("username") == "shipit"  # a token verdaccio itself accepts

    issuer = _issuer(oidc_sandbox).url
    for bad in (
        id_token(oidc_env, "pypi"),  # another audience
        id_token(oidc_env, "npm:127.0.0.1", add_request_token(issuer, expired=True)),
        id_token(oidc_env, "npm:127.0.0.1", add_request_token(issuer, bad_signature=True)),
    ):
        refused = exchange(bad)
        assert refused.status_code == 401
        assert refused.json()["message"] == "OIDC token exchange error - unauthorized"
    other = id_token(oidc_env, "npm:127.0.0.1", add_request_token(issuer, repository=STRANGER))
    assert exchange(other).status_code == 404
    # a workflow other than the one trusted
    set_trust(
        frontend,
        {
            "package": unique_name,
            "repository": oidc_env["GITHUB_REPOSITORY"],
            "workflow": "publish.yml",
        },
    )
    try:
        assert exchange(token).status_code == 404
    finally:
        reset_trust(frontend, unique_name)
    # everything else reaches verdaccio untouched
    assert httpx.get(f"{frontend}{unique_name}", trust_env=False).json()["name"] == unique_name


# --- JSR ----------------------------------------------------------------------------------------


def deno_package(root: Path, name: str, version: str) -> Path:
    pkg = root / f"{name}-{version}"
    pkg.mkdir(parents=True)
    config = {
        "name": f"@shipit/{name}",
        "version": version,
        "license": "MIT",
        "exports": "./mod.ts",
    }
    (pkg / "deno.json").write_text(json.dumps(config) + "\n")
    (pkg / "mod.ts").write_text(f"export const version: string = {json.dumps(version)};\n")
    return pkg


def deno_publish(pkg: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DENO), "publish", "--no-provenance"],
        cwd=pkg,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def jsr_versions(jsr: TestServer, name: str) -> list[str]:
    response = httpx.get(f"{jsr.url}/@shipit/{name}/meta.json", trust_env=False)
    return sorted(response.json()["versions"]) if response.status_code == 200 else []


@pytest.mark.slow
def test_real_deno_publishes_with_githuboidc_to_a_linked_package_only(
    oidc_env: dict[str, str],
    jsr_server: TestServer,
    unique_name: str,
    tmp_path: Path,
) -> None:
    env = job_env(oidc_env, DENO_DIR=str(tmp_path / "deno"), DENO_NO_UPDATE_CHECK="1")
    # as on jsr.io the package must exist first (deno 2.9.8 asks for an ID token and
    # publishes straight away; the registry refuses)
    missing = deno_publish(deno_package(tmp_path, unique_name, "0.9.0"), env)
    assert missing.returncode != 0
    assert re.search(r"\((scope|package)NotFound\)", missing.stderr), missing.stderr

    with httpx.Client(base_url=jsr_server.url, trust_env=False) as http:
        created = http.post(
            "/api/scopes/shipit/packages",
            json={"package": unique_name},
            headers={"Authorization": f"Bearer {jsr_server.token}"},
        )
        assert created.status_code == 200, created.text
        package = http.get(f"/api/scopes/shipit/packages/{unique_name}").json()
    assert (
        package["githubRepository"]["owner"] + "/" + package["githubRepository"]["name"]
        == (oidc_env["GITHUB_REPOSITORY"])
    )

    published = deno_publish(deno_package(tmp_path, unique_name, "1.0.0"), env)
    assert published.returncode == 0, published.stderr
    assert jsr_versions(jsr_server, unique_name) == ["1.0.0"]

    set_trust(jsr_server.url, {"package": f"@shipit/{unique_name}", "repository": STRANGER})
    try:
        refused = deno_publish(deno_package(tmp_path, unique_name, "1.0.1"), env)
    finally:
        reset_trust(jsr_server.url, f"@shipit/{unique_name}")
    assert refused.returncode != 0
    assert "actorNotAuthorized" in refused.stderr
    assert jsr_versions(jsr_server, unique_name) == ["1.0.0"]


def test_jsr_checks_the_permissions_in_the_audience(
    oidc_sandbox: Sandbox, oidc_env: dict[str, str], jsr_server: TestServer, unique_name: str
) -> None:
    import gzip
    import io
    import tarfile

    with httpx.Client(base_url=jsr_server.url, trust_env=False) as http:
        http.post(
            "/api/scopes/shipit/packages",
            json={"package": unique_name},
            headers={"Authorization": f"Bearer {jsr_server.token}"},
        ).raise_for_status()
    config = json.dumps({"name": f"@shipit/{unique_name}", "version": "1.0.0", "exports": "./m.ts"})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, data in (("./deno.json", config.encode()), ("./m.ts", b"export {};\n")):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    body = gzip.compress(raw.getvalue())
    digest = "sha256-" + hashlib.sha256(body).hexdigest()

    def publish(
        version: str, tarball_hash: str, request_token: str | None = None
    ) -> httpx.Response:
        permission = {
            "permission": "package/publish",
            "scope": "shipit",
            "package": unique_name,
            "version": version,
            "tarballHash": tarball_hash,
        }
        token = id_token(oidc_env, json.dumps({"permissions": [permission]}), request_token)
        return httpx.post(
            f"{jsr_server.url}/api/scopes/shipit/packages/{unique_name}/versions/1.0.0",
            params={"config": "/deno.json"},
            content=body,
            headers={"Authorization": f"githuboidc {token}", "Content-Encoding": "gzip"},
            trust_env=False,
        )

    assert publish("2.0.0", digest).json()["code"] == "missingPermission"  # another version
    assert publish("1.0.0", "sha256-" + "0" * 64).json()["code"] == "missingPermission"
    expired = add_request_token(_issuer(oidc_sandbox).url, expired=True)
    answer = publish("1.0.0", digest, expired)
    assert answer.status_code == 401
    assert answer.json()["message"] == "The provided OIDC token is invalid: token expired"
    accepted = publish("1.0.0", digest)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["name"] == "sandbox-user"


# --- PyPI ---------------------------------------------------------------------------------------


def twine_upload(url: str, wheel: Path, password: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        TWINE_REPOSITORY_URL=url,
        TWINE_USERNAME="__token__",
        TWINE_PASSWORD=password,
        TWINE_NON_INTERACTIVE="1",
    )
    return subprocess.run(
        [TWINE, "upload", "--disable-progress-bar", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pypi_mints_short_lived_tokens_for_trusted_publishers_only(
    oidc_sandbox: Sandbox,
    oidc_env: dict[str, str],
    pypiserver: PyPIServer,
    make_wheel,
    unique_name: str,
) -> None:
    front = oidc_env["TWINE_REPOSITORY_URL"]
    issuer = _issuer(oidc_sandbox).url

    def mint(payload: object) -> httpx.Response:
        return httpx.post(front + "_/oidc/mint-token", json=payload, trust_env=False)

    audience = httpx.get(front + "_/oidc/audience", trust_env=False).json()["audience"]
    assert audience == "pypi"
    minted = mint({"token": id_token(oidc_env, audience)})
    assert minted.status_code == 200, minted.text
    assert minted.json()["success"] is True
    token = minted.json()["token"]
    assert token.startswith("pypi-")

    wheel = make_wheel(unique_name, "1.0.0")
    uploaded = twine_upload(front, wheel, token)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert (pypiserver.packages / wheel.name).read_bytes() == wheel.read_bytes()

    def error_code(answer: httpx.Response) -> str:
        assert answer.status_code == 422, answer.text
        assert answer.json()["message"] == "Token request failed"
        return str(answer.json()["errors"][0]["code"])

    other = id_token(oidc_env, audience, add_request_token(issuer, repository=STRANGER))
    assert error_code(mint({"token": other})) == "invalid-publisher"
    expired = id_token(oidc_env, audience, add_request_token(issuer, expired=True))
    assert error_code(mint({"token": expired})) == "invalid-token"
    assert error_code(mint({"token": id_token(oidc_env, "npm:127.0.0.1")})) == "invalid-token"
    assert error_code(mint({"nothing": 1})) == "invalid-payload"

    # a project trusting another repository: a token minted for this one does not cover it
    set_trust(front, {"package": unique_name, "repository": STRANGER})
    try:
        token = mint({"token": id_token(oidc_env, audience)}).json()["token"]
        second = make_wheel(unique_name, "1.0.1")
        refused = twine_upload(front, second, token)
    finally:
        reset_trust(front, unique_name)
    assert refused.returncode != 0
    assert "403" in refused.stdout + refused.stderr
    assert not (pypiserver.packages / second.name).exists()
    # the sandbox's own token still works through the front-end
    assert twine_upload(front, second, pypiserver.token).returncode == 0
