"""Which files each enabled target would publish, computed once per run and shared.

- npm: ``npm pack --dry-run --json --ignore-scripts`` (the exact list and the tarball's
  integrity, which also lets ``published`` compare content without packing for real);
- JSR: the files git does not ignore under the package directory, filtered by deno.json's
  ``publish.include`` / ``publish.exclude`` (and the top-level ``exclude``), as deno does;
- PyPI: the files git does not ignore under the package directory (what a wheel or sdist can
  contain; a superset for backends that select less), or the contents of built files in the
  release's dist directory when they exist;
- binaries: the non-binary files beside the built binaries in the release's dist directory.
"""

from __future__ import annotations

import fnmatch
import json
import tarfile
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipit import git, proc
from shipit.checks.command import command_env
from shipit.errors import ConfigError
from shipit.project.manifests import read_json


@dataclass(frozen=True)
class PublishSet:
    """Files one target publishes: display names and where to read them (None: not on disk)."""

    target: str
    description: str
    files: tuple[tuple[str, Path | None], ...] = ()
    contents: tuple[tuple[str, bytes], ...] = ()  # files read out of built archives
    integrity: str | None = None  # npm tarball integrity (dry run)
    error: str | None = None


def deno_config(directory: Path) -> tuple[Path, dict[str, Any]] | None:
    for name in ("deno.json", "deno.jsonc", "jsr.json"):
        path = directory / name
        if path.is_file():
            return path, read_json(path)
    return None


def _norm(pattern: str) -> str:
    p = pattern.strip()
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def glob_match(path: str, pattern: str) -> bool:
    """deno-style include/exclude: a file, a directory prefix, or a glob (``**`` allowed)."""
    p = _norm(pattern)
    if not p:
        return False
    if path == p or path.startswith(p.rstrip("/") + "/"):
        return True
    candidates = {p}
    if p.startswith("**/"):
        candidates.add(p[3:])
    for c in candidates:
        if fnmatch.fnmatchcase(path, c.replace("**/", "*/").replace("/**", "/*")):
            return True
        if fnmatch.fnmatchcase(path, c):
            return True
    return False


def jsr_files(directory: Path, config: Mapping[str, Any], candidates: list[str]) -> list[str]:
    publish = config.get("publish") if isinstance(config.get("publish"), dict) else {}
    assert isinstance(publish, dict)
    include = [str(p) for p in publish.get("include", []) or []]
    exclude = [str(p) for p in (config.get("exclude") or [])] + [
        str(p) for p in publish.get("exclude", []) or []
    ]
    negated = [p[1:] for p in exclude if p.startswith("!")]
    exclude = [p for p in exclude if not p.startswith("!")]
    chosen = []
    for f in candidates:
        if include and not any(glob_match(f, p) for p in include):
            continue
        if any(glob_match(f, p) for p in exclude) and not any(glob_match(f, p) for p in negated):
            continue
        chosen.append(f)
    return chosen


def _archive_members(path: Path) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.file_size < 5_000_000:
                    out.append((f"{path.name}!{info.filename}", zf.read(info)))
    elif path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tf:
            for member in tf.getmembers():
                if member.isfile() and member.size < 5_000_000:
                    fh = tf.extractfile(member)
                    if fh is not None:
                        out.append((f"{path.name}!{member.name}", fh.read()))
    return out


@dataclass
class PublishSets:
    """Lazily computed, cached publish sets for one run (safe to share between threads)."""

    root: Path
    env: Mapping[str, str]
    dist_dir: Path | None = None
    timeout: float = 120.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: dict[str, PublishSet] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)

    def get(self, target: str, directory: Path) -> PublishSet:
        with self._lock:
            lock = self._locks.setdefault(target, threading.Lock())
        with lock:
            if target not in self._cache:
                self._cache[target] = self._compute(target, directory)
            return self._cache[target]

    def _compute(self, target: str, directory: Path) -> PublishSet:
        try:
            if target == "npm":
                return self._npm(directory)
            if target == "jsr":
                return self._jsr(directory)
            if target == "pypi":
                return self._pypi(directory)
            if target == "binaries":
                return self._binaries()
        except ConfigError as exc:  # a manifest that cannot be read (deno.json's syntax)
            return PublishSet(
                target, target, error=f"{exc.what}: {exc.why}" if exc.why else exc.what
            )
        except (OSError, ValueError) as exc:
            return PublishSet(target, target, error=str(exc))
        return PublishSet(target, target, error=f"unknown target {target}")

    def _rel(self, directory: Path, name: str) -> str:
        try:
            return str((directory / name).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(directory / name)

    def _npm(self, directory: Path) -> PublishSet:
        if not (directory / "package.json").is_file():
            return PublishSet(
                "npm", "npm package", error=f"no package.json in {directory} (not built yet?)"
            )
        r = proc.run(
            ["npm", "pack", "--dry-run", "--json", "--ignore-scripts"],
            cwd=directory,
            env=command_env(self.env),
            timeout=self.timeout,
            log_output=False,
        )
        if not r.ok:
            return PublishSet(
                "npm", "npm package", error=f"`npm pack --dry-run` failed: {r.tail(5)}"
            )
        start = r.stdout.find("[")
        data = json.loads(r.stdout[start:]) if start >= 0 else []
        if not data:
            return PublishSet(
                "npm", "npm package", error="`npm pack --dry-run --json` printed no list"
            )
        info = data[0]
        files = tuple(
            (self._rel(directory, f["path"]), directory / f["path"]) for f in info.get("files", [])
        )
        return PublishSet(
            "npm", "files in the npm tarball (npm pack)", files, integrity=info.get("integrity")
        )

    def _jsr(self, directory: Path) -> PublishSet:
        found = deno_config(directory)
        if found is None:
            return PublishSet(
                "jsr", "JSR package", error=f"no deno.json or jsr.json in {directory}"
            )
        _, config = found
        candidates = git.list_files(directory, self.env)
        if candidates is None:
            candidates = [
                str(p.relative_to(directory))
                for p in directory.rglob("*")
                if p.is_file() and ".git" not in p.parts
            ]
        files = jsr_files(directory, config, candidates)
        return PublishSet(
            "jsr",
            "files in the JSR package (publish.include/exclude)",
            tuple((self._rel(directory, f), directory / f) for f in files),
        )

    def _dist_files(self, suffixes: tuple[str, ...], sub: str = "") -> list[Path]:
        """Built files in the release's dist directory, and in its ``sub`` directory."""
        if self.dist_dir is None:
            return []
        found: list[Path] = []
        for directory in (self.dist_dir, self.dist_dir / sub) if sub else (self.dist_dir,):
            if directory.is_dir():
                found += [p for p in directory.iterdir() if p.name.endswith(suffixes)]
        return sorted(found)

    def _pypi(self, directory: Path) -> PublishSet:
        built = self._dist_files((".whl", ".tar.gz"), "pypi")  # the build step writes dist/pypi/
        if built:
            contents: list[tuple[str, bytes]] = []
            for path in built:
                contents.extend(_archive_members(path))
            return PublishSet(
                "pypi", "files in the built wheel and sdist", contents=tuple(contents)
            )
        candidates = git.list_files(directory, self.env) or []
        return PublishSet(
            "pypi",
            "files a wheel or sdist can contain (not ignored by git)",
            tuple((self._rel(directory, f), directory / f) for f in candidates),
        )

    def _binaries(self) -> PublishSet:
        if self.dist_dir is None or not self.dist_dir.is_dir():
            return PublishSet("binaries", "files beside the binaries (none built yet)")
        files = []
        for p in sorted(self.dist_dir.rglob("*")):
            if p.is_file() and not _is_binary(p):
                files.append((self._rel(p.parent, p.name), p))
        return PublishSet("binaries", "files beside the binaries", tuple(files))


def _is_binary(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True
    return b"\0" in head
