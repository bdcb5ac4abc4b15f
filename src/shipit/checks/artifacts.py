"""Which files each enabled target would publish, computed once per run and shared.

Each list comes from the tool that publishes, after the build that precedes publishing:

- npm: the ``[npm] build-command`` first when one is configured (a dnt build into ``npm/``,
  with ``{version}`` replaced), then ``npm pack --dry-run --json`` in the package directory,
  with the package's own ``prepare``/``prepack`` build (scripts are skipped only when the
  package has none): the exact list and the tarball's integrity;
- JSR: ``deno publish --dry-run`` (the files deno would upload; ``--set-version`` for a
  project versioned by its tags); without deno, deno.json's ``publish.include``/``exclude``
  applied to the files git keeps;
- PyPI: the contents of the sdist and wheel ``python -m build`` makes (into a temporary
  directory), or of the release's built files when they exist;
- binaries: archives exist only once the release built them: the set is ``deferred`` and the
  release scans them (``secrets.scan_release_files``) before anything is visible.

``get_many`` lists several targets at once: the listings that only read the tree run beside
each other and beside the ones that build in it; those that build in the tree (an npm build,
a prepare script, ``python -m build``, which leaves and then removes ``build/``) run one after
another, so no build sees another's half-written output.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipit import archives, git, proc, pybuild
from shipit.checks import deps, output
from shipit.checks.base import Finding
from shipit.checks.command import command_env
from shipit.errors import ConfigError
from shipit.project import manifests, tooling
from shipit.workspace import build_leaves_no_trace


@dataclass(frozen=True)
class PublishSet:
    """Files one target publishes: display names and where to read them (None: not on disk)."""

    target: str
    description: str
    files: tuple[tuple[str, Path | None], ...] = ()
    contents: tuple[tuple[str, bytes], ...] = ()  # files read out of built archives
    integrity: str | None = None  # npm tarball integrity (dry run)
    error: str | None = None
    deferred: str | None = None  # why the files exist only at release time (binaries)
    hint: str | None = None  # the fix for ``error``
    problems: tuple[Finding, ...] = ()  # what caused ``error``, located where the tool says


def deno_config(directory: Path) -> tuple[Path, dict[str, Any]] | None:
    for name in ("deno.json", "deno.jsonc", "jsr.json"):
        path = directory / name
        if path.is_file():
            try:
                return path, manifests.read_json(path)
            except ConfigError as exc:
                raise ValueError(exc.what) from None
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


_DENO_FILE = re.compile(r"^\s+(file://\S+?) \([\d.]+\s?[KMGk]?i?B\)\s*$")


@dataclass
class PublishSets:
    """Lazily computed, cached publish sets for one run (safe to share between threads).

    ``npm_build``: the configured build command (``{version}`` replaced by ``version``);
    ``tag_version``: the version for ``deno publish --set-version`` when deno.json has none."""

    root: Path
    env: Mapping[str, str]
    dist_dir: Path | None = None
    timeout: float = 300.0
    npm_build: str | None = None
    version: str | None = None
    tag: str | None = None
    tag_version: str | None = None
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

    def get_many(self, wanted: Sequence[tuple[str, Path]]) -> list[PublishSet]:
        """Each (target, directory)'s set, in order; readers at the same time as the builders."""
        if len(wanted) < 2:
            return [self.get(*w) for w in wanted]
        builders = [w for w in wanted if self._builds_in_tree(*w)]
        readers = [w for w in wanted if w not in builders]

        def build_in_turn() -> None:
            for w in builders:
                self.get(*w)

        with ThreadPoolExecutor(max_workers=len(readers) + 1) as pool:
            waits = [pool.submit(proc.same_priority(build_in_turn))] + [
                pool.submit(proc.same_priority(self.get), *w) for w in readers
            ]
            for wait in waits:
                wait.result()
        return [self.get(*w) for w in wanted]

    def _builds_in_tree(self, target: str, directory: Path) -> bool:
        """Whether listing ``target`` runs a build that writes into the work tree."""
        if target == "npm":
            scripts = tooling.node(directory).scripts
            return bool(self.npm_build) or any(scripts.get(s) for s in ("prepare", "prepack"))
        if target == "pypi":
            return not self._dist_files((".whl", ".tar.gz"), "pypi")
        return False  # deno publish --dry-run and the built binaries only read

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

    def _located(self, text: str) -> tuple[Finding, ...]:
        """The build's own errors with their file and line (none when unrecognised)."""
        parsed = output.parse(text, self.root)
        return tuple(f for f in parsed.findings if parsed.structured and f.file)

    def _build_failed(
        self, target: str, description: str, command: str, result: proc.Result, *, hint: str
    ) -> PublishSet:
        """``command`` failed while making the publish set: its last lines, and the build's
        own errors where its output names their file and line."""
        return PublishSet(
            target,
            description,
            error=f"{command} failed: {result.tail(3)}",
            hint=hint,
            problems=self._located(result.output),
        )

    def _run(
        self, argv: list[str], cwd: Path, extra: Mapping[str, str] | None = None
    ) -> proc.Result:
        return proc.run(
            argv,
            cwd=cwd,
            env=command_env(self.env, extra),
            timeout=self.timeout,
            log_output=False,
        )

    def _npm(self, directory: Path) -> PublishSet:
        if self.npm_build:
            values = {"version": self.version or "", "tag": self.tag or ""}
            command = self.npm_build
            for key, value in values.items():
                command = command.replace("{" + key + "}", value)
            built = self._run(
                proc.shell_argv(command),
                self.root,
                {"SHIPIT_VERSION": values["version"], "SHIPIT_TAG": values["tag"]},
            )
            if not built.ok:
                return self._build_failed(
                    "npm",
                    "npm package",
                    f"the npm build command `{command}`",
                    built,
                    hint=f"run `{command}` yourself and fix it ([npm] build-command)",
                )
        if not (directory / "package.json").is_file():
            where = f"{directory} after `{self.npm_build}`" if self.npm_build else str(directory)
            return PublishSet(
                "npm",
                "npm package",
                error=f"no package.json in {where}",
                hint="set [npm] directory (or build-command) in shipit.toml",
            )
        node = tooling.node(directory)
        builds = any(node.scripts.get(s) for s in ("prepare", "prepack"))
        argv = ["npm", "pack", "--dry-run", "--json"]
        if builds:
            missing = deps.node_dependencies(directory)
            if missing is not None:
                return PublishSet(
                    "npm",
                    "npm package",
                    error=f"the package builds on `npm pack` (prepare/prepack) but "
                    f"{missing.message}",
                    hint=missing.hint,
                    problems=(missing,),
                )
        else:
            argv.append("--ignore-scripts")
        r = self._run(argv, directory)
        if not r.ok:
            return PublishSet(
                "npm",
                "npm package",
                error=f"`{' '.join(argv)}` failed"
                + (" in the package's prepare build" if builds else "")
                + f": {r.tail(3)}",
                hint=f"run `{' '.join(argv)}` in {directory} to see the problem",
                problems=self._located(r.output),
            )
        start = r.stdout.find("\n[")
        start = start + 1 if start >= 0 else r.stdout.find("[")
        data = json.loads(r.stdout[start:]) if start >= 0 else []
        if not data:
            return PublishSet(
                "npm", "npm package", error="`npm pack --dry-run --json` printed no list"
            )
        info = data[0]
        files = tuple(
            (self._rel(directory, f["path"]), directory / f["path"]) for f in info.get("files", [])
        )
        how = "npm pack, after its prepare build" if builds else "npm pack"
        if self.npm_build:
            how = f"npm pack, after `{self.npm_build}`"
        return PublishSet(
            "npm", f"files in the npm tarball ({how})", files, integrity=info.get("integrity")
        )

    def _jsr(self, directory: Path) -> PublishSet:
        found = deno_config(directory)
        if found is None:
            return PublishSet(
                "jsr", "JSR package", error=f"no deno.json or jsr.json in {directory}"
            )
        _, config = found
        deno = proc.which("deno", command_env(self.env))
        fallback = "deno was not found"
        if deno is not None:
            argv = [deno, "publish", "--dry-run", "--allow-dirty", "--no-check"]
            if not config.get("version") and self.tag_version:
                argv += ["--set-version", self.tag_version]
            r = self._run(argv, directory)
            listed = [m.group(1) for m in map(_DENO_FILE.match, r.output.splitlines()) if m]
            if r.ok and listed:
                paths = [Path(u[len("file://") :]) for u in listed]
                return PublishSet(
                    "jsr",
                    "files in the JSR package (deno publish --dry-run)",
                    tuple((self._rel(p.parent, p.name), p) for p in paths),
                )
            # deno refuses the package as it is (the release will say why): list the files
            # its include/exclude rules select, so the scan still covers them
            fallback = f"`deno publish --dry-run` failed: {r.tail(1)}"
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
            f"files in the JSR package by publish.include/exclude ({fallback})",
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
        description = "files in the release's built wheel and sdist"
        with tempfile.TemporaryDirectory(prefix="shipit-build-") as tmp:
            if not built:
                # in this environment when it has the project's build backend (seconds
                # faster), else isolated as the release builds; no egg-info left behind:
                # the tree stays clean
                build = [sys.executable, "-m", "build", "--outdir", tmp]
                with build_leaves_no_trace(directory):
                    r = None
                    if pybuild.has_build_backend(directory):
                        r = self._run([*build, "--no-isolation", "."], directory)
                    if r is None or not r.ok:
                        r = self._run([*build, "."], directory)
                if not r.ok:
                    return self._build_failed(
                        "pypi",
                        "PyPI package",
                        "`python -m build`",
                        r,
                        hint=f"run `python -m build` in {directory} to see the problem",
                    )
                built = sorted(Path(tmp).iterdir())
                description = "files in the wheel and sdist python -m build makes"
            contents: list[tuple[str, bytes]] = []
            for path in built:
                contents.extend(archives.contents(path))
        return PublishSet("pypi", description, contents=tuple(contents))

    def _binaries(self) -> PublishSet:
        """Once the release built them: the text files beside the binaries and every text
        file inside the archives (the programs themselves are not text)."""
        if self.dist_dir is None or not any(self.dist_dir.glob("*")):
            return PublishSet(
                "binaries",
                "binaries",
                deferred="the binaries and their archives are built by the release; it scans "
                "them before anything is published",
            )
        files: list[tuple[str, Path | None]] = []
        contents: list[tuple[str, bytes]] = []
        for p in sorted(self.dist_dir.rglob("*")):
            if not p.is_file():
                continue
            if p.name.endswith((".tar.gz", ".tgz", ".zip")):
                contents.extend(m for m in archives.contents(p) if b"\0" not in m[1][:4096])
            elif not _is_binary(p):
                files.append((self._rel(p.parent, p.name), p))
        return PublishSet(
            "binaries",
            "files beside and inside the release's binaries",
            tuple(files),
            contents=tuple(contents),
        )


def _is_binary(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True
    return b"\0" in head
