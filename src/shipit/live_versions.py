"""Which version is live where: small read-only lookups of npm, JSR, PyPI and GitHub.

For ``shipit status`` and the rehearsal's report: each enabled target is asked, in parallel
and with a timeout each, through its adapter in ``shipit.registries``, for its newest
published version (npm's ``latest`` dist-tag, JSR's ``latest``, the highest version on the
PyPI index, GitHub's latest release) and whether the project's current version is there.
Lookups never raise: an unreachable registry is an ``error`` line.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypedDict, TypeVar

from shipit.config import Config, Settings
from shipit.errors import RegistryError, ShipitError, VersionError
from shipit.project.versions import to_pep440
from shipit.redact import redact
from shipit.registries._http import short_reason
from shipit.registries.github import GitHub
from shipit.registries.jsr import Jsr, JsrVersion
from shipit.registries.npm import Npm, NpmVersion
from shipit.registries.pypi import PyPI


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


def _unpublished(target: str, package: str, where: str, current: str | None) -> LiveVersion:
    return LiveVersion(
        target,
        package,
        where,
        current=current,
        has_current=False,
        versions=0,
        detail="not published yet",
    )


# ---------------------------------------------------------------- the registries


class _Answer(Protocol):
    """What the npm, JSR and PyPI adapters answer about a name and a version."""

    @property
    def exists(self) -> bool: ...

    @property
    def latest(self) -> str | None: ...

    @property
    def versions(self) -> tuple[str, ...]: ...


class _Shown(TypedDict, total=False):
    """What one registry adds to its line: a page to open, a note, its other dist-tags."""

    url: str | None
    detail: str
    extra: dict[str, str]


A = TypeVar("A", bound=_Answer)


def _registry_line(
    target: str,
    package: str,
    where: str,
    current: str | None,
    read: Callable[[], A],
    known: Callable[[A], bool],
    shown: Callable[[A], _Shown],
    *,
    asked: str | None,
) -> LiveVersion:
    """Ask one registry (``read``) and say what it holds; ``known`` tells whether it has the
    package at all. ``asked`` is ``current`` as the registry spells it (PyPI: PEP 440; None:
    not asked, or not a version the registry can hold)."""
    try:
        there = read()
    except ShipitError as exc:
        return _fail(target, package, where, current, short_reason(exc, where))
    if not known(there):
        return _unpublished(target, package, where, current)
    return LiveVersion(
        target,
        package,
        where,
        latest=there.latest,
        current=asked or current,
        has_current=None if asked is None else there.exists,
        versions=len(there.versions),
        **shown(there),
    )


def npm(settings: Settings, package: str, current: str | None, timeout: float) -> LiveVersion:
    registry = Npm.from_settings(settings, timeout=timeout)

    def shown(there: NpmVersion) -> _Shown:
        return {
            "url": there.url,
            "extra": {k: v for k, v in there.dist_tags.items() if k != "latest"},
        }

    return _registry_line(
        "npm",
        package,
        registry.registry,
        current,
        lambda: registry.read(package, current or ""),
        lambda there: there.package_exists,
        shown,
        asked=current,
    )


def jsr(settings: Settings, package: str, current: str | None, timeout: float) -> LiveVersion:
    registry = Jsr.from_settings(settings, timeout=timeout)

    def shown(there: JsrVersion) -> _Shown:
        yanked = there.yanked_versions
        return {
            "url": f"{registry.url}{package}",
            "detail": f"yanked: {', '.join(yanked)}" if yanked else "",
        }

    return _registry_line(
        "jsr",
        package,
        registry.url,
        current,
        lambda: registry.read(package, current or "", files=False),
        lambda there: there.package_exists,
        shown,
        asked=current,
    )


def pypi(
    config: Config, settings: Settings, package: str, current: str | None, timeout: float
) -> LiveVersion:
    index = PyPI.from_config(config, settings, timeout=timeout)
    want: str | None = None
    if current is not None:
        try:
            want = to_pep440(current)
        except VersionError:
            want = None
    return _registry_line(
        "pypi",
        package,
        index.index,
        current,
        lambda: index.read(package, want or ""),
        lambda there: there.project_exists,
        lambda there: {"url": there.url},
        asked=want,
    )


def github(
    config: Config, settings: Settings, repository: str, tag: str | None, timeout: float
) -> LiveVersion:
    where = settings.github_api_url
    try:
        with GitHub.from_settings(
            config,
            settings,
            repository=repository,
            timeout=timeout,
            max_rate_limit_wait=0,
            require_token=False,
        ) as gh:
            latest = gh.latest_release() or {}
            releases = gh.recent_releases(30)
    except RegistryError as exc:
        if exc.status in (401, 403):
            return _fail("github", repository, where, tag, f"{where} refused the token")
        return _fail("github", repository, where, tag, short_reason(exc, where))
    except ShipitError as exc:
        return _fail("github", repository, where, tag, short_reason(exc, where))
    mine = [r for r in releases if r.get("tag_name") == tag]
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
        latest=latest.get("tag_name"),
        current=tag,
        has_current=has_current,
        versions=len([r for r in releases if not r.get("draft")]),
        url=(mine[0].get("html_url") if mine else None) or latest.get("html_url"),
        detail=detail if detail else ("no release yet" if not latest else ""),
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
            run = functools.partial(github, config, settings, package, tag, timeout)
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
