"""A local GitHub REST test server: repositories, releases, assets, tags, rate limits.

``python -m shipit.sandbox.github_server --port 0 --data DIR --token T --repo owner/name``
prints ``listening on http://127.0.0.1:PORT``; use that URL as ``GITHUB_API_URL``.

Speaks the REST calls of PROTOCOLS.md with GitHub's JSON shapes: ``GET /repos/{o}/{r}``
(``permissions.push``), create/list/get/update/delete releases (drafts are listed for tokens
with push access and are never returned by ``/releases/tags/{tag}``), asset upload on the
``upload_url`` template (``/uploads/repos/...`` on the same port; raw body streamed to disk
with its size and sha256 ``digest``), asset list/get/delete, downloads through
``browser_download_url`` (``/{o}/{r}/releases/download/{tag}/{name}``), tag refs (created when a
release is published, ``POST /git/refs``, ``DELETE /git/refs/tags/{tag}``), 401/404/422 errors,
and ``x-ratelimit-*`` headers on every answer (``--rate-limit N`` or
``POST /_shipit/rate_limit {"remaining": 0, "reset_in": 60, "status": 403}``).

Cut-off uploads: an upload that ends before its ``Content-Length`` leaves the asset in state
``starter`` with size 0 (as on GitHub); it blocks its name until deleted. A fault rule on the
upload path with ``"asset_state": "starter"`` does the same on purpose: with ``status`` the
asset is left behind and the fault status answered (GitHub's 502), with ``drop_after_body`` the
body is read, the asset left in ``starter`` and the connection closed. Without ``asset_state``,
``drop_after_body`` completes the upload (state ``uploaded``) and then closes without answering.

``--immutable`` turns on immutable releases: a published release takes no more assets and its
tag name can never be used again. State lives under ``--data`` and survives a restart.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import math
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from shipit.sandbox._http import (
    CHUNK,
    ClientGone,
    now_iso_seconds,
    owner_name,
    read_json,
    server_arguments,
    token_server_main,
    write_json_atomic,
)
from shipit.sandbox.faults import FaultApp, FaultHandler, FaultRule

DOCS = "https://docs.github.com/rest"
USER = {"login": "sandbox-user", "id": 1, "node_id": "U_sandbox", "type": "User"}


@dataclasses.dataclass(eq=False)
class GhError(Exception):
    """An API error answered as ``{"message", "documentation_url", "errors"?}``."""

    status: int
    message: str
    errors: list[dict[str, Any]] | None = None
    doc: str = DOCS
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.doc
        out["status"] = str(self.status)
        return out


def not_found() -> GhError:
    return GhError(404, "Not Found")


def validation(resource: str, code: str, field: str, **more: Any) -> GhError:
    return GhError(
        422, "Validation Failed", [{"resource": resource, "code": code, "field": field, **more}]
    )


def safe_asset_name(name: str) -> str:
    """GitHub's renaming of asset names: special characters become dots, no edge dots."""
    cleaned = re.sub(r"[^A-Za-z0-9._+\-@]", ".", name).strip(".")
    return cleaned or "default"


class RateLimit:
    """One primary rate-limit window shared by all tokens (like one user)."""

    def __init__(self, limit: int, window: float = 3600.0) -> None:
        self.limit = limit
        self.window = window
        self.used = 0
        self.reset_at = time.time() + window
        self.status = 403
        self.lock = threading.Lock()

    def _roll(self) -> None:
        if time.time() >= self.reset_at:
            self.used = 0
            self.reset_at = time.time() + self.window

    def consume(self) -> bool:
        """Count one request; False when the limit is exhausted."""
        with self.lock:
            self._roll()
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    def headers(self) -> dict[str, str]:
        with self.lock:
            self._roll()
            return {
                "x-ratelimit-limit": str(self.limit),
                "x-ratelimit-remaining": str(max(0, self.limit - self.used)),
                "x-ratelimit-reset": str(math.ceil(self.reset_at)),
                "x-ratelimit-used": str(self.used),
                "x-ratelimit-resource": "core",
            }

    def set(
        self,
        limit: int | None = None,
        remaining: int | None = None,
        reset_in: float | None = None,
        status: int | None = None,
    ) -> None:
        with self.lock:
            if limit is not None:
                self.limit = limit
            if reset_in is not None:
                self.reset_at = time.time() + reset_in
            if remaining is not None:
                self.used = max(0, self.limit - remaining)
            if status is not None:
                self.status = status


class GitHubState(FaultApp):
    """Repositories, releases, assets and tags, persisted under ``data``."""

    def __init__(
        self,
        data: Path,
        *,
        tokens: list[str],
        read_tokens: list[str] | None = None,
        repos: list[str],
        immutable: bool = False,
        rate_limit: int = 5000,
        log: Any = None,
    ) -> None:
        super().__init__(log)
        self.data = data
        self.tokens = set(tokens)
        self.read_tokens = set(read_tokens or [])
        self.repos = {r.lower(): r for r in repos}
        self.immutable = immutable
        self.rate = RateLimit(rate_limit)
        self.lock = threading.RLock()
        (data / "assets").mkdir(parents=True, exist_ok=True)
        self.state: dict[str, Any] = read_json(data / "state.json", {})
        for key, default in (("next_id", 1000), ("releases", {}), ("assets", {}), ("tags", {})):
            self.state.setdefault(key, default)
        self.state.setdefault("burnt_tags", {})
        for repo in repos:
            self.state["tags"].setdefault(repo.lower(), {})
            self.state["burnt_tags"].setdefault(repo.lower(), [])

    def save(self) -> None:
        write_json_atomic(self.data / "state.json", self.state)

    def new_id(self) -> int:
        self.state["next_id"] += 1
        return int(self.state["next_id"])

    def asset_path(self, asset_id: int) -> Path:
        return self.data / "assets" / str(asset_id)

    def releases_of(self, repo: str) -> list[dict[str, Any]]:
        rels = [r for r in self.state["releases"].values() if r["repo"] == repo]
        return sorted(rels, key=lambda r: int(r["id"]), reverse=True)

    def assets_of(self, release_id: int) -> list[dict[str, Any]]:
        items = [a for a in self.state["assets"].values() if a["release_id"] == release_id]
        return sorted(items, key=lambda a: int(a["id"]))

    def published_for_tag(self, repo: str, tag: str) -> dict[str, Any] | None:
        for rel in self.releases_of(repo):
            if not rel["draft"] and rel["tag_name"] == tag:
                return rel
        return None


class GitHubHandler(FaultHandler):
    """Routes GitHub REST, upload and download requests."""

    token: str | None

    @property
    def gh(self) -> GitHubState:
        return cast(GitHubState, self.app)

    def health(self) -> dict[str, Any]:
        return {"service": "github"}

    def extra_headers(self) -> dict[str, str]:
        return {
            **self.gh.rate.headers(),
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
        }

    @property
    def base(self) -> str:
        return f"http://{self.headers.get('Host') or '127.0.0.1'}"

    # --- entry ------------------------------------------------------------------------------
    def route(self) -> None:
        try:
            self.dispatch()
        except GhError as err:
            self.send_json(err.status, err.body(), err.headers)

    def auth(self) -> str:
        """The caller's token; 401 when missing or unknown; counts against the rate limit."""
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if not header:
            raise GhError(401, "Requires authentication", doc=f"{DOCS}/overview/authentication")
        if scheme.lower() not in ("bearer", "token") or not (
            value in self.gh.tokens or value in self.gh.read_tokens
        ):
            raise GhError(401, "Bad credentials", doc=DOCS)
        if not self.gh.rate.consume():
            raise GhError(
                self.gh.rate.status,
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
                "help, please include the request ID.",
                doc=f"{DOCS}/overview/rate-limits-for-the-rest-api",
            )
        return value

    def can_push(self, token: str) -> bool:
        return token in self.gh.tokens

    def need_push(self, token: str) -> None:
        if not self.can_push(token):
            raise GhError(403, "Resource not accessible by personal access token")

    def repo_key(self, owner: str, name: str) -> str:
        key = f"{owner}/{name}".lower()
        if key not in self.gh.repos:
            raise not_found()
        return key

    def dispatch(self) -> None:
        path = self.url_path
        parts = [unquote(p) for p in path.split("/") if p]
        method = "GET" if self.command == "HEAD" else self.command
        if parts[:2] == ["uploads", "repos"] and len(parts) == 7:
            _, _, owner, name, rel, rid, assets = parts
            if rel == "releases" and assets == "assets" and method == "POST":
                self.upload(owner, name, rid)
                return
            raise not_found()
        if len(parts) >= 6 and parts[2:4] == ["releases", "download"] and method == "GET":
            self.download(parts[0], parts[1], parts[4], "/".join(parts[5:]))
            return
        if parts == ["user"] and method == "GET":
            self.auth()
            self.send_json(200, USER)
            return
        if parts == ["rate_limit"] and method == "GET":
            self.send_json(200, {"resources": {"core": self.gh.rate.headers()}})
            return
        if len(parts) >= 3 and parts[0] == "repos":
            token = self.auth()
            key = self.repo_key(parts[1], parts[2])
            self.repo_routes(method, token, key, parts[3:])
            return
        self.auth()
        raise not_found()

    def repo_routes(self, method: str, token: str, key: str, rest: list[str]) -> None:
        with self.gh.lock:
            if not rest and method == "GET":
                self.send_json(200, self.repo_json(key, token))
            elif rest == ["releases"] and method == "GET":
                self.list_releases(key, token)
            elif rest == ["releases"] and method == "POST":
                self.create_release(key, token)
            elif rest == ["releases", "latest"] and method == "GET":
                rels = [
                    r for r in self.gh.releases_of(key) if not r["draft"] and not r["prerelease"]
                ]
                if not rels:
                    raise not_found()
                latest = max(rels, key=lambda r: r["published_at"])
                self.send_json(200, self.release_json(latest))
            elif len(rest) >= 3 and rest[:2] == ["releases", "tags"] and method == "GET":
                rel = self.gh.published_for_tag(key, "/".join(rest[2:]))
                if rel is None:
                    raise not_found()
                self.send_json(200, self.release_json(rel))
            elif len(rest) == 3 and rest[:2] == ["releases", "assets"]:
                self.asset_routes(method, token, key, rest[2])
            elif len(rest) == 2 and rest[0] == "releases":
                self.release_routes(method, token, key, rest[1])
            elif len(rest) == 3 and rest[0] == "releases" and rest[2] == "assets":
                rel = self.find_release(key, rest[1], token)
                if method != "GET":
                    raise not_found()
                items = [self.asset_json(a, rel) for a in self.gh.assets_of(int(rel["id"]))]
                self.send_paged(items)
            elif rest == ["git", "refs"] and method == "POST":
                self.create_ref(key, token)
            elif len(rest) >= 4 and rest[:3] in (["git", "refs", "tags"], ["git", "ref", "tags"]):
                self.tag_ref(method, token, key, "/".join(rest[3:]))
            elif rest == ["tags"] and method == "GET":
                tags = sorted(self.gh.state["tags"][key].items(), reverse=True)
                self.send_paged([{"name": t, "commit": {"sha": info["sha"]}} for t, info in tags])
            else:
                raise not_found()

    # --- JSON shapes ------------------------------------------------------------------------
    def repo_json(self, key: str, token: str) -> dict[str, Any]:
        full = self.gh.repos[key]
        owner, name = full.split("/", 1)
        push = self.can_push(token)
        rid = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
        return {
            "id": rid,
            "node_id": f"R_{rid}",
            "name": name,
            "full_name": full,
            "private": True,
            "owner": {"login": owner, "id": 1, "type": "User"},
            "html_url": f"{self.base}/{full}",
            "url": f"{self.base}/repos/{full}",
            "default_branch": "main",
            "archived": False,
            "disabled": False,
            "visibility": "private",
            "permissions": {
                "admin": push,
                "maintain": push,
                "push": push,
                "triage": push,
                "pull": True,
            },
        }

    def release_json(self, rel: dict[str, Any]) -> dict[str, Any]:
        full = self.gh.repos[rel["repo"]]
        api = f"{self.base}/repos/{full}/releases/{rel['id']}"
        slug = rel["untagged"] if rel["draft"] else rel["tag_name"]
        return {
            "url": api,
            "assets_url": f"{api}/assets",
            "upload_url": f"{self.base}/uploads/repos/{full}/releases/{rel['id']}/assets"
            "{?name,label}",
            "html_url": f"{self.base}/{full}/releases/tag/{quote(slug)}",
            "id": rel["id"],
            "author": USER,
            "node_id": "RE_" + base64.b64encode(str(rel["id"]).encode()).decode(),
            "tag_name": rel["tag_name"],
            "target_commitish": rel["target_commitish"],
            "name": rel["name"],
            "draft": rel["draft"],
            "immutable": bool(rel.get("immutable")),
            "prerelease": rel["prerelease"],
            "created_at": rel["created_at"],
            "updated_at": rel["updated_at"],
            "published_at": rel["published_at"],
            "assets": [self.asset_json(a, rel) for a in self.gh.assets_of(int(rel["id"]))],
            "tarball_url": f"{self.base}/repos/{full}/tarball/{quote(rel['tag_name'])}",
            "zipball_url": f"{self.base}/repos/{full}/zipball/{quote(rel['tag_name'])}",
            "body": rel["body"],
        }

    def asset_json(self, asset: dict[str, Any], rel: dict[str, Any]) -> dict[str, Any]:
        full = self.gh.repos[rel["repo"]]
        slug = rel["untagged"] if rel["draft"] else rel["tag_name"]
        return {
            "url": f"{self.base}/repos/{full}/releases/assets/{asset['id']}",
            "id": asset["id"],
            "node_id": "RA_" + base64.b64encode(str(asset["id"]).encode()).decode(),
            "name": asset["name"],
            "label": asset["label"],
            "uploader": USER,
            "content_type": asset["content_type"],
            "state": asset["state"],
            "size": asset["size"],
            "digest": asset["digest"],
            "download_count": asset["download_count"],
            "created_at": asset["created_at"],
            "updated_at": asset["updated_at"],
            "browser_download_url": f"{self.base}/{full}/releases/download/"
            f"{quote(slug)}/{quote(asset['name'])}",
        }

    def send_paged(self, items: list[Any], status: int = 200) -> None:
        query = parse_qs(urlsplit(self.path).query)
        try:
            per_page = min(100, max(1, int((query.get("per_page") or ["30"])[0])))
            page = max(1, int((query.get("page") or ["1"])[0]))
        except ValueError:
            per_page, page = 30, 1
        pages = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if pages > 1:
            base = f"{self.base}{urlsplit(self.path).path}"
            links = []
            if page < pages:
                links.append(
                    f'<{base}?{urlencode({"per_page": per_page, "page": page + 1})}>; rel="next"'
                )
                links.append(
                    f'<{base}?{urlencode({"per_page": per_page, "page": pages})}>; rel="last"'
                )
            if page > 1:
                links.append(
                    f'<{base}?{urlencode({"per_page": per_page, "page": page - 1})}>; rel="prev"'
                )
                links.append(
                    f'<{base}?{urlencode({"per_page": per_page, "page": 1})}>; rel="first"'
                )
            headers["Link"] = ", ".join(links)
        self.send_json(status, chunk, headers)

    # --- releases ---------------------------------------------------------------------------
    def json_object(self) -> dict[str, Any]:
        try:
            data = self.read_json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise GhError(400, f"Problems parsing JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise GhError(400, "Problems parsing JSON")
        return data

    def find_release(self, key: str, rid: str, token: str) -> dict[str, Any]:
        rel = self.gh.state["releases"].get(rid)
        if rel is None or rel["repo"] != key:
            raise not_found()
        if rel["draft"] and not self.can_push(token):
            raise not_found()
        return cast(dict[str, Any], rel)

    def list_releases(self, key: str, token: str) -> None:
        push = self.can_push(token)
        rels = [r for r in self.gh.releases_of(key) if push or not r["draft"]]
        self.send_paged([self.release_json(r) for r in rels])

    def check_tag_usable(self, key: str, tag: str, exclude_id: int | None = None) -> None:
        if tag in self.gh.state["burnt_tags"][key]:
            existing = self.gh.published_for_tag(key, tag)
            if existing is None or existing["id"] != exclude_id:
                raise validation(
                    "Release",
                    "custom",
                    "tag_name",
                    message="tag_name was used by an immutable release",
                )
        existing = self.gh.published_for_tag(key, tag)
        if existing is not None and existing["id"] != exclude_id:
            raise validation("Release", "already_exists", "tag_name")

    def publish_side_effects(self, key: str, rel: dict[str, Any]) -> None:
        now = now_iso_seconds()
        rel["published_at"] = now
        tags = self.gh.state["tags"][key]
        if rel["tag_name"] not in tags:
            tags[rel["tag_name"]] = {"sha": self.fake_sha(rel["target_commitish"])}
        if self.gh.immutable:
            rel["immutable"] = True
            if rel["tag_name"] not in self.gh.state["burnt_tags"][key]:
                self.gh.state["burnt_tags"][key].append(rel["tag_name"])

    @staticmethod
    def fake_sha(commitish: str) -> str:
        if re.fullmatch(r"[0-9a-f]{40}", commitish):
            return commitish
        return hashlib.sha1(commitish.encode()).hexdigest()

    def create_release(self, key: str, token: str) -> None:
        self.need_push(token)
        data = self.json_object()
        tag = data.get("tag_name")
        if not isinstance(tag, str) or not tag:
            raise validation("Release", "missing_field", "tag_name")
        draft = bool(data.get("draft", False))
        if not draft:
            self.check_tag_usable(key, tag)
        now = now_iso_seconds()
        rid = self.gh.new_id()
        rel: dict[str, Any] = {
            "id": rid,
            "repo": key,
            "tag_name": tag,
            "target_commitish": str(data.get("target_commitish") or "main"),
            "name": data.get("name") if data.get("name") is not None else tag,
            "body": data.get("body") if data.get("body") is not None else "",
            "draft": draft,
            "prerelease": bool(data.get("prerelease", False)),
            "created_at": now,
            "updated_at": now,
            "published_at": None,
            "untagged": f"untagged-{secrets.token_hex(10)}",
            "immutable": False,
        }
        if not draft:
            self.publish_side_effects(key, rel)
        self.gh.state["releases"][str(rid)] = rel
        self.gh.save()
        self.send_json(
            201,
            self.release_json(rel),
            {"Location": f"{self.base}/repos/{self.gh.repos[key]}/releases/{rid}"},
        )

    def release_routes(self, method: str, token: str, key: str, rid: str) -> None:
        rel = self.find_release(key, rid, token)
        if method == "GET":
            self.send_json(200, self.release_json(rel))
        elif method == "PATCH":
            self.need_push(token)
            self.update_release(key, rel, self.json_object())
        elif method == "DELETE":
            self.need_push(token)
            for asset in self.gh.assets_of(int(rel["id"])):
                self.gh.asset_path(int(asset["id"])).unlink(missing_ok=True)
                del self.gh.state["assets"][str(asset["id"])]
            del self.gh.state["releases"][str(rel["id"])]
            self.gh.save()
            self.send_empty(204)
        else:
            raise not_found()

    def update_release(self, key: str, rel: dict[str, Any], data: dict[str, Any]) -> None:
        new_tag = data.get("tag_name", rel["tag_name"])
        if not isinstance(new_tag, str) or not new_tag:
            raise validation("Release", "invalid", "tag_name")
        draft = bool(data.get("draft", rel["draft"]))
        if rel.get("immutable") and (draft or new_tag != rel["tag_name"]):
            raise GhError(422, "Cannot modify the tag or draft state of an immutable release")
        if not draft:
            self.check_tag_usable(key, new_tag, exclude_id=int(rel["id"]))
        rel["tag_name"] = new_tag
        for field in ("name", "body", "target_commitish"):
            if data.get(field) is not None:
                rel[field] = data[field]
        if "prerelease" in data:
            rel["prerelease"] = bool(data["prerelease"])
        was_draft = rel["draft"]
        rel["draft"] = draft
        if was_draft and not draft:
            self.publish_side_effects(key, rel)
        elif draft:
            rel["published_at"] = None
        rel["updated_at"] = now_iso_seconds()
        self.gh.save()
        self.send_json(200, self.release_json(rel))

    # --- assets -----------------------------------------------------------------------------
    def find_asset(self, key: str, aid: str, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        asset = self.gh.state["assets"].get(aid)
        if asset is None:
            raise not_found()
        rel = self.find_release(key, str(asset["release_id"]), token)
        return cast(dict[str, Any], asset), rel

    def asset_routes(self, method: str, token: str, key: str, aid: str) -> None:
        asset, rel = self.find_asset(key, aid, token)
        if method == "GET":
            if "application/octet-stream" in self.headers.get("Accept", ""):
                url = self.asset_json(asset, rel)["browser_download_url"]
                self.send_empty(302, {"Location": url, "Content-Length": "0"})
            else:
                self.send_json(200, self.asset_json(asset, rel))
        elif method == "PATCH":
            self.need_push(token)
            data = self.json_object()
            if isinstance(data.get("name"), str):
                name = safe_asset_name(data["name"])
                for other in self.gh.assets_of(int(rel["id"])):
                    if other["name"] == name and other["id"] != asset["id"]:
                        raise validation("ReleaseAsset", "already_exists", "name")
                asset["name"] = name
            if "label" in data:
                asset["label"] = data["label"]
            asset["updated_at"] = now_iso_seconds()
            self.gh.save()
            self.send_json(200, self.asset_json(asset, rel))
        elif method == "DELETE":
            self.need_push(token)
            self.gh.asset_path(int(asset["id"])).unlink(missing_ok=True)
            del self.gh.state["assets"][str(asset["id"])]
            self.gh.save()
            self.send_empty(204)
        else:
            raise not_found()

    def prepare_upload(self, owner: str, name: str, rid: str) -> tuple[dict[str, Any], str]:
        """Check an upload request; returns (release, asset name). Raises GhError."""
        token = self.auth()
        key = self.repo_key(owner, name)
        self.need_push(token)
        rel = self.find_release(key, rid, token)
        if rel.get("immutable"):
            raise GhError(422, "Cannot upload assets to an immutable release.")
        query = parse_qs(urlsplit(self.path).query)
        raw_name = (query.get("name") or [""])[0]
        if not raw_name:
            raise validation("ReleaseAsset", "missing_field", "name")
        if not self.headers.get("Content-Type"):
            raise GhError(400, "Content-Type header is required")
        if self.body.declared_length is None:
            raise GhError(411, "Content-Length header is required")
        asset_name = safe_asset_name(raw_name)
        for other in self.gh.assets_of(int(rel["id"])):
            if other["name"] == asset_name:
                raise validation("ReleaseAsset", "already_exists", "name")
        return rel, asset_name

    def new_asset(self, rel: dict[str, Any], asset_name: str, state: str) -> dict[str, Any]:
        query = parse_qs(urlsplit(self.path).query)
        now = now_iso_seconds()
        aid = self.gh.new_id()
        asset: dict[str, Any] = {
            "id": aid,
            "release_id": rel["id"],
            "name": asset_name,
            "label": (query.get("label") or [""])[0],
            "content_type": self.headers.get("Content-Type", ""),
            "state": state,
            "size": 0,
            "digest": None,
            "download_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        self.gh.state["assets"][str(aid)] = asset
        self.gh.save()
        return asset

    def upload(self, owner: str, name: str, rid: str) -> None:
        with self.gh.lock:
            rel, asset_name = self.prepare_upload(owner, name, rid)
            asset = self.new_asset(rel, asset_name, "starter")
        part = self.gh.asset_path(int(asset["id"])).with_suffix(".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with open(part, "wb") as fh:
                for data in self.body:
                    fh.write(data)
                    digest.update(data)
                    size += len(data)
                fh.flush()
                os.fsync(fh.fileno())
        except ClientGone:
            part.unlink(missing_ok=True)  # the asset stays in state "starter", like GitHub's
            raise
        with self.gh.lock:
            if str(asset["id"]) not in self.gh.state["assets"]:  # deleted meanwhile
                part.unlink(missing_ok=True)
                raise not_found()
            os.replace(part, self.gh.asset_path(int(asset["id"])))
            asset.update(
                state="uploaded",
                size=size,
                digest=f"sha256:{digest.hexdigest()}",
                updated_at=now_iso_seconds(),
            )
            self.gh.save()
            self.send_json(201, self.asset_json(asset, rel))

    def fault_side_effect(self, rule: FaultRule) -> bool:
        parts = [p for p in self.url_path.split("/") if p]
        if not rule.asset_state or self.command != "POST" or parts[:2] != ["uploads", "repos"]:
            return False
        if len(parts) != 7:
            return False
        try:
            with self.gh.lock:
                rel, asset_name = self.prepare_upload(parts[2], parts[3], parts[5])
                self.new_asset(rel, asset_name, rule.asset_state)
        except GhError:
            return False
        self.body.drain()
        return True

    def download(self, owner: str, name: str, slug: str, asset_name: str) -> None:
        with self.gh.lock:
            key = self.repo_key(owner, name)
            found: tuple[dict[str, Any], dict[str, Any]] | None = None
            for rel in self.gh.releases_of(key):
                match = rel["untagged"] == slug if rel["draft"] else rel["tag_name"] == slug
                if not match:
                    continue
                for asset in self.gh.assets_of(int(rel["id"])):
                    if asset["name"] == asset_name and asset["state"] == "uploaded":
                        found = (rel, asset)
                        break
                if found:
                    break
            if found is None:
                raise not_found()
            rel, asset = found
            if rel["draft"]:
                self.auth()
            asset["download_count"] += 1
            self.gh.save()
        path = self.gh.asset_path(int(asset["id"]))
        with open(path, "rb") as fh:
            self.start_answer(
                200,
                {
                    "Content-Type": asset["content_type"] or "application/octet-stream",
                    "Content-Length": str(asset["size"]),
                    "Content-Disposition": f"attachment; filename={asset['name']}",
                },
            )
            if self.command == "HEAD":
                return
            while True:
                data = fh.read(CHUNK)
                if not data:
                    break
                self.wfile.write(data)

    # --- tags -------------------------------------------------------------------------------
    def create_ref(self, key: str, token: str) -> None:
        self.need_push(token)
        data = self.json_object()
        ref, sha = data.get("ref"), data.get("sha")
        if not isinstance(ref, str) or not isinstance(sha, str) or not ref.startswith("refs/"):
            raise GhError(422, "Reference name must start with 'refs/' and a sha is required")
        if not ref.startswith("refs/tags/"):
            raise GhError(422, "Only tag references are supported by the shipit sandbox")
        tag = ref[len("refs/tags/") :]
        tags = self.gh.state["tags"][key]
        if tag in tags:
            raise GhError(422, "Reference already exists")
        tags[tag] = {"sha": sha}
        self.gh.save()
        self.send_json(201, self.ref_json(key, tag))

    def ref_json(self, key: str, tag: str) -> dict[str, Any]:
        full = self.gh.repos[key]
        sha = self.gh.state["tags"][key][tag]["sha"]
        return {
            "ref": f"refs/tags/{tag}",
            "node_id": "REF_" + base64.b64encode(tag.encode()).decode(),
            "url": f"{self.base}/repos/{full}/git/refs/tags/{quote(tag)}",
            "object": {
                "sha": sha,
                "type": "commit",
                "url": f"{self.base}/repos/{full}/git/commits/{sha}",
            },
        }

    def tag_ref(self, method: str, token: str, key: str, tag: str) -> None:
        tags = self.gh.state["tags"][key]
        if method == "GET":
            if tag not in tags:
                raise not_found()
            self.send_json(200, self.ref_json(key, tag))
        elif method == "DELETE":
            self.need_push(token)
            if tag not in tags:
                raise GhError(422, "Reference does not exist")
            if self.gh.immutable and tag in self.gh.state["burnt_tags"][key]:
                raise GhError(422, "Cannot delete a tag used by an immutable release")
            del tags[tag]
            self.gh.save()
            self.send_empty(204)
        else:
            raise not_found()

    # --- admin ------------------------------------------------------------------------------
    def admin_extra(self, path: str) -> None:
        if path == "/_shipit/rate_limit" and self.command == "POST":
            try:
                data = self.read_json()
                self.gh.rate.set(
                    limit=data.get("limit"),
                    remaining=data.get("remaining"),
                    reset_in=data.get("reset_in"),
                    status=data.get("status"),
                )
            except (ValueError, AttributeError) as exc:
                self.send_json(400, {"message": f"bad rate limit: {exc}"})
                return
            self.send_json(200, self.gh.rate.headers())
        elif path == "/_shipit/rate_limit" and self.command == "GET":
            self.send_json(200, self.gh.rate.headers())
        else:
            super().admin_extra(path)


def main(argv: list[str] | None = None) -> int:
    parser = server_arguments(
        "python -m shipit.sandbox.github_server",
        "Local GitHub REST test server.",
        "a token with push access",
    )
    parser.add_argument("--read-token", action="append", default=[], help="a read-only token")
    parser.add_argument(
        "--repo", action="append", default=[], required=True, type=owner_name, help="owner/name"
    )
    parser.add_argument("--immutable", action="store_true", help="releases become immutable")
    parser.add_argument("--rate-limit", type=int, default=5000, help="requests per hour")
    return token_server_main(parser, argv, GitHubHandler, _state)


def _state(args: argparse.Namespace, tokens: list[str], log: Any) -> GitHubState:
    return GitHubState(
        args.data,
        tokens=tokens,
        read_tokens=args.read_token,
        repos=args.repo,
        immutable=args.immutable,
        rate_limit=args.rate_limit,
        log=log,
    )


if __name__ == "__main__":
    sys.exit(main())
