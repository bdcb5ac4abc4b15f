"""What the sandbox registries trust: ID tokens signed by the sandbox's issuer, and per package
a trusted publisher (repository, optionally workflow file and environment).

``IssuerKeys(issuer).verify(jwt, audience=...)`` checks an ID token the way the registries do
(JWKS found through ``<iss>/.well-known/openid-configuration``, RS256 signature, ``iss``,
``aud``, ``exp``/``nbf``) and raises ``InvalidIdToken`` with the reason. A ``TrustList`` is
the registry's trusted-publisher settings, kept in a JSON file: entries
``{"package", "repository", "workflow", "environment"}`` where ``package`` ``"*"`` stands for
every package without an entry of its own. Tests change it through ``/_shipit/trust`` on the
registry (``set_trust``, ``reset_trust``, ``list_trust`` below).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from shipit.sandbox._http import read_json, write_json_atomic
from shipit.sandbox.faults import FaultHandler

ANY = "*"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "repository"]


class InvalidIdToken(Exception):
    """The ID token is malformed, expired, for another audience or not signed by the issuer."""


class IssuerKeys:
    """The trusted issuer's public keys, fetched once and again for an unknown ``kid``."""

    def __init__(self, issuer: str, *, timeout: float = 10.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.timeout = timeout
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _fetch(self) -> dict[str, Any]:
        from shipit.http import client

        with client(timeout=self.timeout) as http:
            discovery = http.get(self.issuer + "/.well-known/openid-configuration")
            discovery.raise_for_status()
            jwks_uri = discovery.json()["jwks_uri"]
            jwks = http.get(jwks_uri)
            jwks.raise_for_status()
        keys = {}
        for entry in jwks.json().get("keys", []):
            if isinstance(entry, dict) and isinstance(entry.get("kid"), str):
                keys[entry["kid"]] = jwt.PyJWK(entry).key
        return keys

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                try:
                    self._keys = self._fetch()
                # the issuer is down or answers nonsense: the token cannot be checked
                except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWKError) as exc:
                    raise InvalidIdToken(f"cannot fetch the issuer's keys: {exc}") from None
            key = self._keys.get(kid)
        if key is None:
            raise InvalidIdToken(f"invalid kid: {kid}")
        return key

    def verify(self, token: str, *, audience: str | None) -> dict[str, Any]:
        """The verified claims; ``audience`` None skips the ``aud`` check (JSR's way)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(f"malformed token: {exc}") from None
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidIdToken("missing kid")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(f"malformed token: {exc}") from None
        if unverified.get("iss") != self.issuer:
            raise InvalidIdToken(f"invalid issuer: {unverified.get('iss')}")
        try:
            return jwt.decode(
                token,
                self._key(kid),
                algorithms=["RS256"],
                audience=audience,
                issuer=self.issuer,
                options={"verify_aud": audience is not None, "require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidIdToken("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidIdToken(
                f"invalid audience {unverified.get('aud')!r} (expected {audience!r})"
            ) from None
        except jwt.InvalidSignatureError:
            raise InvalidIdToken("signature verification failed") from None
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(str(exc)) from None


def workflow_file(claims: Mapping[str, Any]) -> str | None:
    """``release.yml`` from ``owner/repo/.github/workflows/release.yml@refs/...``."""
    ref = claims.get("job_workflow_ref") or claims.get("workflow_ref")
    if not isinstance(ref, str) or "/.github/workflows/" not in ref:
        return None
    return ref.split("@", 1)[0].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Publisher:
    """One trusted publisher: who may publish ``package`` (``*`` = any without its own)."""

    package: str
    repository: str
    workflow: str | None = None
    environment: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Publisher:
        if not isinstance(data, Mapping):
            raise ValueError("a trusted publisher must be a JSON object")
        unknown = set(data) - {"package", "repository", "workflow", "environment"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        package, repository = data.get("package"), data.get("repository")
        if not isinstance(package, str) or not package:
            raise ValueError("package must be a name or *")
        if not isinstance(repository, str) or repository.count("/") != 1:
            raise ValueError("repository must be owner/name")
        for key in ("workflow", "environment"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"{key} must be a string or null")
        return cls(package, repository, data.get("workflow"), data.get("environment"))

    def describe(self) -> str:
        parts = [self.repository]
        if self.workflow:
            parts.append(f"workflow {self.workflow}")
        if self.environment:
            parts.append(f"environment {self.environment}")
        return ", ".join(parts)

    def matches(self, claims: Mapping[str, Any]) -> bool:
        if str(claims.get("repository", "")).lower() != self.repository.lower():
            return False
        if self.workflow and workflow_file(claims) != self.workflow:
            return False
        return not (self.environment and claims.get("environment") != self.environment)


def _identity(name: str) -> str:
    return name


class TrustList:
    """A registry's trusted publishers, persisted in ``path``; thread-safe."""

    def __init__(
        self,
        path: Path,
        *,
        default_repository: str | None,
        normalize: Callable[[str], str] = _identity,
    ) -> None:
        self.path = path
        self.normalize = normalize
        self.default = (
            [Publisher(ANY, default_repository)] if default_repository is not None else []
        )
        self._lock = threading.Lock()
        raw = read_json(path, None)
        if raw is None:
            self._entries = list(self.default)
            self._save()
        else:
            self._entries = [Publisher.from_dict(item) for item in raw]

    def _save(self) -> None:
        write_json_atomic(self.path, [asdict(p) for p in self._entries])

    def entries(self) -> list[Publisher]:
        with self._lock:
            return list(self._entries)

    def replace(self, publishers: list[Publisher]) -> None:
        """Set the publishers of each package named in ``publishers`` to exactly those."""
        names = {self.normalize(p.package) for p in publishers}
        with self._lock:
            kept = [p for p in self._entries if self.normalize(p.package) not in names]
            self._entries = kept + publishers
            self._save()

    def remove(self, package: str) -> None:
        """Forget ``package``'s own publishers (the ``*`` entries apply to it again)."""
        name = self.normalize(package)
        with self._lock:
            self._entries = [p for p in self._entries if self.normalize(p.package) != name]
            self._save()

    def reset(self) -> None:
        with self._lock:
            self._entries = list(self.default)
            self._save()

    def publishers_of(self, package: str) -> list[Publisher]:
        """The package's own publishers, else the ``*`` ones."""
        name = self.normalize(package)
        entries = self.entries()
        own = [p for p in entries if p.package != ANY and self.normalize(p.package) == name]
        return own or [p for p in entries if p.package == ANY]

    def refusal(self, package: str, claims: Mapping[str, Any]) -> str | None:
        """None when ``claims`` may publish ``package``, else why not."""
        publishers = self.publishers_of(package)
        if not publishers:
            return f"{package} has no trusted publisher"
        if any(p.matches(claims) for p in publishers):
            return None
        who = str(claims.get("repository"))
        workflow = workflow_file(claims)
        if workflow:
            who += f", workflow {workflow}"
        if claims.get("environment"):
            who += f", environment {claims.get('environment')}"
        trusted = "; ".join(p.describe() for p in publishers)
        return f"{package} trusts {trusted}, not {who}"

    def packages_for(self, claims: Mapping[str, Any]) -> list[str]:
        """The packages (and ``*``) whose publishers accept ``claims``."""
        return sorted({p.package for p in self.entries() if p.matches(claims)})

    def allows(self, granted: list[str], package: str, claims: Mapping[str, Any]) -> bool:
        """Whether a token minted for ``granted`` packages may publish ``package``."""
        name = self.normalize(package)
        if any(self.normalize(g) == name for g in granted if g != ANY):
            return True
        return ANY in granted and self.refusal(package, claims) is None

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in self.entries()]


def handle_admin(handler: FaultHandler, trust: TrustList, path: str) -> bool:
    """``/_shipit/trust``: GET lists, POST ``{"trust": [...]}`` replaces the publishers of the
    packages it names, DELETE ``?package=P`` forgets P's own, DELETE resets to the default.
    Returns False for any other path."""
    if path != "/_shipit/trust":
        return False
    if handler.command == "GET":
        handler.send_json(200, {"trust": trust.to_json()})
    elif handler.command == "POST":
        try:
            payload = handler.read_json(1 << 20)
            items = payload.get("trust") if isinstance(payload, dict) else payload
            if not isinstance(items, list):
                raise ValueError('expected {"trust": [...]}')
            trust.replace([Publisher.from_dict(item) for item in items])
        except (ValueError, json.JSONDecodeError) as exc:
            handler.send_json(400, {"message": f"bad trust entries: {exc}"})
            return True
        handler.send_json(200, {"trust": trust.to_json()})
    elif handler.command == "DELETE":
        handler.body.drain()
        package = parse_qs(urlsplit(handler.path).query).get("package")
        if package:
            trust.remove(package[0])
        else:
            trust.reset()
        handler.send_json(200, {"trust": trust.to_json()})
    else:
        handler.send_json(405, {"message": "Method Not Allowed"})
    return True


# --- client helpers (tests, rehearsals) -------------------------------------------------------


def set_trust(base_url: str, *publishers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Make each named package trust exactly the given publishers on a sandbox registry."""
    from shipit.http import client

    with client(base_url=base_url.rstrip("/")) as http:
        response = http.post("/_shipit/trust", json={"trust": [dict(p) for p in publishers]})
        if response.status_code != 200:
            raise ValueError(f"trust refused: {response.status_code} {response.text}")
        return cast(list[dict[str, Any]], response.json()["trust"])


def reset_trust(base_url: str, package: str | None = None) -> None:
    """Forget ``package``'s own trusted publishers, or (no package) restore the default."""
    from shipit.http import client

    with client(base_url=base_url.rstrip("/")) as http:
        params = {"package": package} if package else None
        http.delete("/_shipit/trust", params=params).raise_for_status()


def list_trust(base_url: str) -> list[dict[str, Any]]:
    """A sandbox registry's trusted publishers."""
    from shipit.http import client

    with client(base_url=base_url.rstrip("/")) as http:
        response = http.get("/_shipit/trust")
        response.raise_for_status()
        return cast(list[dict[str, Any]], response.json()["trust"])
