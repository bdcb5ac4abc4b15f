"""GitHub (and GitHub Enterprise, and the sandbox's server): a small REST client for the
repository, its releases and their assets; the reads ``check`` and ``status`` make and the
writes the release steps make.

Base URL from ``GITHUB_API_URL`` (Enterprise: ``https://HOST/api/v3``), uploads to the URL in the
release's ``upload_url`` template, token from ``GITHUB_TOKEN``/``GH_TOKEN`` as a Bearer token,
``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version`` on every request.

Failures are classified for the orchestrator: a 401 is a clear permanent error about the token;
the primary rate limit (403/429 with ``x-ratelimit-remaining: 0``) waits until the reset when
that is within ``max-rate-limit-wait`` and fails clearly otherwise; a secondary rate limit
raises ``TransientError(retry_after=...)``; 5xx and dropped connections are transient, or
``OutcomeUnknown`` for requests that may have taken effect (creating a release, uploading).
Uploads stream from disk in 1 MiB chunks with ``Content-Length`` set: memory stays flat.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from shipit import http
from shipit.config import Config, Settings
from shipit.errors import ErrorCode, GitHubError, OutcomeUnknown, PermanentError, TransientError
from shipit.http import parse_retry_after
from shipit.redact import register
from shipit.registries._http import IDEMPOTENT

log = logging.getLogger("shipit.github")

UPLOAD_CHUNK = 1024 * 1024
TOKEN_HINT = (
    "set GITHUB_TOKEN (or GH_TOKEN) to a token with `contents: write` on the repository "
    "(fine-grained token, or the workflow's token with `permissions: contents: write`)"
)

ProgressFn = Callable[[int, int], None]


def _message_of(response: httpx.Response) -> tuple[str, list[dict[str, Any]]]:
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:300] or response.reason_phrase or "no message"), []
    if isinstance(data, dict):
        errors = data.get("errors")
        message = str(data.get("message") or response.reason_phrase or "no message")
        parts = [message]
        if isinstance(errors, list):
            for err in errors:
                if isinstance(err, dict):
                    detail = err.get("message") or " ".join(
                        str(err[k]) for k in ("resource", "field", "code") if k in err
                    )
                    if detail:
                        parts.append(str(detail))
        return "; ".join(parts), [e for e in errors or [] if isinstance(e, dict)]
    return str(data)[:300], []


def releases_url(api_url: str, repository: str) -> str:
    """Where ``POST`` creates a release (for the plan's description)."""
    return f"{api_url.rstrip('/')}/repos/{repository}/releases"


def strip_template(upload_url: str) -> str:
    """``https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}`` -> without the
    template part."""
    return re.sub(r"\{[^}]*\}$", "", upload_url)


def chunks_of(path: Path, on_progress: ProgressFn | None = None) -> Iterator[bytes]:
    """Read ``path`` in 1 MiB chunks, reporting (sent, total) after each."""
    total = path.stat().st_size
    sent = 0
    with path.open("rb") as fh:
        while chunk := fh.read(UPLOAD_CHUNK):
            sent += len(chunk)
            yield chunk
            if on_progress is not None:
                on_progress(sent, total)


class GitHub:
    """One repository's releases on GitHub (or GitHub Enterprise, or the sandbox server)."""

    def __init__(
        self,
        *,
        api_url: str,
        token: str | None,
        repository: str,
        api_version: str = "2022-11-28",
        max_rate_limit_wait: float = 900.0,
        timeout: float = 30.0,
        upload_timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
        require_token: bool = True,
    ) -> None:
        if not token and require_token:
            raise PermanentError(
                "no GitHub token",
                why="neither GITHUB_TOKEN nor GH_TOKEN is set",
                hint=TOKEN_HINT,
            )
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository or ""):
            raise PermanentError(
                f"not a GitHub repository name: {repository!r}",
                hint="set GITHUB_REPOSITORY=owner/name or `repository` in [github]",
            )
        if token:
            register(token)
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.max_rate_limit_wait = max_rate_limit_wait
        self._sleep = sleep
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": api_version,
        }
        self._client = http.client(
            base_url=self.api_url,
            headers=headers,
            token=token,
            timeout=httpx.Timeout(timeout, connect=10.0),
        )
        self._upload_timeout = httpx.Timeout(upload_timeout, connect=10.0)
        self.rate_remaining: int | None = None

    @classmethod
    def from_settings(
        cls,
        config: Config,
        settings: Settings,
        *,
        repository: str | None = None,
        timeout: float = 30.0,
        max_rate_limit_wait: float | None = None,
        require_token: bool = True,
    ) -> GitHub:
        """The client for ``repository`` (default: GITHUB_REPOSITORY / [github] repository)
        with the URL, token, API version and rate-limit patience of the configuration."""
        return cls(
            api_url=settings.github_api_url,
            token=settings.github_token,
            repository=repository or settings.github_repository or "",
            api_version=config.github.api_version,
            max_rate_limit_wait=(
                config.github.max_rate_limit_wait
                if max_rate_limit_wait is None
                else max_rate_limit_wait
            ),
            timeout=timeout,
            require_token=require_token,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ core

    def _repo_path(self, rest: str = "") -> str:
        return f"/repos/{self.repository}{rest}"

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        body: Callable[[], Iterable[bytes]] | None = None,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        what: str = "",
    ) -> httpx.Response:
        """Send one request; wait out a primary rate limit within the allowed time; raise
        classified errors for every non-2xx answer."""
        what = what or f"{method} {url}"
        may_have_happened = method not in IDEMPOTENT
        while True:
            try:
                kwargs: dict[str, Any] = {"params": params, "headers": headers}
                if json is not None:
                    kwargs["json"] = json
                if body is not None:
                    kwargs["content"] = body()
                if timeout is not None:
                    kwargs["timeout"] = timeout
                response = self._client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise TransientError(
                    f"cannot reach GitHub at {self.api_url} ({what})",
                    why=str(exc) or type(exc).__name__,
                    hint="check GITHUB_API_URL and the network, then `shipit resume`",
                ) from exc
            except httpx.TransportError as exc:
                cls = OutcomeUnknown if may_have_happened else TransientError
                raise cls(
                    f"the connection to GitHub broke during {what}",
                    why=str(exc) or type(exc).__name__,
                    hint="shipit checks what GitHub holds before trying again",
                ) from exc
            self._note_rate(response)
            if response.is_success:
                return response
            wait = self._primary_limit_wait(response)
            if wait is not None:
                log.warning("GitHub rate limit exhausted; waiting %.0fs for the reset", wait)
                self._sleep(wait)
                continue
            raise self._error(response, what, may_have_happened)

    def _note_rate(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self.rate_remaining = int(remaining)

    def _primary_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait for a primary rate-limit reset; raises when too long."""
        if response.status_code not in (403, 429):
            return None
        if response.headers.get("x-ratelimit-remaining") != "0":
            return None
        if response.headers.get("retry-after"):
            return None  # a secondary limit: the orchestrator waits (TransientError)
        reset_raw = response.headers.get("x-ratelimit-reset", "")
        try:
            reset = float(reset_raw)
        except ValueError:
            reset = time.time() + 60
        wait = max(0.0, reset - time.time()) + 1.0
        if wait > self.max_rate_limit_wait:
            when = time.strftime("%H:%M:%S", time.localtime(reset))
            resource = response.headers.get("x-ratelimit-resource", "core")
            raise PermanentError(
                "GitHub's API rate limit is used up",
                why=f"no {resource} requests left until {when} (in {wait:.0f}s), longer than "
                f"max-rate-limit-wait ({self.max_rate_limit_wait:.0f}s)",
                hint=f"run `shipit resume` after {when}, or raise `max-rate-limit-wait` "
                "in [github]",
                code=ErrorCode.GITHUB_RATE_LIMIT,
            )
        return wait

    def _error(self, response: httpx.Response, what: str, may_have_happened: bool) -> Exception:
        status = response.status_code
        message, errors = _message_of(response)
        if status == 401:
            return GitHubError(
                f"GitHub rejected the token ({what})",
                status=status,
                message=message,
                why=f"GitHub answered 401: {message}",
                hint=TOKEN_HINT,
            )
        retry_after = response.headers.get("retry-after")
        secondary = status in (403, 429) and (
            retry_after is not None or "secondary rate limit" in message.lower()
        )
        if secondary or status == 429:
            seconds = parse_retry_after(retry_after) or 60.0
            return TransientError(
                f"GitHub asked shipit to slow down ({what})",
                why=f"secondary rate limit, {status}: {message}",
                retry_after=seconds,
                status=status,
            )
        if status == 403:
            return GitHubError(
                f"GitHub refused {what}",
                status=status,
                message=message,
                hint=f"the token needs `contents: write` on {self.repository}; " + TOKEN_HINT,
            )
        if status == 404:
            return GitHubError(
                f"not found on GitHub: {what}",
                status=status,
                message=message,
                hint=f"check that {self.repository} exists and the token can see it "
                "(GitHub answers 404 for repositories a token cannot read)",
            )
        if status == 408 or status >= 500:
            cls = OutcomeUnknown if may_have_happened else TransientError
            after = parse_retry_after(retry_after)
            return cls(
                f"GitHub failed to answer {what}",
                why=f"{status}: {message}",
                retry_after=after,
                status=status,
            )
        return GitHubError(f"GitHub refused {what}", status=status, message=message, errors=errors)

    def _paged(self, url: str, what: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_url: str | None = url
        params: dict[str, Any] | None = {"per_page": 100}
        while next_url:
            response = self.request("GET", next_url, params=params, what=what)
            data = response.json()
            if isinstance(data, list):
                items.extend(d for d in data if isinstance(d, dict))
            link = response.links.get("next")
            next_url = link.get("url") if link else None
            params = None  # the next link carries them
        return items

    # ------------------------------------------------------------ endpoints

    def repo(self) -> dict[str, Any]:
        data = self.request("GET", self._repo_path(), what=f"reading {self.repository}").json()
        return data if isinstance(data, dict) else {}

    def list_releases(self) -> list[dict[str, Any]]:
        """Every release, drafts included (listed for tokens with push access)."""
        return self._paged(self._repo_path("/releases"), "listing releases")

    def recent_releases(self, count: int = 30) -> list[dict[str, Any]]:
        """The newest ``count`` releases (one page), drafts included."""
        data = self.request(
            "GET",
            self._repo_path("/releases"),
            params={"per_page": count},
            what="listing releases",
        ).json()
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []

    def latest_release(self) -> dict[str, Any] | None:
        """GitHub's "latest" release; None when the repository has none."""
        return self._optional(self._repo_path("/releases/latest"), "reading the latest release")

    def release_for_tag(self, tag: str) -> dict[str, Any] | None:
        """The *published* release for ``tag`` (GitHub never answers a draft here)."""
        return self._optional(
            self._repo_path(f"/releases/tags/{quote(tag, safe='')}"),
            f"reading the release for {tag}",
        )

    def _optional(self, path: str, what: str) -> dict[str, Any] | None:
        try:
            data = self.request("GET", path, what=what).json()
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    def get_release(self, release_id: int) -> dict[str, Any] | None:
        try:
            data = self.request(
                "GET", self._repo_path(f"/releases/{release_id}"), what="reading the release"
            ).json()
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    def find_release(self, tag: str, prefer_id: int | None = None) -> dict[str, Any] | None:
        """The published release for ``tag``, else our draft (``prefer_id`` first), else None.

        Drafts are not tied to their tag and ``/releases/tags/{tag}`` never returns one, so
        this lists every release and matches ``tag_name``.
        """
        published = self.release_for_tag(tag)
        if published is not None and not published.get("draft"):
            return published
        if prefer_id is not None:
            rel = self.get_release(prefer_id)
            if rel is not None and rel.get("tag_name") == tag:
                return rel
        matching = [r for r in self.list_releases() if r.get("tag_name") == tag]
        listed_published = [r for r in matching if not r.get("draft")]
        if listed_published:
            return listed_published[0]
        if prefer_id is not None:
            for rel in matching:
                if rel.get("id") == prefer_id:
                    return rel
        return min(matching, key=lambda r: int(r.get("id", 0))) if matching else None

    def create_release(self, **fields: Any) -> dict[str, Any]:
        data = self.request(
            "POST", self._repo_path("/releases"), json=fields, what="creating the release"
        ).json()
        return data if isinstance(data, dict) else {}

    def update_release(self, release_id: int, **fields: Any) -> dict[str, Any]:
        data = self.request(
            "PATCH",
            self._repo_path(f"/releases/{release_id}"),
            json=fields,
            what="updating the release",
        ).json()
        return data if isinstance(data, dict) else {}

    def delete_release(self, release_id: int) -> bool:
        """Delete a release; False when it was already gone."""
        try:
            self.request(
                "DELETE", self._repo_path(f"/releases/{release_id}"), what="deleting the release"
            )
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def list_assets(self, release_id: int) -> list[dict[str, Any]]:
        return self._paged(self._repo_path(f"/releases/{release_id}/assets"), "listing assets")

    def delete_asset(self, asset_id: int) -> bool:
        try:
            self.request(
                "DELETE",
                self._repo_path(f"/releases/assets/{asset_id}"),
                what="deleting an asset",
            )
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def delete_tag(self, tag: str) -> bool:
        try:
            self.request(
                "DELETE",
                self._repo_path(f"/git/refs/tags/{quote(tag, safe='')}"),
                what=f"deleting tag {tag}",
            )
        except GitHubError as exc:
            if exc.status in (404, 422):
                return False
            raise
        return True

    def upload_asset(
        self,
        release: dict[str, Any],
        path: Path,
        *,
        name: str | None = None,
        label: str | None = None,
        content_type: str = "application/octet-stream",
        on_progress: ProgressFn | None = None,
    ) -> dict[str, Any]:
        """Stream ``path`` to the release's upload URL; returns GitHub's asset JSON."""
        upload_url = release.get("upload_url")
        if not isinstance(upload_url, str) or not upload_url:
            raise PermanentError("the release JSON has no upload_url", why=str(release)[:200])
        size = path.stat().st_size
        params: dict[str, Any] = {"name": name or path.name}
        if label:
            params["label"] = label
        response = self.request(
            "POST",
            strip_template(upload_url),
            params=params,
            body=lambda: chunks_of(path, on_progress),
            headers={"Content-Type": content_type, "Content-Length": str(size)},
            timeout=self._upload_timeout,
            what=f"uploading {params['name']}",
        )
        data = response.json()
        return data if isinstance(data, dict) else {}
