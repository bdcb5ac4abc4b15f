"""Is version X already on registry Y, and with the same content? One cached lookup per run.

Shared by the ``versions`` and ``registry`` checks so each registry is asked once. The answer
says whether the version is there and, when shipit can tell without building for real,
whether it holds exactly what this release would publish (npm: the dry-run tarball integrity;
JSR: the files' sha256 against ``{version}_meta.json``; PyPI: built files in the dist
directory against the simple index's ``#sha256=`` links) -- then the release can be resumed.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from shipit import http
from shipit.checks.artifacts import PublishSets
from shipit.config import Config, Settings


@dataclass(frozen=True)
class PublishedState:
    registry: str
    package: str
    version: str
    published: bool
    identical: bool | None = None  # None: cannot tell
    detail: str = ""
    error: str | None = None  # the lookup itself failed (registry unreachable, 5xx)

    @property
    def resumable(self) -> bool:
        return self.published and self.identical is True


def pep440(version: str) -> str:
    """The PyPI form of a SemVer version (1.0.0-rc.1 -> 1.0.0rc1)."""
    try:
        from shipit.project.versions import to_pep440

        return str(to_pep440(version))
    except Exception:  # Foundation's helper missing or refusing: packaging normalises too
        from packaging.version import InvalidVersion, Version

        try:
            return str(Version(version))
        except InvalidVersion:
            return version


def pypi_index_url(config: Config, settings: Settings) -> str:
    """The simple index that belongs to the upload URL (pypiserver serves both)."""
    if config.pypi.index_url:
        url = config.pypi.index_url
        return url if url.endswith("/") else url + "/"
    up = settings.pypi_upload_url
    parts = urlsplit(up)
    if parts.hostname == "upload.pypi.org":
        return "https://pypi.org/simple/"
    if parts.hostname == "test.pypi.org":
        return "https://test.pypi.org/simple/"
    base = re.sub(r"legacy/?$", "", up)
    base = base if base.endswith("/") else base + "/"
    return base + "simple/"


def normalize_pypi(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (filename, href)
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links.append((data.strip(), self._href))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def _pypi_file_version(filename: str) -> str | None:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _unreachable(exc: Exception, url: str) -> str:
    return f"{url} does not answer ({type(exc).__name__}: {exc})"


@dataclass
class PublishedLookup:
    """Cached per run; ``state(target, package, version, directory)`` is thread-safe."""

    config: Config
    settings: Settings
    sets: PublishSets
    dist_dir: Path | None = None
    timeout: float = 15.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _locks: dict[tuple[str, str, str], threading.Lock] = field(default_factory=dict)
    _cache: dict[tuple[str, str, str], PublishedState] = field(default_factory=dict)

    def state(self, target: str, package: str, version: str, directory: Path) -> PublishedState:
        key = (target, package, version)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                try:
                    self._cache[key] = self._lookup(target, package, version, directory)
                except httpx.HTTPError as exc:
                    self._cache[key] = PublishedState(
                        target, package, version, False, error=_unreachable(exc, self._url(target))
                    )
            return self._cache[key]

    def _url(self, target: str) -> str:
        if target == "npm":
            return self.settings.npm_registry
        if target == "jsr":
            return self.settings.jsr_url
        return pypi_index_url(self.config, self.settings)

    def _lookup(self, target: str, package: str, version: str, directory: Path) -> PublishedState:
        if target == "npm":
            return self._npm(package, version, directory)
        if target == "jsr":
            return self._jsr(package, version, directory)
        if target == "pypi":
            return self._pypi(package, version)
        return PublishedState(target, package, version, False, detail="not a package registry")

    # -- npm
    def _npm(self, package: str, version: str, directory: Path) -> PublishedState:
        registry = self.settings.npm_registry
        url = registry + quote(package, safe="@").replace("/", "%2f")
        with http.client(token=self.settings.npm_token, timeout=self.timeout) as c:
            r = c.get(url, headers={"Accept": "application/json"})
        if r.status_code == 404:
            return PublishedState("npm", package, version, False, detail="not on npm")
        if r.status_code >= 400:
            return PublishedState(
                "npm",
                package,
                version,
                False,
                error=f"{registry} answered {r.status_code} for {package}",
            )
        doc: dict[str, Any] = r.json()
        entry = (doc.get("versions") or {}).get(version)
        if entry is None:
            return PublishedState("npm", package, version, False, detail="not on npm")
        remote = (entry.get("dist") or {}).get("integrity")
        local = self.sets.get("npm", directory).integrity
        identical = None if not remote or not local else remote == local
        return PublishedState(
            "npm",
            package,
            version,
            True,
            identical,
            detail=f"npm has {package}@{version}"
            + ("" if identical is None else " (same content)" if identical else " (other content)"),
        )

    # -- JSR
    def _jsr(self, package: str, version: str, directory: Path) -> PublishedState:
        base = self.settings.jsr_url
        with http.client(timeout=self.timeout, headers={"Accept": "application/json"}) as c:
            r = c.get(f"{base}{package}/meta.json")
            if r.status_code == 404:
                return PublishedState("jsr", package, version, False, detail="not on JSR")
            if r.status_code >= 400:
                return PublishedState(
                    "jsr",
                    package,
                    version,
                    False,
                    error=f"{base} answered {r.status_code} for {package}/meta.json",
                )
            versions = r.json().get("versions") or {}
            if version not in versions:
                return PublishedState("jsr", package, version, False, detail="not on JSR")
            m = c.get(f"{base}{package}/{version}_meta.json")
        identical: bool | None = None
        if m.status_code == 200:
            manifest = m.json().get("manifest") or {}
            pset = self.sets.get("jsr", directory)
            if pset.error is None and manifest:
                local: dict[str, str] = {}
                for _, path in pset.files:
                    if path is None:
                        continue
                    rel = "/" + str(path.resolve().relative_to(directory.resolve()))
                    local[rel] = "sha256-" + hashlib.sha256(path.read_bytes()).hexdigest()
                remote = {k: str(v.get("checksum")) for k, v in manifest.items()}
                identical = local == remote
        return PublishedState(
            "jsr",
            package,
            version,
            True,
            identical,
            detail=f"JSR has {package}@{version}"
            + ("" if identical is None else " (same content)" if identical else " (other content)"),
        )

    # -- PyPI
    def _pypi(self, package: str, version: str) -> PublishedState:
        index = pypi_index_url(self.config, self.settings)
        want = pep440(version)
        url = f"{index}{normalize_pypi(package)}/"
        with http.client(timeout=self.timeout) as c:
            r = c.get(url)
        if r.status_code == 404:
            return PublishedState("pypi", package, want, False, detail="not on the index")
        if r.status_code >= 400:
            return PublishedState(
                "pypi", package, want, False, error=f"{index} answered {r.status_code}"
            )
        parser = _Links()
        parser.feed(r.text)
        remote: dict[str, str | None] = {}
        for filename, href in parser.links:
            v = _pypi_file_version(filename)
            if v is not None and v == want:
                frag = href.split("#sha256=", 1)
                remote[filename] = frag[1] if len(frag) == 2 else None
        if not remote:
            return PublishedState("pypi", package, want, False, detail="not on the index")
        identical: bool | None = None
        if self.dist_dir is not None and self.dist_dir.is_dir():
            local = {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in self.dist_dir.iterdir()
                if p.name in remote
            }
            if local:
                identical = all(remote[n] in (None, h) for n, h in local.items())
        return PublishedState(
            "pypi",
            package,
            want,
            True,
            identical,
            detail=f"the index has {len(remote)} file(s) of {package} {want}",
        )
