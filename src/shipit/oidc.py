"""Trusted publishing's ambient identity: which way each registry authenticates, whether this
job can get an OIDC ID token, the token itself, and what it says.

A GitHub Actions job with ``permissions: id-token: write`` has ``ACTIONS_ID_TOKEN_REQUEST_URL``
and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``; without that permission it has neither (PROTOCOLS.md,
"Trusted publishing"). ``choose`` decides per registry between its token and OIDC from
``[npm|jsr|pypi] auth`` (``auto`` by default: the token when one is set, else OIDC when the job
can get an ID token). ``fetch`` gets an ID token for an audience with PyPA's ``id`` (the
library pypa's publish action uses; it reads the process environment, which for shipit's CLI
is the environment the release runs in) and refuses an expired or malformed one with a clear
error. The token is registered for redaction and never shown. What the registries do with the
token is in ``shipit.registries``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from shipit.config import Config, Settings
from shipit.errors import OidcError, OidcTokenInvalid
from shipit.redact import register

Mode = Literal["token", "oidc", "none"]
REQUEST_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
PERMISSION_HINT = (
    "give the release job `permissions: { contents: write, id-token: write }` in the workflow "
    "(see examples/workflows/release.yml), then run `shipit check --only registry` there"
)
#: the variable holding each registry's token, as the messages name it
TOKEN_VARS = {"npm": "NPM_TOKEN", "jsr": "JSR_TOKEN", "pypi": "PYPI_TOKEN"}
#: each registry's name as messages write it
LABELS = {"npm": "npm", "jsr": "JSR", "pypi": "PyPI"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Ambient:
    """What the environment says about getting an ID token."""

    github_actions: bool
    request_url: str | None
    request_token: bool

    @classmethod
    def of(cls, env: Mapping[str, str]) -> Ambient:
        return cls(
            github_actions=env.get("GITHUB_ACTIONS", "").strip().lower() == "true",
            request_url=env.get(REQUEST_URL) or None,
            request_token=bool(env.get(REQUEST_TOKEN)),
        )

    @property
    def available(self) -> bool:
        return self.github_actions and bool(self.request_url) and self.request_token

    def unavailable_because(self) -> str | None:
        """None when an ID token can be requested, else why not (for messages)."""
        if not self.github_actions:
            return "this is not a GitHub Actions job (GITHUB_ACTIONS is not true)"
        missing = [
            name
            for name, present in (
                (REQUEST_URL, self.request_url),
                (REQUEST_TOKEN, self.request_token),
            )
            if not present
        ]
        if missing:
            return (
                "the job has no `id-token: write` permission: GitHub Actions did not set "
                + " and ".join(missing)
            )
        return None

    @property
    def sandbox(self) -> bool:
        """The ID tokens come from this machine (shipit's sandbox issuer), not from GitHub:
        Sigstore (provenance) will not accept them and cannot be reached offline anyway."""
        if not self.request_url:
            return False
        return urlsplit(self.request_url).hostname in LOOPBACK


@dataclass(frozen=True)
class Auth:
    """How one registry authenticates in this run, and why (for plan, status and check)."""

    registry: str
    mode: Mode
    why: str
    problem: str | None = None  # set when the chosen way cannot work here

    @property
    def oidc(self) -> bool:
        return self.mode == "oidc"

    def describe(self) -> str:
        label = {"token": "token", "oidc": "trusted publishing (OIDC)", "none": "no credentials"}
        return f"{label[self.mode]}: {self.why}"

    def to_json(self) -> dict[str, str | None]:
        return {
            "registry": self.registry,
            "mode": self.mode,
            "why": self.why,
            "problem": self.problem,
        }


def choose(registry: str, configured: str, token: str | None, env: Mapping[str, str]) -> Auth:
    """The way ``registry`` authenticates: ``configured`` is its ``auth`` setting."""
    var = TOKEN_VARS.get(registry, "the token")
    ambient = Ambient.of(env)
    if configured == "token":
        if token:
            return Auth(registry, "token", f'{var} is set ([{registry}] auth = "token")')
        return Auth(registry, "none", f'[{registry}] auth = "token"', problem=f"{var} is not set")
    if configured == "oidc":
        return Auth(
            registry,
            "oidc",
            f'[{registry}] auth = "oidc"',
            problem=ambient.unavailable_because(),
        )
    if token:
        return Auth(registry, "token", f"{var} is set")
    if ambient.available:
        return Auth(registry, "oidc", f"GitHub Actions job with id-token: write, and no {var}")
    reason = ambient.unavailable_because() or "no ID token"
    return Auth(
        registry, "none", f"no {var}", problem=f"trusted publishing is not possible: {reason}"
    )


def auth_of(registry: str, config: Config, settings: Settings, env: Mapping[str, str]) -> Auth:
    """How ``registry`` (npm, jsr or pypi) authenticates in this run."""
    configured = {"npm": config.npm.auth, "jsr": config.jsr.auth, "pypi": config.pypi.auth}
    tokens = {"npm": settings.npm_token, "jsr": settings.jsr_token, "pypi": settings.pypi_token}
    return choose(registry, configured[registry], tokens[registry], env)


def unavailable(auth: Auth, env: Mapping[str, str]) -> OidcError:
    """The error for trusted publishing that cannot work in this environment."""
    label = LABELS.get(auth.registry, auth.registry)
    return OidcError(
        f"trusted publishing to {label} is not possible here",
        why=Ambient.of(env).unavailable_because() or auth.problem,
        hint=f"{PERMISSION_HINT}; outside GitHub Actions set {TOKEN_VARS.get(auth.registry)} "
        f'or [{auth.registry}] auth = "token"',
    )


def wanted_but_unavailable(auth: Auth, env: Mapping[str, str]) -> bool:
    """Trusted publishing is the way (or the only way left in a GitHub Actions job without a
    token), and it cannot work here."""
    if auth.oidc:
        return auth.problem is not None
    return auth.mode == "none" and Ambient.of(env).github_actions


@dataclass(frozen=True)
class IdToken:
    """An OIDC ID token and its (unverified) claims; the token never appears in ``repr``."""

    raw: str = field(repr=False)
    claims: Mapping[str, Any]
    audience: str

    @property
    def repository(self) -> str | None:
        value = self.claims.get("repository")
        return value if isinstance(value, str) else None

    @property
    def workflow(self) -> str | None:
        """The workflow file (``release.yml``) of ``job_workflow_ref``/``workflow_ref``."""
        ref = self.claims.get("job_workflow_ref") or self.claims.get("workflow_ref")
        if not isinstance(ref, str) or "/.github/workflows/" not in ref:
            return None
        return ref.split("@", 1)[0].rsplit("/", 1)[-1]

    @property
    def environment(self) -> str | None:
        value = self.claims.get("environment")
        return value if isinstance(value, str) and value else None

    def identity(self) -> str:
        """``owner/repo, workflow release.yml, environment release`` (what a trust must name)."""
        parts = [self.repository or "(no repository claim)"]
        if self.workflow:
            parts.append(f"workflow {self.workflow}")
        if self.environment:
            parts.append(f"environment {self.environment}")
        return ", ".join(parts)


def decode_claims(raw: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (the registry verifies the signature)."""
    try:
        _, payload, _ = raw.split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise OidcTokenInvalid(
            "the ID token from GitHub Actions is malformed",
            why=f"it is not a JWT: {type(exc).__name__}",
            hint="re-run the job; if it persists, the ID-token endpoint is not GitHub's",
        ) from None
    if not isinstance(data, dict):
        raise OidcTokenInvalid(
            "the ID token from GitHub Actions is malformed",
            why="its payload is not a JSON object",
            hint="re-run the job; if it persists, the ID-token endpoint is not GitHub's",
        )
    return data


def check_times(claims: Mapping[str, Any], *, now: float | None = None, leeway: int = 30) -> None:
    """Refuse an expired (or not yet valid) ID token before a registry sees it."""
    now = time.time() if now is None else now
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float):
        raise OidcTokenInvalid(
            "the ID token from GitHub Actions has no expiry (`exp`)",
            hint="re-run the job; if it persists, the ID-token endpoint is not GitHub's",
        )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
    if exp + leeway < now:
        raise OidcTokenInvalid(
            "the ID token from GitHub Actions has expired",
            why=f"it expired at {stamp}, {int(now - exp)} seconds ago",
            hint="re-run the job (ID tokens live minutes) and check the runner's clock",
        )
    if isinstance(nbf, int | float) and nbf - leeway > now:
        raise OidcTokenInvalid(
            "the ID token from GitHub Actions is not valid yet",
            why=f"its `nbf` is {int(nbf - now)} seconds in the future",
            hint="check the runner's clock, then re-run the job",
        )


def fetch(audience: str, env: Mapping[str, str]) -> IdToken:
    """An ID token for ``audience`` from the job's ambient credentials (PyPA's ``id``)."""
    reason = Ambient.of(env).unavailable_because()
    if reason is not None:
        raise OidcError(
            "cannot get an OIDC ID token for trusted publishing", why=reason, hint=PERMISSION_HINT
        )
    import id as ambient_id  # imported here: only trusted publishing needs it

    try:
        raw = ambient_id.detect_credential(audience)
    except ambient_id.GitHubOidcPermissionCredentialError as exc:
        raise OidcError(
            "cannot get an OIDC ID token for trusted publishing", why=str(exc), hint=PERMISSION_HINT
        ) from None
    except ambient_id.IdentityError as exc:
        raise OidcTokenInvalid(
            f"GitHub Actions did not give an ID token for the audience {audience!r}",
            why=str(exc),
            hint="re-run the job; check https://www.githubstatus.com for Actions incidents",
        ) from None
    if raw is None:
        raise OidcError(
            "cannot get an OIDC ID token for trusted publishing",
            why="no CI identity was found in the environment",
            hint=PERMISSION_HINT,
        )
    register(raw)
    claims = decode_claims(raw)
    check_times(claims)
    return IdToken(raw=raw, claims=claims, audience=audience)
