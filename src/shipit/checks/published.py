"""Is version X already on registry Y, and with the same content? One cached lookup per run.

Shared by the ``versions`` and ``registry`` checks so each registry is asked once per run (the
adapters in ``shipit.registries`` read; this module compares). The answer says whether the
version is there and, when shipit can tell without building for real, whether it holds exactly
what this release would publish (npm: the dry-run tarball's integrity; JSR: the published
files against what deno uploads from the package directory, ``registries.jsr_content``; PyPI:
files built in the release's dist directory against the index's ``#sha256=`` links) -- then
the release can be resumed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from shipit.checks.artifacts import PublishSets
from shipit.config import Config, Settings
from shipit.errors import ShipitError, VersionError
from shipit.hashing import sha256_file
from shipit.project.versions import to_pep440
from shipit.registries import jsr_content
from shipit.registries._http import short_reason
from shipit.registries.jsr import Jsr
from shipit.registries.npm import Npm
from shipit.registries.pypi import PyPI


@dataclass(frozen=True)
class PublishedState:
    registry: str
    package: str
    version: str
    published: bool
    identical: bool | None = None  # None: cannot tell
    detail: str = ""
    error: str | None = None  # the lookup itself failed (registry unreachable, 5xx)
    withdrawn: bool = False  # yanked: there, hidden, never publishable again

    @property
    def resumable(self) -> bool:
        return self.published and self.identical is True and not self.withdrawn


def pep440(version: str) -> str:
    """The PyPI form of a SemVer version (1.0.0-rc.1 -> 1.0.0rc1); as given when it is
    neither SemVer nor PEP 440 (the index then simply does not list it)."""
    try:
        return to_pep440(version)
    except VersionError:
        return version


def _content(identical: bool | None) -> str:
    if identical is None:
        return ""
    return " (same content)" if identical else " (other content)"


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
                except ShipitError as exc:
                    self._cache[key] = PublishedState(
                        target, package, version, False, error=short_reason(exc, self._url(target))
                    )
            return self._cache[key]

    def _url(self, target: str) -> str:
        if target == "npm":
            return self.settings.npm_registry
        if target == "jsr":
            return self.settings.jsr_url
        return PyPI.from_config(self.config, self.settings).index

    def _lookup(self, target: str, package: str, version: str, directory: Path) -> PublishedState:
        if target == "npm":
            return self._npm(package, version, directory)
        if target == "jsr":
            return self._jsr(package, version, directory)
        if target == "pypi":
            return self._pypi(package, version)
        return PublishedState(target, package, version, False, detail="not a package registry")

    def _npm(self, package: str, version: str, directory: Path) -> PublishedState:
        there = Npm.from_settings(self.settings, timeout=self.timeout).read(package, version)
        if not there.exists:
            return PublishedState("npm", package, version, False, detail="not on npm")
        local = self.sets.get("npm", directory).integrity
        identical = None if not there.integrity or not local else there.integrity == local
        return PublishedState(
            "npm",
            package,
            version,
            True,
            identical,
            detail=f"npm has {package}@{version}{_content(identical)}",
        )

    def _jsr(self, package: str, version: str, directory: Path) -> PublishedState:
        jsr = Jsr.from_settings(self.settings, timeout=self.timeout)
        there = jsr.read(package, version)
        if not there.exists:
            return PublishedState("jsr", package, version, False, detail="not on JSR")
        identical: bool | None = None
        if there.files:  # what deno uploads from here (import-map specifiers unfurled)
            identical = not jsr_content.differing_files(
                directory, there.files, fetch=lambda path: jsr.read_file(package, version, path)
            )
        return PublishedState(
            "jsr",
            package,
            version,
            True,
            identical,
            detail=f"JSR has {package}@{version}{' yanked' if there.yanked else ''}"
            f"{_content(identical)}",
            withdrawn=there.yanked,
        )

    def _built(self) -> dict[str, Path]:
        """Files built for PyPI: in the release's dist directory or its ``pypi/`` (where the
        build step writes them)."""
        found: dict[str, Path] = {}
        if self.dist_dir is None:
            return found
        for directory in (self.dist_dir, self.dist_dir / "pypi"):
            if directory.is_dir():
                found.update({p.name: p for p in directory.iterdir() if p.is_file()})
        return found

    def _pypi(self, package: str, version: str) -> PublishedState:
        want = pep440(version)
        index = PyPI.from_config(self.config, self.settings, timeout=self.timeout)
        remote = {f.filename: f.sha256 for f in index.read(package, want).release_files}
        if not remote:
            return PublishedState("pypi", package, want, False, detail="not on the index")
        identical: bool | None = None
        local = {name: sha256_file(path) for name, path in self._built().items() if name in remote}
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
