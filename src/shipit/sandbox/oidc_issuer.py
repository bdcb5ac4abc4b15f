"""The sandbox's OIDC issuer: GitHub Actions' ID-token endpoint, offline.

``python -m shipit.sandbox.oidc_issuer --port 0 --data DIR --token-file F --repo owner/name``
prints ``listening on http://127.0.0.1:PORT``. Point a job at it with
``ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:PORT/idtoken?api-version=2.0`` and
``ACTIONS_ID_TOKEN_REQUEST_TOKEN=<a token of the token file>``, as GitHub does for a job with
``permissions: id-token: write`` (PROTOCOLS.md, "Trusted publishing").

- ``GET /idtoken?audience=AUD`` with ``Authorization: bearer <request token>`` answers
  ``{"count": N, "value": "<JWT>"}``: an RS256 JWT signed with this sandbox's own key
  (``DATA/signing-key.pem``, made on first start, mode 0600), whose claims are GitHub's
  (``iss`` = this server's URL, ``aud``, ``sub``, ``repository``, ``repository_owner``,
  ``repository_id``, ``workflow_ref``, ``job_workflow_ref``, ``ref``, ``sha``, ``environment``,
  ``repository_visibility: private`` so npm does not attempt provenance, ``iat``, ``nbf``,
  ``exp``). Without ``audience`` the audience is ``https://github.com/<owner>``, as GitHub's.
- ``GET /.well-known/openid-configuration`` names ``jwks_uri``; ``GET /.well-known/jwks``
  publishes the public key (``kid`` = its RFC 7638 thumbprint).
- ``POST /_shipit/request-tokens`` with a profile makes another request token whose ID tokens
  differ from the default job's: ``repository``, ``workflow`` (file name), ``ref``,
  ``environment`` (``null`` for none), ``sha``, ``claims`` (raw overrides),
  ``expired: true`` (``exp`` in the past) or ``bad_signature: true`` (signed with a key the
  JWKS does not hold). It answers ``{"token", "url"}``. Profiles live in
  ``DATA/request-tokens.json`` (keyed by the token's SHA-256, never the token).
Fault rules (``shipit.sandbox.faults``) apply.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shipit.files import write_bytes_atomic
from shipit.redact import register
from shipit.sandbox._http import (
    OWNER_NAME,
    owner_name,
    read_json,
    server_arguments,
    token_server_main,
    write_json_atomic,
)
from shipit.sandbox.faults import FaultApp, FaultHandler
from shipit.sandbox.servers import TOKEN_PATH, new_request_token, request_url

JWKS_PATH = "/.well-known/jwks"
DISCOVERY_PATH = "/.well-known/openid-configuration"
LIFETIME_S = 300  # GitHub's ID tokens live minutes
DEFAULT_WORKFLOW = "release.yml"
DEFAULT_REF = "refs/heads/main"
DEFAULT_SHA = "0" * 40
PROFILE_KEYS = {
    "repository",
    "workflow",
    "ref",
    "environment",
    "sha",
    "claims",
    "expired",
    "bad_signature",
}


def numeric_id(text: str) -> int:
    """A stable number for a name (repository and owner ids, as GitHub gives them)."""
    return int(hashlib.sha256(text.lower().encode()).hexdigest()[:12], 16) % 1_000_000_000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """The sandbox's signing key, made once and kept (mode 0600) so tokens stay verifiable."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    except FileNotFoundError:
        pass
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_bytes_atomic(path, pem, mode=0o600)
    return key


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The public half as a JWK with its RFC 7638 thumbprint as ``kid``."""
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    canonical = json.dumps(
        {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    kid = jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def validate_profile(data: Any) -> dict[str, Any]:
    """A request-token profile from JSON; ValueError on unknown keys or bad values."""
    if not isinstance(data, dict):
        raise ValueError("a profile must be a JSON object")
    unknown = set(data) - PROFILE_KEYS
    if unknown:
        raise ValueError(f"unknown profile field(s): {', '.join(sorted(unknown))}")
    repo = data.get("repository")
    if repo is not None and (not isinstance(repo, str) or not OWNER_NAME.fullmatch(repo)):
        raise ValueError(f"repository must be owner/name, not {repo!r}")
    for key in ("workflow", "ref", "sha"):
        if key in data and not isinstance(data[key], str):
            raise ValueError(f"{key} must be a string")
    if data.get("environment") is not None and not isinstance(data["environment"], str):
        raise ValueError("environment must be a string or null")
    if "claims" in data and not isinstance(data["claims"], dict):
        raise ValueError("claims must be an object")
    for key in ("expired", "bad_signature"):
        if key in data and not isinstance(data[key], bool):
            raise ValueError(f"{key} must be true or false")
    return dict(data)


class Issuer(FaultApp):
    """Keys, request tokens and their profiles; signs ID tokens."""

    def __init__(
        self,
        data: Path,
        *,
        repo: str,
        request_tokens: list[str],
        workflow: str = DEFAULT_WORKFLOW,
        environment: str | None = None,
        log: Any = None,
    ) -> None:
        super().__init__(log)
        self.data = data
        self.repo = repo
        self.workflow = workflow
        self.environment = environment
        self.lock = threading.Lock()
        self.count = 0
        data.mkdir(parents=True, exist_ok=True)
        self.key = load_or_create_key(data / "signing-key.pem")
        self.jwk = public_jwk(self.key)
        self.profiles: dict[str, dict[str, Any]] = read_json(self.profiles_path, {})
        for token in request_tokens:
            self.profiles.setdefault(_digest(token), {})
        self.save()

    @property
    def profiles_path(self) -> Path:
        return self.data / "request-tokens.json"

    def save(self) -> None:
        write_json_atomic(self.profiles_path, self.profiles)
        self.profiles_path.chmod(0o600)

    def add_profile(self, profile: dict[str, Any]) -> str:
        token = new_request_token()
        with self.lock:
            self.profiles[_digest(token)] = profile
            self.save()
        return token

    def profile_of(self, request_token: str) -> dict[str, Any] | None:
        with self.lock:
            return self.profiles.get(_digest(request_token))

    def claims(self, profile: dict[str, Any], audience: str | None) -> dict[str, Any]:
        repo = str(profile.get("repository") or self.repo)
        owner = repo.split("/", 1)[0]
        ref = str(profile.get("ref") or DEFAULT_REF)
        workflow = str(profile.get("workflow") or self.workflow)
        environment = profile.get("environment", self.environment)
        sha = str(profile.get("sha") or DEFAULT_SHA)
        workflow_ref = f"{repo}/.github/workflows/{workflow}@{ref}"
        now = int(time.time())
        if profile.get("expired"):
            now -= 2 * LIFETIME_S
        with self.lock:
            self.count += 1
            run = self.count
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "sub": f"repo:{repo}:environment:{environment}"
            if environment
            else f"repo:{repo}:ref:{ref}",
            "aud": audience if audience is not None else f"https://github.com/{owner}",
            "ref": ref,
            "sha": sha,
            "repository": repo,
            "repository_owner": owner,
            "repository_owner_id": str(numeric_id(owner)),
            "repository_id": str(numeric_id(repo)),
            "repository_visibility": "private",
            "run_id": str(1000 + run),
            "run_number": str(run),
            "run_attempt": "1",
            "runner_environment": "github-hosted",
            "actor": "sandbox-user",
            "actor_id": "1",
            "workflow": workflow.rsplit(".", 1)[0],
            "head_ref": "",
            "base_ref": "",
            "event_name": "push",
            "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
            "ref_protected": "false",
            "workflow_ref": workflow_ref,
            "workflow_sha": sha,
            "job_workflow_ref": workflow_ref,
            "job_workflow_sha": sha,
            "iss": self.url,
            "nbf": now - 5,
            "iat": now,
            "exp": now + LIFETIME_S,
        }
        if environment:
            claims["environment"] = environment
        claims.update(profile.get("claims") or {})
        return claims

    def sign(self, claims: dict[str, Any], *, bad_signature: bool = False) -> str:
        key = rsa.generate_private_key(65537, 2048) if bad_signature else self.key
        headers = {"kid": self.jwk["kid"], "typ": "JWT", "x5t": self.jwk["kid"]}
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.url + JWKS_PATH,
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": [
                "sub",
                "aud",
                "exp",
                "iat",
                "iss",
                "jti",
                "nbf",
                "ref",
                "sha",
                "repository",
                "repository_id",
                "repository_owner",
                "repository_owner_id",
                "repository_visibility",
                "workflow",
                "workflow_ref",
                "job_workflow_ref",
                "environment",
                "actor",
                "run_id",
            ],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        }


class IssuerHandler(FaultHandler):
    """Routes the ID-token request, discovery and JWKS."""

    @property
    def issuer(self) -> Issuer:
        return cast(Issuer, self.app)

    def health(self) -> dict[str, Any]:
        return {"service": "oidc", "issuer": self.issuer.url}

    def admin_extra(self, path: str) -> None:
        if path == "/_shipit/request-tokens" and self.command == "POST":
            try:
                profile = validate_profile(self.read_json(1 << 16))
            except ValueError as exc:
                self.send_json(400, {"message": f"bad profile: {exc}"})
                return
            token = self.issuer.add_profile(profile)
            self.send_json(200, {"token": token, "url": request_url(self.issuer.url)})
        else:
            super().admin_extra(path)

    def route(self) -> None:
        path = self.url_path
        if self.command not in ("GET", "HEAD"):
            self.send_json(405, {"message": "Method Not Allowed"})
        elif path == DISCOVERY_PATH:
            self.send_json(200, self.issuer.discovery())
        elif path == JWKS_PATH:
            self.send_json(200, {"keys": [self.issuer.jwk]})
        elif path == TOKEN_PATH:
            self.id_token()
        else:
            self.send_json(404, {"message": "Not Found"})

    def id_token(self) -> None:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        profile = self.issuer.profile_of(value.strip()) if scheme.lower() == "bearer" else None
        if profile is None:
            # what Actions answers a request token it did not issue
            self.send_json(401, {"message": "Unauthorized: the request token is not valid"})
            return
        query = parse_qs(urlsplit(self.path).query)
        audiences = query.get("audience")
        audience = audiences[-1] if audiences else None
        claims = self.issuer.claims(profile, audience)
        token = self.issuer.sign(claims, bad_signature=bool(profile.get("bad_signature")))
        self.send_json(200, {"count": self.issuer.count, "value": token})


def main(argv: list[str] | None = None) -> int:
    parser = server_arguments(
        "python -m shipit.sandbox.oidc_issuer",
        "Local OIDC issuer behaving like GitHub Actions' ID-token endpoint.",
        "a request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN)",
    )
    parser.add_argument(
        "--repo", required=True, type=owner_name, help="owner/name of the job's repository"
    )
    parser.add_argument("--workflow", default=DEFAULT_WORKFLOW, help="the workflow's file name")
    parser.add_argument("--environment", help="the job's deployment environment")
    return token_server_main(parser, argv, IssuerHandler, _issuer)


def _issuer(args: argparse.Namespace, tokens: list[str], log: Any) -> Issuer:
    return Issuer(
        args.data,
        repo=args.repo,
        request_tokens=tokens,
        workflow=args.workflow,
        environment=args.environment,
        log=log,
    )


# --- client helper (tests, rehearsals) --------------------------------------------------------


def add_request_token(issuer_url: str, **profile: Any) -> str:
    """A new request token of the issuer whose ID tokens follow ``profile`` (see the module
    docstring: ``repository``, ``workflow``, ``expired``, ``bad_signature``, ...)."""
    from shipit.http import client

    with client(base_url=issuer_url.rstrip("/")) as http:
        response = http.post("/_shipit/request-tokens", json=profile)
        if response.status_code != 200:
            raise ValueError(f"profile refused: {response.status_code} {response.text}")
        token = str(response.json()["token"])
    register(token)
    return token


if __name__ == "__main__":
    sys.exit(main())
