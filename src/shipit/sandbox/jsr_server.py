"""A faithful local JSR registry for tests and rehearsals, spoken to by the real ``deno publish``.

``python -m shipit.sandbox.jsr_server --port 0 --data DIR --token T [--auto-create]`` prints
``listening on http://127.0.0.1:PORT``; point deno at it with ``JSR_URL=http://127.0.0.1:PORT/``.

Implements the API of PROTOCOLS.md: version lookup, package lookup (bearer), the gzipped tarball
upload with ``?config=`` and asynchronous publish tasks (pending -> processing -> success or
failure after ``--processing-delay`` seconds), ``duplicateVersionPublish`` with a top-level
``task``, package/scope creation, the public ``meta.json`` / ``{version}_meta.json`` reads,
module files, and yanking; ``POST /_shipit/settle`` finishes pending tasks at once. Tokens
given with ``--token`` may publish; they are scope admins (may yank) unless
``--scope-admin-token`` names the admins explicitly. With no token configured at all, any
bearer token is accepted. ``--upstream URL`` (a rehearsal's JSR, e.g. https://jsr.io/) serves
the public reads of packages this registry does not hold from there, as jsr.io serves a
package it does not host from its fallback registry, so ``deno`` resolves a project's ``jsr:``
dependencies while publishing stays here; packages named with ``--local`` (the project's own)
are never read from the upstream. State lives under ``--data`` (``index.json`` plus
``tarballs/``) and survives a restart. Fault rules (``shipit.sandbox.faults``) apply.

GitHub Actions OIDC (``--oidc-issuer URL``): a publish with ``Authorization: githuboidc <ID
token>`` is checked as jsr.io does: the token must be signed by that issuer, its ``aud`` a JSON
document whose ``permissions`` include ``package/publish`` for this scope, package, version
and the uploaded tarball's ``sha256-`` hash; the package must exist (no auto-create) and be
linked to the token's ``repository`` (else 403 ``actorNotAuthorized``). Links are the
``githubRepository`` of the package answer, kept in ``links.json`` (``--trust-repo`` links every
package by default; tests change them with ``/_shipit/trust``, see ``oidc_trust``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import threading
import time
import uuid
import zlib
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit

import semver

from shipit.sandbox._http import (
    log_line,
    now_iso,
    read_json,
    server_arguments,
    token_server_main,
    write_json_atomic,
)
from shipit.sandbox.faults import FaultApp, FaultHandler
from shipit.sandbox.oidc_issuer import numeric_id
from shipit.sandbox.oidc_trust import InvalidIdToken, IssuerKeys, TrustList, handle_admin

MAX_TARBALL = 20 * 1024 * 1024
NOT_ADMIN = (
    "The actor that this request was authenticated for is not authorized as a scope admin for "
    "this scope."
)
SIMILAR_SCOPE = "A scope with this or a very similar name already exists."
SIMILAR_PACKAGE = "A package with this or a very similar name already exists."
MISSING_PERMISSION = (
    "The credential this request was authenticated with does not have the necessary "
    "permissions to perform this action."
)
NOT_AUTHORIZED = (
    "The actor that this request was authenticated for is not authorized to access this resource."
)
INVALID_OIDC = "The provided OIDC token is invalid: "
MAX_UNPACKED = 200 * 1024 * 1024
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,57}$")


class JsrError(Exception):
    """An API error answered as ``{"code", "message"}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def malformed(msg: str) -> JsrError:
    return JsrError(400, "malformedRequest", f"Malformed request: {msg}.")


def too_big(size: int) -> JsrError:
    return JsrError(
        413,
        "tarballSizeLimitExceeded",
        f"The uploaded tarball ({size} bytes) exceeds the maximum allowed size "
        f"({MAX_TARBALL} bytes).",
    )


def version_not_found() -> JsrError:
    return JsrError(404, "packageVersionNotFound", "The requested package version was not found.")


def normalize_exports(exports: Any) -> Any:
    """JSR's form of ``exports``: always an object (``"./mod.ts"`` -> ``{".": "./mod.ts"}``)."""
    return {".": exports} if isinstance(exports, str) else exports


def _strip_jsonc(text: str) -> str:
    """Remove // and /* */ comments and trailing commas (outside strings) from JSONC."""
    out: list[str] = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        ch = text[i]
        if in_str:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_str = False
            i += 1
        elif ch == '"':
            in_str = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _version_key(v: str) -> tuple[int, Any]:
    try:
        return (1, semver.Version.parse(v))
    except ValueError:
        return (0, v)


def check_tarball(
    data: bytes, config_path: str, scope: str, package: str, version: str
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, Any] | None]:
    """Unpack an upload: (manifest, config, error); error is a failed task's ``{code, message}``."""
    manifest: dict[str, dict[str, Any]] = {}
    files: dict[str, bytes] = {}
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        return {}, {}, {"code": "invalidTarball", "message": f"failed to decompress tarball: {exc}"}
    if len(raw) > MAX_UNPACKED:
        return {}, {}, {"code": "tarballSizeLimitExceeded", "message": "unpacked package too big"}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                name = member.name
                while name.startswith("./"):
                    name = name[2:]
                if member.isdir() or name in ("", "."):
                    continue
                if not member.isfile():
                    return (
                        {},
                        {},
                        {"code": "invalidEntryType", "message": f"unsupported entry {name}"},
                    )
                parts = name.split("/")
                if name.startswith("/") or ".." in parts or "\\" in name:
                    return {}, {}, {"code": "invalidPath", "message": f"invalid path {name!r}"}
                fh = tar.extractfile(member)
                content = fh.read() if fh is not None else b""
                path = "/" + name
                files[path] = content
                manifest[path] = {
                    "size": len(content),
                    "checksum": "sha256-" + hashlib.sha256(content).hexdigest(),
                }
    except tarfile.TarError as exc:
        return {}, {}, {"code": "invalidTarball", "message": f"failed to read tarball: {exc}"}
    if not config_path.startswith("/"):
        config_path = "/" + config_path
    if config_path not in files:
        return (
            manifest,
            {},
            {
                "code": "missingConfigFile",
                "message": f"the config file '{config_path}' was not found in the tarball",
            },
        )
    try:
        config = json.loads(_strip_jsonc(files[config_path].decode("utf-8")))
        if not isinstance(config, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        return (
            manifest,
            {},
            {"code": "invalidConfigFile", "message": f"failed to parse config file: {exc}"},
        )
    want_name = f"@{scope}/{package}"
    if config.get("name") != want_name:
        return (
            manifest,
            config,
            {
                "code": "invalidConfigFile",
                "message": f"invalid config file '{config_path}': name "
                f"'{config.get('name')}' does not match the package name '{want_name}'",
            },
        )
    # jsr's tarball.rs: a config without "version" is fine (deno publish --set-version leaves
    # the uploaded deno.json as it is); one that states another version is refused
    if config.get("version") is not None and str(config.get("version")) != version:
        return (
            manifest,
            config,
            {
                "code": "invalidConfigFile",
                "message": f"invalid config file '{config_path}': version "
                f"'{config.get('version')}' does not match the version being published "
                f"'{version}'",
            },
        )
    if "exports" not in config:
        return (
            manifest,
            config,
            {
                "code": "invalidConfigFile",
                "message": f"invalid config file '{config_path}': missing 'exports' field",
            },
        )
    return manifest, config, None


class JsrRegistry(FaultApp):
    """The registry state: scopes, packages, versions, publish tasks; persisted under ``data``."""

    def __init__(
        self,
        data: Path,
        *,
        tokens: list[str] | None = None,
        admin_tokens: list[str] | None = None,
        auto_create: bool = False,
        processing_delay: float = 0.5,
        oidc_issuer: str | None = None,
        trust_repo: str | None = None,
        upstream: str | None = None,
        local: list[str] | None = None,
        log: Any = None,
    ) -> None:
        super().__init__(log)
        self.data = data
        self.upstream = (upstream.rstrip("/") + "/") if upstream else None
        self.local = set(local or [])
        self.tokens = set(tokens or [])
        self.admin_tokens = set(admin_tokens or [])
        self.auto_create = auto_create
        self.processing_delay = processing_delay
        self.lock = threading.RLock()
        self.data.mkdir(parents=True, exist_ok=True)
        # GitHub Actions OIDC: tokens of this issuer; packages linked to repositories
        self.oidc = IssuerKeys(oidc_issuer) if oidc_issuer else None
        self.links = TrustList(self.data / "links.json", default_repository=trust_repo)
        (self.data / "tarballs").mkdir(exist_ok=True)
        self.state: dict[str, Any] = read_json(self.index_path, {"scopes": {}, "tasks": {}})
        self.state.setdefault("scopes", {})
        self.state.setdefault("tasks", {})

    @property
    def index_path(self) -> Path:
        return self.data / "index.json"

    def save(self) -> None:
        write_json_atomic(self.index_path, self.state)

    # --- auth -------------------------------------------------------------------------------
    def token_ok(self, token: str) -> bool:
        if not self.tokens and not self.admin_tokens:
            return bool(token)
        return token in self.tokens or token in self.admin_tokens

    def token_is_admin(self, token: str) -> bool:
        if self.admin_tokens:
            return token in self.admin_tokens
        return self.token_ok(token)

    def user_of(self, token: str) -> dict[str, Any]:
        uid = str(uuid.UUID(hashlib.sha256(token.encode()).hexdigest()[:32]))
        return {
            "id": uid,
            "name": "sandbox-user",
            "avatarUrl": "",
            "githubId": None,
            "isStaff": False,
            "isBlocked": False,
            "createdAt": "2024-01-01T00:00:00.000Z",
            "updatedAt": "2024-01-01T00:00:00.000Z",
        }

    # --- lookups ----------------------------------------------------------------------------
    def package(self, scope: str, name: str) -> dict[str, Any] | None:
        sc = self.state["scopes"].get(scope)
        if sc is None:
            return None
        return cast(dict[str, Any] | None, sc["packages"].get(name))

    def create_package(self, scope: str, name: str) -> dict[str, Any]:
        now = now_iso()
        sc = self.state["scopes"].setdefault(scope, {"createdAt": now, "packages": {}})
        pkg = sc["packages"].get(name)
        if pkg is None:
            pkg = {"createdAt": now, "updatedAt": now, "versions": {}, "description": ""}
            sc["packages"][name] = pkg
            self.save()
        return cast(dict[str, Any], pkg)

    def package_json(self, scope: str, name: str, pkg: dict[str, Any] | None) -> dict[str, Any]:
        versions = (pkg or {}).get("versions", {})
        return {
            "scope": scope,
            "name": name,
            "description": (pkg or {}).get("description", ""),
            "githubRepository": self.github_repository(f"@{scope}/{name}"),
            "runtimeCompat": {},
            "createdAt": (pkg or {}).get("createdAt", now_iso()),
            "updatedAt": (pkg or {}).get("updatedAt", now_iso()),
            "versionCount": len(versions),
            "score": None,
            "latestVersion": self.latest(versions),
            "whenFeatured": None,
            "isArchived": False,
        }

    def github_repository(self, package: str) -> dict[str, Any] | None:
        """The repository the package is linked to (its trusted publisher), as JSR shows it."""
        linked = self.links.publishers_of(package)
        if not linked:
            return None
        owner, name = linked[0].repository.split("/", 1)
        stamp = "2024-01-01T00:00:00.000Z"
        return {
            "id": numeric_id(linked[0].repository),
            "owner": owner,
            "name": name,
            "updatedAt": stamp,
            "createdAt": stamp,
        }

    @staticmethod
    def latest(versions: dict[str, Any]) -> str | None:
        # jsr's metadata.rs: the highest version neither yanked nor a pre-release, else null
        pool = [v for v, rec in versions.items() if not rec.get("yanked") and "-" not in v]
        return max(pool, key=_version_key) if pool else None

    def version_json(self, scope: str, name: str, version: str, rec: dict[str, Any]) -> Any:
        return {
            "scope": scope,
            "package": name,
            "version": version,
            "yanked": bool(rec.get("yanked")),
            "usesNpm": False,
            "newerVersionsCount": 0,
            "lifetimeDownloadCount": 0,
            "readmePath": None,
            "exports": rec.get("exports", {}),
            "rekorLogId": None,
            "createdAt": rec["createdAt"],
            "updatedAt": rec.get("updatedAt", rec["createdAt"]),
        }

    # --- tasks ------------------------------------------------------------------------------
    def settle(self) -> None:
        """Advance tasks whose processing time is over (success creates the version)."""
        now = time.time()
        changed = False
        for task in self.state["tasks"].values():
            if task["status"] in ("success", "failure") or now < task["_readyAt"]:
                continue
            changed = True
            task["updatedAt"] = now_iso()
            if task["_error"] is not None:
                task["status"] = "failure"
                task["error"] = task["_error"]
                continue
            pkg = self.create_package(task["packageScope"], task["packageName"])
            if task["packageVersion"] in pkg["versions"]:
                task["status"] = "failure"
                task["error"] = {"code": "duplicateVersionPublish", "message": "already exists"}
                continue
            pkg["versions"][task["packageVersion"]] = {
                "createdAt": task["updatedAt"],
                "updatedAt": task["updatedAt"],
                "taskId": task["id"],
                "tarball": task["_tarball"],
                "manifest": task["_manifest"],
                "exports": task["_exports"],
                "configPath": task["_config"],
            }
            pkg["updatedAt"] = task["updatedAt"]
            task["status"] = "success"
        if changed:
            self.save()

    def task_json(self, task: dict[str, Any]) -> dict[str, Any]:
        status = task["status"]
        if status == "pending" and time.time() >= task["_startAt"]:
            status = "processing"
        return {
            "id": task["id"],
            "status": status,
            "error": task["error"],
            "user": task["user"],
            "packageScope": task["packageScope"],
            "packageName": task["packageName"],
            "packageVersion": task["packageVersion"],
            "createdAt": task["createdAt"],
            "updatedAt": task["updatedAt"],
        }

    def refuse_second_publish(self, scope: str, name: str, version: str) -> None:
        """JSR's 400 ``duplicateVersionPublish`` (with the task) while another publish of this
        version is done or in flight."""
        existing = self.open_task(scope, name, version)
        if existing is not None:
            raise JsrError(
                400,
                "duplicateVersionPublish",
                "This version of the package is already being published.",
                task=self.task_json(existing),
            )

    def open_task(self, scope: str, name: str, version: str) -> dict[str, Any] | None:
        """The task that blocks another publish of this version (success or in flight)."""
        pkg = self.package(scope, name)
        if pkg is not None and version in pkg["versions"]:
            tid = pkg["versions"][version].get("taskId")
            task = self.state["tasks"].get(tid)
            if task is not None:
                return cast(dict[str, Any], task)
        for task in self.state["tasks"].values():
            if (
                task["packageScope"] == scope
                and task["packageName"] == name
                and task["packageVersion"] == version
                and task["status"] in ("pending", "processing", "success")
            ):
                return cast(dict[str, Any], task)
        return None

    def new_task(
        self, token: str, scope: str, name: str, version: str, tarball: bytes, config: str
    ) -> dict[str, Any]:
        tid = str(uuid.uuid4())
        rel = f"tarballs/{scope}/{name}/{version}-{tid[:8]}.tar.gz"
        path = self.data / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tarball)
        manifest, cfg, error = check_tarball(tarball, config, scope, name, version)
        now = time.time()
        stamp = now_iso()
        task = {
            "id": tid,
            "status": "pending",
            "error": None,
            "user": self.user_of(token),
            "packageScope": scope,
            "packageName": name,
            "packageVersion": version,
            "createdAt": stamp,
            "updatedAt": stamp,
            "_startAt": now + self.processing_delay / 2,
            "_readyAt": now + self.processing_delay,
            "_error": error,
            "_tarball": rel,
            "_manifest": manifest,
            "_exports": normalize_exports(cfg.get("exports", {})),
            "_config": config,
        }
        self.state["tasks"][tid] = task
        self.save()
        self.settle()
        return task


class JsrHandler(FaultHandler):
    """Routes JSR API and registry requests."""

    @property
    def reg(self) -> JsrRegistry:
        return cast(JsrRegistry, self.app)

    def health(self) -> dict[str, Any]:
        return {"service": "jsr"}

    def admin_extra(self, path: str) -> None:
        """``POST /_shipit/settle``: finish every pending publish task now (tests' clock)."""
        if path == "/_shipit/settle" and self.command == "POST":
            self.body.drain()
            reg = self.reg
            with reg.lock:
                now = time.time()
                ids = []
                for task in reg.state["tasks"].values():
                    if task["status"] not in ("success", "failure"):
                        task["_startAt"] = task["_readyAt"] = now
                        ids.append(task["id"])
                reg.settle()
            self.send_json(200, {"settled": ids})
        elif not handle_admin(self, self.reg.links, path):
            super().admin_extra(path)

    def authorization(self) -> tuple[str, str] | None:
        """``(scheme, credential)`` of the Authorization header, scheme in lower case."""
        auth = self.headers.get("Authorization", "")
        if not auth:
            return None
        scheme, _, value = auth.partition(" ")
        return scheme.lower(), value.strip()

    def bearer(self) -> str | None:
        found = self.authorization()
        if found is None:
            return None
        scheme, value = found
        if scheme == "githuboidc":
            # an ID token carries publish permissions and nothing else (jsr's iam.rs)
            self.oidc_claims(value)
            raise JsrError(403, "missingPermission", MISSING_PERMISSION)
        if scheme != "bearer" or not value:
            raise JsrError(401, "invalidBearerToken", "The provided bearer token is invalid.")
        return value

    def oidc_claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a GitHub Actions ID token (jsr's external/github.rs)."""
        keys = self.reg.oidc
        if keys is None:
            raise JsrError(401, "invalidOidcToken", f"{INVALID_OIDC}OIDC is not set up here")
        try:
            return keys.verify(token, audience=None)
        except InvalidIdToken as exc:
            raise JsrError(401, "invalidOidcToken", f"{INVALID_OIDC}{exc}") from None

    def oidc_publisher(self, token: str, scope: str, name: str, version: str) -> tuple[str, str]:
        """Check an OIDC publish as JSR does; returns (actor, the tarball hash it allows)."""
        claims = self.oidc_claims(token)
        try:
            aud = json.loads(str(claims.get("aud")))
            permissions = aud["permissions"]
            if not isinstance(permissions, list):
                raise ValueError("permissions is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise JsrError(
                401, "invalidOidcToken", f"{INVALID_OIDC}failed to parse 'aud': {exc}"
            ) from None
        allowed = next(
            (
                p
                for p in permissions
                if isinstance(p, dict)
                and p.get("permission") == "package/publish"
                and p.get("scope") == scope
                and p.get("package") == name
                and p.get("version") == version
            ),
            None,
        )
        if allowed is None:
            raise JsrError(403, "missingPermission", MISSING_PERMISSION)
        reg = self.reg
        with reg.lock:
            if scope not in reg.state["scopes"]:
                raise JsrError(404, "scopeNotFound", "The requested scope was not found.")
            if reg.package(scope, name) is None:
                raise self.missing_package(scope, name)
        if reg.links.refusal(f"@{scope}/{name}", claims) is not None:
            raise JsrError(403, "actorNotAuthorized", NOT_AUTHORIZED)
        return f"githuboidc:{claims.get('repository')}", str(allowed.get("tarballHash", ""))

    def require_token(self) -> str:
        token = self.bearer()
        if token is None:
            raise JsrError(401, "missingAuthentication", "This request requires authentication.")
        if not self.reg.token_ok(token):
            raise JsrError(401, "invalidBearerToken", "The provided bearer token is invalid.")
        return token

    def optional_token(self) -> str | None:
        token = self.bearer()
        if token is not None and not self.reg.token_ok(token):
            raise JsrError(401, "invalidBearerToken", "The provided bearer token is invalid.")
        return token

    def route(self) -> None:
        if self.reg.log is not None:
            shown = {
                k: ("***" if k.lower() == "authorization" else v) for k, v in self.headers.items()
            }
            log_line(self.reg.log, f"{self.command} {self.path} {json.dumps(shown)}")
        try:
            with self.reg.lock:
                self.reg.settle()
            self.dispatch()
        except JsrError as err:
            self.send_json(err.status, err.body())

    def not_found(self) -> JsrError:
        return JsrError(404, "notFound", "Route not found")

    def dispatch(self) -> None:
        path = self.url_path
        method = self.command if self.command != "HEAD" else "GET"
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"]:
            self.api(method, parts[1:])
        elif parts and parts[0].startswith("@"):
            self.registry(method, parts)
        else:
            raise self.not_found()

    # --- /api -------------------------------------------------------------------------------
    def api(self, method: str, p: list[str]) -> None:
        reg = self.reg
        if p == ["user"] and method == "GET":
            self.send_json(200, reg.user_of(self.require_token()))
        elif len(p) == 2 and p[0] == "publish_status" and method == "GET":
            with reg.lock:
                task = reg.state["tasks"].get(p[1])
                if task is None:
                    raise JsrError(404, "publishNotFound", "The requested publish was not found.")
                self.send_json(200, reg.task_json(task))
        elif p == ["scopes"] and method == "POST":
            self.require_token()
            scope = str(self.json_body().get("scope", ""))
            self.check_name(scope, "scope")
            with reg.lock:
                if scope in reg.state["scopes"]:
                    raise JsrError(409, "scopeAlreadyExists", SIMILAR_SCOPE)
                reg.state["scopes"][scope] = {"createdAt": now_iso(), "packages": {}}
                reg.save()
            self.send_json(200, {"scope": scope, "createdAt": now_iso()})
        elif len(p) == 2 and p[0] == "scopes" and method == "GET":
            with reg.lock:
                sc = reg.state["scopes"].get(p[1])
            if sc is None:
                raise JsrError(404, "scopeNotFound", "The requested scope was not found.")
            self.send_json(200, {"scope": p[1], "createdAt": sc["createdAt"]})
        elif len(p) == 3 and p[0] == "scopes" and p[2] == "packages":
            self.packages_collection(method, p[1])
        elif len(p) == 4 and p[0] == "scopes" and p[2] == "packages":
            self.package_endpoint(method, p[1], p[3])
        elif len(p) == 5 and p[0] == "scopes" and p[2] == "packages" and p[4] == "versions":
            self.versions_list(method, p[1], p[3])
        elif len(p) == 6 and p[0] == "scopes" and p[2] == "packages" and p[4] == "versions":
            self.version_endpoint(method, p[1], p[3], p[5])
        else:
            raise self.not_found()

    def json_body(self) -> dict[str, Any]:
        try:
            data = self.read_json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise malformed(f"failed to parse request body: {exc}") from exc
        if not isinstance(data, dict):
            raise malformed("expected a JSON object")
        return data

    @staticmethod
    def check_name(name: str, kind: str) -> None:
        if not NAME_RE.match(name):
            raise malformed(f"invalid {kind} name '{name}'")

    def packages_collection(self, method: str, scope: str) -> None:
        reg = self.reg
        if method == "GET":
            with reg.lock:
                sc = reg.state["scopes"].get(scope)
                if sc is None:
                    raise JsrError(404, "scopeNotFound", "The requested scope was not found.")
                items = [reg.package_json(scope, n, pk) for n, pk in sorted(sc["packages"].items())]
            self.send_json(200, items)
        elif method == "POST":
            self.require_token()
            name = str(self.json_body().get("package", ""))
            self.check_name(scope, "scope")
            self.check_name(name, "package")
            with reg.lock:
                if reg.package(scope, name) is not None:
                    raise JsrError(409, "packageAlreadyExists", SIMILAR_PACKAGE)
                pkg = reg.create_package(scope, name)
                self.send_json(200, reg.package_json(scope, name, pkg))
        else:
            raise self.not_found()

    def missing_package(self, scope: str, name: str) -> JsrError:
        origin = f"http://{self.headers.get('Host', '127.0.0.1')}"
        link = f"{origin}/new?scope={quote(scope)}&package={quote(name)}&from=cli"
        return JsrError(
            404, "packageNotFound", f"The requested package was not found. Create it at {link}"
        )

    def package_endpoint(self, method: str, scope: str, name: str) -> None:
        reg = self.reg
        if method != "GET":
            raise self.not_found()
        token = self.optional_token()
        with reg.lock:
            pkg = reg.package(scope, name)
            if pkg is None and not (reg.auto_create and token is not None):
                raise self.missing_package(scope, name)
            # auto-create: an authenticated look-up of a missing package answers as if it
            # existed; the package is created by the first upload.
            self.send_json(200, reg.package_json(scope, name, pkg))

    def versions_list(self, method: str, scope: str, name: str) -> None:
        reg = self.reg
        if method != "GET":
            raise self.not_found()
        with reg.lock:
            pkg = reg.package(scope, name)
            if pkg is None:
                raise self.missing_package(scope, name)
            items = [
                reg.version_json(scope, name, v, rec)
                for v, rec in sorted(
                    pkg["versions"].items(), key=lambda kv: _version_key(kv[0]), reverse=True
                )
            ]
        self.send_json(200, items)

    def version_endpoint(self, method: str, scope: str, name: str, version: str) -> None:
        reg = self.reg
        if method == "GET":
            with reg.lock:
                pkg = reg.package(scope, name)
                if pkg is None:
                    raise self.missing_package(scope, name)
                rec = pkg["versions"].get(version)
                if rec is None:
                    raise version_not_found()
                self.send_json(200, reg.version_json(scope, name, version, rec))
        elif method == "POST":
            self.publish(scope, name, version)
        elif method == "PATCH":
            token = self.require_token()
            body = self.json_body()
            with reg.lock:
                pkg = reg.package(scope, name)
                if pkg is None:
                    raise self.missing_package(scope, name)
                if not reg.token_is_admin(token):
                    raise JsrError(403, "actorNotScopeAdmin", NOT_ADMIN)
                rec = pkg["versions"].get(version)
                if rec is None:
                    raise version_not_found()
                if "yanked" in body:
                    if not isinstance(body["yanked"], bool):
                        raise malformed("'yanked' must be a boolean")
                    rec["yanked"] = body["yanked"]
                    rec["updatedAt"] = now_iso()
                    reg.save()
            self.send_empty(204)
        else:
            raise self.not_found()

    def publish(self, scope: str, name: str, version: str) -> None:
        """The upload, with jsr's order of checks: config, size, gzip, auth, package, dup."""
        reg = self.reg
        try:
            semver.Version.parse(version)
        except ValueError as exc:
            raise malformed(f"invalid version '{version}'") from exc
        query = parse_qs(urlsplit(self.path).query)
        config = (query.get("config") or [""])[0]
        if not config:
            raise malformed("Missing query parameter 'config'")
        declared = self.body.declared_length
        if declared is not None and declared > MAX_TARBALL:
            raise too_big(declared)
        if self.headers.get("Content-Encoding", "") != "gzip":
            raise JsrError(
                400,
                "missingGzipContentEncoding",
                "The uploaded content must be gzip encoded, and the content-encoding header "
                "must be set to 'gzip'.",
            )
        self.check_name(scope, "scope")
        self.check_name(name, "package")
        found = self.authorization()
        tarball_hash: str | None = None
        if found is not None and found[0] == "githuboidc":
            token, tarball_hash = self.oidc_publisher(found[1], scope, name, version)
        else:
            token = self.require_token()
        with reg.lock:
            if reg.package(scope, name) is None and not reg.auto_create:
                raise self.missing_package(scope, name)
            reg.refuse_second_publish(scope, name, version)
        tarball = self.body.read_all(MAX_TARBALL)
        if tarball is None:
            raise too_big(self.body.received)
        if tarball_hash is not None and tarball_hash != (
            "sha256-" + hashlib.sha256(tarball).hexdigest()
        ):
            raise JsrError(403, "missingPermission", MISSING_PERMISSION)
        with reg.lock:
            reg.settle()
            reg.refuse_second_publish(scope, name, version)
            if reg.package(scope, name) is None:
                reg.create_package(scope, name)
            task = reg.new_task(token, scope, name, version, tarball, config)
            self.send_json(200, reg.task_json(task))

    # --- registry (public files) -------------------------------------------------------------
    def registry(self, method: str, parts: list[str]) -> None:
        reg = self.reg
        if method != "GET" or len(parts) < 3:
            raise self.not_found()
        scope, name = parts[0][1:], parts[1]
        if "text/html" in self.headers.get("Accept", ""):
            page = f"<!DOCTYPE html><html><body>@{scope}/{name}</body></html>".encode()
            self.send_bytes(200, page, {"Content-Type": "text/html; charset=utf-8"})
            return
        with reg.lock:
            pkg = reg.package(scope, name)
            if pkg is None and reg.upstream and f"@{scope}/{name}" not in reg.local:
                self.relay_upstream("/".join(parts))
                return
            if pkg is None:
                raise self.missing_package(scope, name)
            pkg = json.loads(json.dumps(pkg))
        versions: dict[str, Any] = pkg["versions"]
        if len(parts) == 3 and parts[2] == "meta.json":
            meta_versions: dict[str, Any] = {}
            for v, rec in versions.items():
                entry: dict[str, Any] = {"createdAt": rec["createdAt"]}
                if rec.get("yanked"):
                    entry["yanked"] = True
                meta_versions[v] = entry
            self.send_json(
                200,
                {
                    "scope": scope,
                    "name": name,
                    "latest": reg.latest(versions),
                    "versions": meta_versions,
                },
            )
            return
        if len(parts) == 3 and parts[2].endswith("_meta.json"):
            version = parts[2][: -len("_meta.json")]
            rec = versions.get(version)
            if rec is None:
                raise version_not_found()
            self.send_json(
                200,
                {"manifest": rec["manifest"], "moduleGraph2": {}, "exports": rec["exports"]},
            )
            return
        version = parts[2]
        rec = versions.get(version)
        file_path = "/" + "/".join(parts[3:])
        if rec is None or file_path not in rec["manifest"]:
            raise self.not_found()
        content = self.read_member(rec, file_path)
        self.send_bytes(200, content, {"Content-Type": "application/octet-stream"})

    def relay_upstream(self, path: str) -> None:
        """Answer a public read of a package this registry does not hold from the upstream
        (its status, body and content type as they are)."""
        import httpx

        from shipit.http import client

        upstream = self.reg.upstream
        assert upstream is not None
        try:
            with client(timeout=30.0) as http:
                answer = http.get(upstream + path, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise JsrError(502, "upstreamUnreachable", f"{upstream}: {exc}") from None
        kind = answer.headers.get("Content-Type", "application/octet-stream")
        self.send_bytes(answer.status_code, answer.content, {"Content-Type": kind})

    def read_member(self, rec: dict[str, Any], file_path: str) -> bytes:
        raw = gzip.decompress((self.reg.data / rec["tarball"]).read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if "/" + member.name.lstrip("./") == file_path or (
                    "/" + member.name.removeprefix("./") == file_path
                ):
                    fh = tar.extractfile(member)
                    return fh.read() if fh is not None else b""
        raise self.not_found()


def main(argv: list[str] | None = None) -> int:
    parser = server_arguments(
        "python -m shipit.sandbox.jsr_server",
        "Local JSR test registry.",
        "a token that may publish",
    )
    parser.add_argument(
        "--scope-admin-token",
        action="append",
        default=[],
        help="a scope-admin token (may yank); when given, --token tokens are not admins",
    )
    parser.add_argument(
        "--auto-create", action="store_true", help="an authenticated publish creates the package"
    )
    parser.add_argument(
        "--processing-delay",
        type=float,
        default=0.5,
        help="seconds a publish task spends pending/processing",
    )
    parser.add_argument(
        "--oidc-issuer", help="accept `githuboidc` ID tokens of this issuer for publishing"
    )
    parser.add_argument(
        "--trust-repo", help="owner/name every package is linked to unless told otherwise"
    )
    parser.add_argument(
        "--upstream", help="serve reads of packages this registry does not hold from this JSR"
    )
    parser.add_argument(
        "--local",
        action="append",
        default=[],
        help="@scope/name never read from the upstream (the project's own package)",
    )
    return token_server_main(parser, argv, JsrHandler, _registry, tokens_required=False)


def _registry(args: argparse.Namespace, tokens: list[str], log: Any) -> JsrRegistry:
    return JsrRegistry(
        args.data,
        tokens=tokens,
        admin_tokens=args.scope_admin_token,
        auto_create=args.auto_create,
        processing_delay=args.processing_delay,
        oidc_issuer=args.oidc_issuer,
        trust_repo=args.trust_repo,
        upstream=args.upstream,
        local=args.local,
        log=log,
    )


if __name__ == "__main__":
    sys.exit(main())
