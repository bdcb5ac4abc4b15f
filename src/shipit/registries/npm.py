"""The npm registry (npmjs, verdaccio, any registry npm speaks to): its package document and
``whoami``.

``Npm.read(name, version)`` reads ``GET {registry}/{name}`` (a scoped name's ``/`` sent as
``%2f``, as npm does) into one ``NpmVersion``: does the package exist, is this version there
and with which ``dist.integrity``, the dist-tags and every version. A 404 is "not there";
401/403 are a ``RegistryError`` about the token; the rest is classified by ``_http``.
The token (``NPM_TOKEN``) is sent as ``Authorization: Bearer`` and registered for redaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import httpx

from shipit import http
from shipit.config import Settings
from shipit.errors import RegistryError
from shipit.redact import register
from shipit.registries._http import get, json_dict, status_error

TOKEN_HINT = "Create a granular access token with publish rights and set NPM_TOKEN"


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
