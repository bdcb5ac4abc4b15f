"""The npm registry (npmjs, verdaccio, any registry npm speaks to): its package document and
``whoami``.

``Npm.read(name, version)`` reads ``GET {registry}/{name}`` (a scoped name's ``/`` sent as
``%2f``, as npm does) into one ``NpmVersion``: does the package exist, is this version there
and with which ``dist.integrity``, the dist-tags and every version. A 404 is "not there";
401/403 are a ``RegistryError`` about the token; the rest is classified by ``_http``.
The token (``NPM_TOKEN``) is sent as ``Authorization: Bearer`` and registered for redaction.

Trusted publishing (OIDC): the npm CLI (11.5.1 or newer) does the exchange itself when it
publishes, and on any failure goes on silently without a token (PROTOCOLS.md). So shipit makes
the same exchange first, ``exchange_oidc`` (``POST /-/npm/v1/oidc/token/exchange/package/<name>``
with the job's ID token for the audience ``npm:<registry host>``), throws the token away, and
explains a refusal: no such package (trusted publishing cannot create one), not trusted for
this repository/workflow/environment, an ID token npm calls invalid. ``preflight_oidc`` adds
the npm version and ``package.json`` ``repository`` against the job's repository.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from shipit import http, oidc, proc
from shipit.config import Settings
from shipit.errors import (
    OidcNotTrusted,
    OidcTokenInvalid,
    RegistryError,
    ToolMissingError,
    ToolTooOld,
)
from shipit.git import github_repo_from_url
from shipit.redact import register
from shipit.registries._http import get, json_dict, send, status_error

TOKEN_HINT = "Create a granular access token with publish rights and set NPM_TOKEN"
#: the first npm that does trusted publishing (npm's docs)
OIDC_NPM = (11, 5, 1)
NPM_INSTALL_HINT = "install Node.js, which brings npm: https://nodejs.org/en/download"


def npm_version(env: Mapping[str, str]) -> str:
    """``npm --version`` of the npm on ``env``'s PATH."""
    npm = proc.require("npm", hint=NPM_INSTALL_HINT, env=env)
    result = proc.run([npm, "--version"], env=dict(env), timeout=60)
    version = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if not result.ok or not version:
        raise ToolMissingError(
            "`npm --version` did not answer",
            why=result.tail() or f"exit {result.returncode}",
            hint=NPM_INSTALL_HINT,
        )
    return version


def require_oidc_npm(env: Mapping[str, str]) -> str:
    """The npm version, when it can do trusted publishing; else ``ToolTooOld``."""
    version = npm_version(env)
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    if numbers < OIDC_NPM:
        needed = ".".join(map(str, OIDC_NPM))
        raise ToolTooOld(
            f"npm {version} cannot do trusted publishing (it needs {needed} or newer)",
            why="an older npm never asks for an ID token, so the publish would fail without "
            "a token",
            hint="update npm with `npm install -g npm@latest` (or use Node 24), then "
            "`shipit check --only registry`",
        )
    return version


def repository_of(manifest: Mapping[str, Any]) -> str | None:
    """``package.json`` ``repository`` as ``owner/name`` for GitHub (every form npm accepts:
    ``github:o/r``, ``o/r``, git/https/ssh URLs, ``{"url": ...}``), else the text as written;
    None when there is none."""
    value = manifest.get("repository")
    if isinstance(value, Mapping):
        value = value.get("url")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    shorthand = re.fullmatch(r"(?:github:)?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)", text)
    if shorthand:
        return shorthand.group(1)
    url = text.removeprefix("git+")
    if url.startswith("git://"):
        url = "https://" + url.removeprefix("git://")
    return github_repo_from_url(url) or text


def escaped_name(name: str) -> str:
    """npm-package-arg's ``escapedName``: a scoped name's ``/`` as ``%2f``."""
    return name.replace("/", "%2f")


def document_url(registry: str, name: str) -> str:
    """The package document's URL (a scoped name's ``/`` encoded as ``%2f``)."""
    return registry.rstrip("/") + "/" + quote(name, safe="@/").replace("/", "%2f")


@dataclass(frozen=True)
class NpmVersion:
    """What the registry holds for ``name`` and ``version``."""

    name: str
    version: str
    registry: str
    package_exists: bool  # the registry knows the package at all
    exists: bool  # this version is published
    integrity: str | None = None  # the version's dist.integrity
    latest: str | None = None  # dist-tags.latest
    dist_tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Every dist-tag, ``latest`` included."""
    versions: tuple[str, ...] = ()  # every published version, in the document's order

    @property
    def url(self) -> str:
        return document_url(self.registry, self.name)


def parse_document(doc: Mapping[str, Any], name: str, version: str, registry: str) -> NpmVersion:
    """An npm package document (full or abbreviated) as an ``NpmVersion``."""
    versions = doc.get("versions")
    versions = versions if isinstance(versions, dict) else {}
    tags_raw = doc.get("dist-tags")
    tags = (
        {str(k): str(v) for k, v in tags_raw.items() if isinstance(v, str)}
        if isinstance(tags_raw, dict)
        else {}
    )
    entry = versions.get(version)
    integrity = None
    if isinstance(entry, dict):
        dist = entry.get("dist")
        if isinstance(dist, dict) and isinstance(dist.get("integrity"), str):
            integrity = dist["integrity"]
    return NpmVersion(
        name=name,
        version=version,
        registry=registry,
        package_exists=True,
        exists=isinstance(entry, dict),
        integrity=integrity,
        latest=tags.get("latest"),
        dist_tags=MappingProxyType(tags),
        versions=tuple(str(v) for v in versions),
    )


class Npm:
    """One npm registry, read with an optional token."""

    def __init__(
        self,
        registry: str,
        token: str | None = None,
        *,
        timeout: float | None = None,
        tls: http.Tls | None = None,
    ) -> None:
        self.registry = registry if registry.endswith("/") else registry + "/"
        self.token = token or None
        self.timeout = timeout
        self.tls = tls if tls is not None else http.npm_tls()  # npm's cafile / strict-ssl too
        if self.token:
            register(self.token)

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float | None = None) -> Npm:
        return cls(settings.npm_registry, settings.npm_token, timeout=timeout)

    def _client(self) -> httpx.Client:
        return http.client(
            token=self.token,
            headers={"Accept": "application/json"},
            timeout=self.timeout,
            tls=self.tls,
        )

    def _token_refused(self, response: httpx.Response) -> RegistryError:
        return RegistryError(
            f"npm rejected the token for {self.registry}",
            status=response.status_code,
            message=http.message_of(response),
            hint=f"{TOKEN_HINT}.",
        )

    def read(self, name: str, version: str) -> NpmVersion:
        """The package document's answer for ``name`` and ``version``."""
        what = f"cannot read {name} from the npm registry {self.registry}"
        with self._client() as c:
            response = get(c, document_url(self.registry, name), what)
        if response.status_code == 404:
            return NpmVersion(name, version, self.registry, package_exists=False, exists=False)
        if response.status_code in (401, 403):
            raise self._token_refused(response)
        if response.status_code != 200:
            raise status_error(response, what)
        return parse_document(json_dict(response, what), name, version, self.registry)

    @property
    def audience(self) -> str:
        """The ID token's audience npm asks for: ``npm:<registry host name>``."""
        return f"npm:{urlsplit(self.registry).hostname}"

    def exchange_url(self, name: str) -> str:
        """npm resolves this absolute path against the registry: a path prefix is dropped."""
        parts = urlsplit(self.registry)
        return (
            f"{parts.scheme}://{parts.netloc}/-/npm/v1/oidc/token/exchange/package/"
            f"{escaped_name(name)}"
        )

    def exchange_oidc(self, name: str, id_token: oidc.IdToken) -> str:
        """The short-lived publish token npm gives for ``id_token`` (what ``npm publish``
        gets in Actions), or why npm refuses: ``OidcNotTrusted``, ``OidcTokenInvalid``."""
        what = f"cannot exchange the job's ID token at {self.registry}"
        with http.client(
            token=id_token.raw, headers={"Accept": "application/json"}, timeout=self.timeout
        ) as c:
            response = send(c, "POST", self.exchange_url(name), what)
        if response.is_success:
            token = json_dict(response, what).get("token")
            if isinstance(token, str) and token:
                register(token)
                return token
            raise OidcNotTrusted(
                f"npm answered the token exchange for {name} without a token",
                why=f"{self.registry} answered {response.status_code}",
                hint="check NPM_CONFIG_REGISTRY, then `shipit check --only registry`",
            )
        message = http.message_of(response)
        if response.status_code == 401:
            raise OidcTokenInvalid(
                "npm rejected the job's ID token as invalid",
                why=f"{self.registry} answered 401: {message}",
                hint="re-run the job; if it persists, check that NPM_CONFIG_REGISTRY is the "
                "real registry, then `shipit check --only registry`",
            )
        if response.status_code in (400, 403, 404):
            raise self._not_trusted(name, id_token, f"answered {response.status_code}: {message}")
        raise status_error(response, what)

    def _not_trusted(self, name: str, id_token: oidc.IdToken, answer: str) -> OidcNotTrusted:
        """npm says "package not found" for a missing package and for a trust that does not
        match alike: the package document tells them apart."""
        if not self.read(name, "0.0.0").package_exists:
            return OidcNotTrusted(
                f"npm has no package {name}: trusted publishing cannot create one",
                why=f"the token exchange at {self.registry} {answer}",
                hint="publish its first version once with a token (NPM_TOKEN, `npm publish`), "
                "then add the trusted publisher on npmjs.com; see docs/release-process.md, "
                '"Trusted publishing"',
            )
        repo = id_token.repository or "<owner>/<repo>"
        command = f"npm trust github {name} --repo {repo} --file {id_token.workflow or '<file>'}"
        if id_token.environment:
            command += f" --environment {id_token.environment}"
        return OidcNotTrusted(
            f"npm does not trust {id_token.identity()} to publish {name}",
            why=f"the token exchange at {self.registry} {answer}",
            hint=f"add this trusted publisher on npmjs.com (package settings, Trusted "
            f"publishing) or with `{command} --allow-publish`, then "
            "`shipit check --only registry`",
        )

    def preflight_oidc(
        self, name: str, manifest: Mapping[str, Any], env: Mapping[str, str]
    ) -> oidc.IdToken:
        """Everything ``npm publish`` needs for trusted publishing, checked without
        publishing: npm's version, the job's ID token, ``package.json`` ``repository`` and
        the exchange itself (its token is thrown away)."""
        require_oidc_npm(env)
        id_token = oidc.fetch(self.audience, env)
        declared = repository_of(manifest)
        job = id_token.repository
        if job and declared and declared.lower() != job.lower():
            raise OidcNotTrusted(
                f"package.json `repository` names {declared}, but this job runs in {job}",
                why="npm publishes by trusted publishing only for the repository the package "
                "says it comes from",
                hint=f'set "repository": "github:{job}" in package.json (or run the release '
                f"from {declared}), then `shipit check --only registry`",
            )
        if not declared and id_token.claims.get("repository_visibility") == "public":
            raise OidcNotTrusted(
                "package.json has no `repository`",
                why="npm adds provenance on its own when a public repository publishes by "
                "trusted publishing, and refuses provenance without `repository`",
                hint=f'add "repository": "github:{job}" to package.json, then '
                "`shipit check --only registry`",
            )
        self.exchange_oidc(name, id_token)
        return id_token

    def whoami(self) -> str | None:
        """The user the token belongs to; None when the registry names nobody (verdaccio
        answers an unknown token as an anonymous user: ``200 {}``)."""
        what = f"cannot ask the npm registry {self.registry} who the token belongs to"
        with self._client() as c:
            response = get(c, self.registry + "-/whoami", what)
        if response.status_code in (401, 403):
            raise self._token_refused(response)
        if response.status_code != 200:
            raise status_error(response, what)
        if not response.content:
            return None
        try:
            user = response.json().get("username")
        except (ValueError, AttributeError):
            return None
        return user if isinstance(user, str) and user else None
