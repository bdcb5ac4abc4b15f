"""JSR (jsr.io or any server that speaks its API): public metadata, the authenticated package
read, and yanking.

``Jsr.read(name, version)`` reads ``{JSR_URL}@scope/pkg/meta.json`` (versions, ``latest``,
``yanked``) and, when the version is there, ``{version}_meta.json`` (each file's
``sha256-<hex>`` checksum) into one ``JsrVersion``. API calls go where deno sends them:
``<origin>/api/`` (``https://api.jsr.io/`` for jsr.io). ``package_exists`` is the read deno
makes with the token before it publishes; ``yank`` is the undo (JSR versions cannot be
deleted). Accept is ``application/json`` (never ``text/html``, which JSR answers with a page).

Trusted publishing: in GitHub Actions ``deno publish`` sends the job's ID token itself
(``Authorization: githuboidc <JWT>``), and JSR accepts it only for a package linked to the
job's repository. ``preflight_oidc`` checks that beforehand from the package's public
``githubRepository`` (no token can be minted and thrown away on JSR).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from shipit import http, oidc
from shipit.config import Settings
from shipit.errors import OidcNotTrusted, PermanentError, RegistryError
from shipit.hashing import sha256_file
from shipit.redact import register
from shipit.registries._http import get, json_dict, send, status_error

TOKEN_HINT = (
    "create a JSR access token with publish rights (https://jsr.io/account/tokens/create) and "
    "set JSR_TOKEN, then run `shipit resume`"
)
_NAME = re.compile(r"@([a-z0-9-]+)/([a-z0-9-]+)")


def split_name(name: str) -> tuple[str, str]:
    """``@scope/pkg`` -> (scope, pkg); anything else is a PermanentError."""
    m = _NAME.fullmatch(name)
    if not m:
        raise PermanentError(
            f"{name!r} is not a JSR package name",
            hint='JSR names look like "@scope/package" (lower case, digits, dashes)',
        )
    return m.group(1), m.group(2)


def checksum(path: Path) -> str:
    """A local file's checksum in ``{version}_meta.json``'s form: ``sha256-<hex>``."""
    return "sha256-" + sha256_file(path)


@dataclass(frozen=True)
class JsrVersion:
    """What JSR holds for ``name`` and ``version``."""

    name: str
    version: str
    registry: str  # JSR_URL, with its slash
    package_exists: bool
    exists: bool
    yanked: bool = False
    latest: str | None = None  # meta.json's latest (null when only yanked/pre-releases)
    versions: tuple[str, ...] = ()
    yanked_versions: tuple[str, ...] = ()
    files: Mapping[str, str] | None = None  # "/mod.ts" -> "sha256-<hex>"; None: not read

    @property
    def url(self) -> str:
        """The version's page (the package's page when the version is not there)."""
        if self.exists:
            return f"{self.registry}{self.name}@{self.version}"
        return f"{self.registry}{self.name}"


def parse_meta(meta: Mapping[str, Any], name: str, version: str, registry: str) -> JsrVersion:
    """A package's ``meta.json`` as a ``JsrVersion`` (files not read yet)."""
    versions = meta.get("versions")
    versions = versions if isinstance(versions, dict) else {}
    entry = versions.get(version)
    yanked = tuple(
        str(v) for v, info in versions.items() if isinstance(info, dict) and info.get("yanked")
    )
    latest = meta.get("latest")
    return JsrVersion(
        name=name,
        version=version,
        registry=registry,
        package_exists=True,
        exists=isinstance(entry, dict),
        yanked=isinstance(entry, dict) and bool(entry.get("yanked")),
        latest=latest if isinstance(latest, str) else None,
        versions=tuple(str(v) for v in versions),
        yanked_versions=yanked,
    )


def parse_version_meta(data: Mapping[str, Any]) -> dict[str, str]:
    """``{version}_meta.json``'s ``manifest`` as path -> checksum."""
    manifest = data.get("manifest")
    files: dict[str, str] = {}
    if isinstance(manifest, dict):
        for path, info in manifest.items():
            if isinstance(info, dict) and isinstance(info.get("checksum"), str):
                files[str(path)] = info["checksum"]
    return files


class Jsr:
    """One JSR registry: public reads, and token reads/writes through its API."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float | None = None) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.token = token or None
        self.timeout = timeout
        if self.token:
            register(self.token)

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float | None = None) -> Jsr:
        return cls(settings.jsr_url, settings.jsr_token, timeout=timeout)

    @property
    def api_url(self) -> str:
        """deno's rule: the API lives at ``<origin>/api/`` (``api.jsr.io`` for jsr.io)."""
        parts = urlsplit(self.url)
        if parts.netloc == "jsr.io":
            return "https://api.jsr.io/"
        return f"{parts.scheme}://{parts.netloc}/api/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def package_api_url(self, name: str, version: str | None = None) -> str:
        scope, pkg = split_name(name)
        url = f"{self.api_url}scopes/{quote(scope)}/packages/{quote(pkg)}"
        return url + (f"/versions/{quote(version)}" if version else "")

    def new_package_url(self, name: str) -> str:
        """Where a person creates the package (the link deno prints)."""
        scope, pkg = split_name(name)
        return f"{self.url}new?scope={quote(scope)}&package={quote(pkg)}&from=cli"

    def versions_page(self, name: str) -> str:
        """Where a scope admin manages (yanks) versions."""
        return f"{self.url}{name}/versions"

    def create_package_hint(self, name: str) -> str:
        scope, _ = split_name(name)
        return f"`POST {self.api_url}scopes/{scope}/packages`"

    def _client(self, *, token: bool = False) -> httpx.Client:
        return http.client(
            token=self.token if token else None,
            headers={"Accept": "application/json"},
            timeout=self.timeout,
        )

    def read(self, name: str, version: str, *, files: bool = True) -> JsrVersion:
        """What JSR holds for ``name`` and ``version``; with ``files``, the version's file
        checksums too (one more request, only when the version is there)."""
        scope, pkg = split_name(name)
        what = f"cannot read {name} from JSR at {self.url}"
        with self._client() as c:
            meta_r = get(c, f"{self.url}@{scope}/{pkg}/meta.json", what)
            if meta_r.status_code == 404:
                return JsrVersion(name, version, self.url, package_exists=False, exists=False)
            if meta_r.status_code != 200:
                raise status_error(meta_r, what)
            answer = parse_meta(json_dict(meta_r, what), name, version, self.url)
            if not answer.exists or not files:
                return answer
            files_r = get(c, f"{self.url}@{scope}/{pkg}/{version}_meta.json", what)
            if files_r.status_code != 200:
                raise status_error(files_r, what)
            found = parse_version_meta(json_dict(files_r, what))
        return JsrVersion(
            name=answer.name,
            version=answer.version,
            registry=answer.registry,
            package_exists=True,
            exists=True,
            yanked=answer.yanked,
            latest=answer.latest,
            versions=answer.versions,
            yanked_versions=answer.yanked_versions,
            files=MappingProxyType(found),
        )

    def read_file(self, name: str, version: str, path: str) -> bytes:
        """One published file (``path`` as in ``{version}_meta.json``: ``/mod.ts``)."""
        scope, pkg = split_name(name)
        what = f"cannot read {path} of {name}@{version} from JSR at {self.url}"
        url = f"{self.url}@{scope}/{pkg}/{quote(version)}/{quote(path.lstrip('/'))}"
        with http.client(timeout=self.timeout) as c:
            response = get(c, url, what)
        if response.status_code != 200:
            raise status_error(response, what)
        return response.content

    def package_exists(self, name: str) -> bool:
        """The authenticated read deno makes before publishing: True when the package exists
        and the token may see it, False on 404; a refused token is a ``RegistryError``."""
        what = f"cannot read the JSR package {name} at {self.origin}"
        with self._client(token=True) as c:
            response = get(c, self.package_api_url(name), what)
        if response.status_code == 404:
            return False
        if response.status_code == 200:
            return True
        if response.status_code in (401, 403):
            raise RegistryError(
                f"JSR at {self.origin} rejected JSR_TOKEN",
                status=response.status_code,
                message=http.message_of(response),
                hint=TOKEN_HINT,
            )
        raise status_error(response, what)

    def linked_repository(self, name: str) -> str | None:
        """``owner/name`` the package is linked to (its ``githubRepository``), None when it
        is linked to none; a package that does not exist is ``OidcNotTrusted``."""
        what = f"cannot read the JSR package {name} at {self.origin}"
        with self._client() as c:
            response = get(c, self.package_api_url(name), what)
        if response.status_code == 404:
            raise OidcNotTrusted(
                f"JSR has no package {name}: trusted publishing cannot create one",
                why=f"{self.package_api_url(name)} answered 404",
                hint=f"create it at {self.new_package_url(name)} and link it to this GitHub "
                "repository in its settings, then `shipit check --only registry`",
            )
        if response.status_code != 200:
            raise status_error(response, what)
        linked = json_dict(response, what).get("githubRepository")
        if not isinstance(linked, dict):
            return None
        owner, repo = linked.get("owner"), linked.get("name")
        return f"{owner}/{repo}" if isinstance(owner, str) and isinstance(repo, str) else None

    def preflight_oidc(self, name: str, env: Mapping[str, str]) -> oidc.IdToken:
        """The job can get an ID token, and the package is linked to the job's repository."""
        id_token = oidc.fetch(json.dumps({"permissions": []}), env)
        linked = self.linked_repository(name)
        job = id_token.repository or "(no repository claim)"
        settings = f"{self.url}{name}/settings"
        if linked is None:
            raise OidcNotTrusted(
                f"the JSR package {name} is not linked to a GitHub repository",
                why="JSR accepts a GitHub Actions ID token only for a package linked to the "
                "job's repository",
                hint=f"link it to {job} at {settings}, then `shipit check --only registry`",
            )
        if linked.lower() != job.lower():
            raise OidcNotTrusted(
                f"the JSR package {name} is linked to {linked}, not to {job}",
                why="JSR accepts a GitHub Actions ID token only for a package linked to the "
                "job's repository",
                hint=f"link it to {job} at {settings} (or release from {linked}), then "
                "`shipit check --only registry`",
            )
        return id_token

    def yank(self, name: str, version: str) -> None:
        """``PATCH .../versions/{version}`` with ``{"yanked": true}`` (scope admins only).
        Yanking is idempotent: a lost answer is retried like a read. A refusal is a
        ``RegistryError`` whose ``errors`` hold JSR's ``code`` (``missingPermission``, ...)."""
        what = f"cannot yank {name}@{version}"
        with self._client(token=True) as c:
            response = send(
                c, "PATCH", self.package_api_url(name, version), what, json_body={"yanked": True}
            )
        if response.status_code in (200, 204):
            return
        failure = status_error(response, what)
        if isinstance(failure, RegistryError):
            failure.errors = [_body(response)]
        raise failure


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_code(failure: RegistryError) -> str:
    """JSR's own error code (``invalidBearerToken``, ``missingPermission``, ...) or ""."""
    for err in failure.errors:
        if isinstance(err.get("code"), str):
            return str(err["code"])
    return ""
