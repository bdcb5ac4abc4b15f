"""Which version is live where: small read-only lookups of npm, JSR, PyPI and GitHub.

For ``shipit status``: each enabled target is asked, in parallel and with a timeout each, for
its newest published version (npm ``dist-tags.latest``, JSR ``meta.json`` ``latest``, the
highest version in PyPI's simple index, GitHub's latest release) and whether the project's
current version is there. Lookups never raise: an unreachable registry is an ``error`` line.
"""

from __future__ import annotations

import concurrent.futures
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from shipit import http
from shipit.config import Config, Settings
from shipit.redact import redact


@dataclass(frozen=True)
class LiveVersion:
    """What one registry or forge says about the package."""

    target: str  # npm, jsr, pypi, github
    package: str
    where: str  # the registry's base URL
    latest: str | None = None  # newest published version (tag for GitHub)
    current: str | None = None  # the version asked about
    has_current: bool | None = None  # None: not asked or cannot tell
    versions: int | None = None  # how many versions are published
    url: str | None = None  # a page or document a person can open
    error: str | None = None
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def _fail(target: str, package: str, where: str, current: str | None, why: str) -> LiveVersion:
    return LiveVersion(target, package, where, current=current, error=redact(why))


def _http_error(exc: Exception, where: str) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {where}"
    return f"{where}: {type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- npm


def npm(settings: Settings, package: str, current: str | None, timeout: float) -> LiveVersion:
    where = settings.npm_registry
    url = where + quote(package, safe="@").replace("/", "%2f")
    try:
        with http.client(token=settings.npm_token, timeout=timeout) as c:
            r = c.get(url, headers={"Accept": "application/vnd.npm.install-v1+json"})
    except httpx.HTTPError as exc:
        return _fail("npm", package, where, current, _http_error(exc, where))
    if r.status_code == 404:
        return LiveVersion(
            "npm", package, where, current=current, has_current=False, versions=0,
            detail="not published yet",
        )  # fmt: skip
    if r.status_code >= 400:
        return _fail("npm", package, where, current, f"{where} answered {r.status_code}")
    doc = r.json()
    versions = doc.get("versions") or {}
    latest = (doc.get("dist-tags") or {}).get("latest")
    tags = {str(k): str(v) for k, v in (doc.get("dist-tags") or {}).items() if k != "latest"}
    return LiveVersion(
        "npm",
        package,
        where,
        latest=latest,
        current=current,
        has_current=None if current is None else current in versions,
        versions=len(versions),
        url=url,
        extra=tags,
    )


# ---------------------------------------------------------------- JSR


def jsr(settings: Settings, package: str, current: str | None, timeout: float) -> LiveVersion:
    where = settings.jsr_url
    url = f"{where}{package}/meta.json"
    try:
        with http.client(timeout=timeout, headers={"Accept": "application/json"}) as c:
            r = c.get(url)
    except httpx.HTTPError as exc:
        return _fail("jsr", package, where, current, _http_error(exc, where))
    if r.status_code == 404:
        return LiveVersion(
            "jsr", package, where, current=current, has_current=False, versions=0,
            detail="not published yet",
        )  # fmt: skip
    if r.status_code >= 400:
        return _fail("jsr", package, where, current, f"{where} answered {r.status_code}")
    doc = r.json()
    versions = doc.get("versions") or {}
    yanked = [v for v, meta in versions.items() if isinstance(meta, dict) and meta.get("yanked")]
    return LiveVersion(
        "jsr",
        package,
        where,
        latest=doc.get("latest"),
        current=current,
        has_current=None if current is None else current in versions,
        versions=len(versions),
        url=f"{where}{package}",
        detail=f"yanked: {', '.join(yanked)}" if yanked else "",
    )


# ---------------------------------------------------------------- PyPI


class _Files(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._in_a = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_a = tag == "a"

    def handle_data(self, data: str) -> None:
        if self._in_a and data.strip():
            self.names.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_a = False


def _file_version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def pypi_index(config: Config, settings: Settings) -> str:
    """The simple index that goes with the upload URL (PyPI's, or pypiserver's own)."""
    if config.pypi.index_url:
        url = config.pypi.index_url
        return url if url.endswith("/") else url + "/"
    up = settings.pypi_upload_url
    host = urlsplit(up).hostname
    if host == "upload.pypi.org":
        return "https://pypi.org/simple/"
    if host == "test.pypi.org":
        return "https://test.pypi.org/simple/"
    base = re.sub(r"legacy/?$", "", up)
    return (base if base.endswith("/") else base + "/") + "simple/"


def pypi(
    config: Config, settings: Settings, package: str, current: str | None, timeout: float
) -> LiveVersion:
    index = pypi_index(config, settings)
    name = re.sub(r"[-_.]+", "-", package).lower()
    url = f"{index}{name}/"
    want: Version | None = None
    if current is not None:
        try:
            from shipit.project.versions import to_pep440

            want = Version(str(to_pep440(current)))
        except Exception:
            try:
                want = Version(current)
            except InvalidVersion:
                want = None
    try:
        with http.client(timeout=timeout) as c:
            r = c.get(url)
    except httpx.HTTPError as exc:
        return _fail("pypi", package, index, current, _http_error(exc, index))
    if r.status_code == 404:
        return LiveVersion(
            "pypi", package, index, current=current, has_current=False, versions=0,
            detail="not published yet",
        )  # fmt: skip
    if r.status_code >= 400:
        return _fail("pypi", package, index, current, f"{index} answered {r.status_code}")
    parser = _Files()
    parser.feed(r.text)
    found = {v for v in (_file_version(n) for n in parser.names) if v is not None}
    stable = [v for v in found if not v.is_prerelease]
    latest = max(stable or found) if found else None
    return LiveVersion(
        "pypi",
        package,
        index,
        latest=str(latest) if latest else None,
        current=str(want) if want else current,
        has_current=None if want is None else want in found,
        versions=len(found),
        url=url,
    )


# ---------------------------------------------------------------- GitHub


def github(
    settings: Settings, repository: str, tag: str | None, timeout: float, api_version: str
) -> LiveVersion:
    where = settings.github_api_url
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": api_version}
    try:
        with http.client(
            base_url=where, headers=headers, token=settings.github_token, timeout=timeout
        ) as c:
            latest = c.get(f"/repos/{repository}/releases/latest")
            listing = c.get(f"/repos/{repository}/releases", params={"per_page": 30})
    except httpx.HTTPError as exc:
        return _fail("github", repository, where, tag, _http_error(exc, where))
    if latest.status_code in (401, 403):
        return _fail("github", repository, where, tag, f"{where} refused the token")
    if latest.status_code >= 400 and latest.status_code != 404:
        return _fail("github", repository, where, tag, f"{where} answered {latest.status_code}")
    latest_doc = latest.json() if latest.status_code == 200 else {}
    releases = listing.json() if listing.status_code == 200 else []
    mine = [r for r in releases if isinstance(r, dict) and r.get("tag_name") == tag]
    has_current: bool | None = None
    detail = ""
    if tag is not None:
        published = [r for r in mine if not r.get("draft")]
        has_current = bool(published)
        if not published and mine:
            detail = f"draft for {tag} ({len(mine[0].get('assets') or [])} assets)"
    return LiveVersion(
        "github",
        repository,
        where,
        latest=latest_doc.get("tag_name"),
        current=tag,
        has_current=has_current,
        versions=len([r for r in releases if isinstance(r, dict) and not r.get("draft")]),
        url=(mine[0].get("html_url") if mine else None) or latest_doc.get("html_url"),
        detail=detail if detail else ("no release yet" if not latest_doc else ""),
    )


# ---------------------------------------------------------------- all at once


@dataclass(frozen=True)
class Lookup:
    target: str
    package: str
    run: Callable[[], LiveVersion]


def lookups(
    config: Config,
    settings: Settings,
    packages: dict[str, str],
    version: str | None,
    tag: str | None,
    timeout: float = 5.0,
) -> list[Lookup]:
    """The lookups for ``packages`` ({target: package name or owner/repo})."""
    out: list[Lookup] = []
    for target, package in packages.items():
        run: Callable[[], LiveVersion] | None = None
        if target == "npm":
            run = functools.partial(npm, settings, package, version, timeout)
        elif target == "jsr":
            run = functools.partial(jsr, settings, package, version, timeout)
        elif target == "pypi":
            run = functools.partial(pypi, config, settings, package, version, timeout)
        elif target == "github":
            api = config.github.api_version
            run = functools.partial(github, settings, package, tag, timeout, api)
        if run is not None:
            out.append(Lookup(target, package, run))
    return out


def probe_all(items: Sequence[Lookup], timeout: float = 5.0) -> list[LiveVersion]:
    """Run every lookup at once; one that overruns ``timeout`` becomes an error line."""
    if not items:
        return []
    results: list[LiveVersion] = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(items))
    try:
        futures = [pool.submit(item.run) for item in items]
        concurrent.futures.wait(futures, timeout=timeout + 1.0)
        for item, future in zip(items, futures, strict=True):
            if not future.done():
                results.append(
                    LiveVersion(item.target, item.package, "", error=f"no answer in {timeout:.0f}s")
                )
                continue
            try:
                results.append(future.result())
            except Exception as exc:
                results.append(
                    LiveVersion(
                        item.target,
                        item.package,
                        "",
                        error=redact(f"lookup failed: {type(exc).__name__}: {exc}"),
                    )
                )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results
