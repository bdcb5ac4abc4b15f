"""Detect the project: its ecosystems, every file that states the version, and the targets.

``detect(root, config, env)`` reads deno.json / deno.jsonc, jsr.json, package.json and
pyproject.toml (PEP 621, static ``[tool.poetry]``, or a dynamic version read from a
``__version__`` file), plus the extra files named in ``project.version-files``. Each publish
target is switched on by what is found (with the reason) and can be forced on or off in the
configuration. Nothing here writes files or talks to the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit import git
from shipit.config import Config
from shipit.errors import ConfigError
from shipit.git_snapshot import Snapshot
from shipit.project import manifests
from shipit.project import tags as tag_conventions
from shipit.project.model import Project, SourceKind, Target, VersionSource

CANONICAL_ORDER: tuple[SourceKind, ...] = (
    "deno.json",
    "jsr.json",
    "package.json",
    "pep621",
    "poetry",
    "python-file",
    "pattern",
)


@dataclass(frozen=True)
class _Manifest:
    path: Path
    data: dict[str, Any]


def _rel(root: Path, path: Path) -> Path:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return path


def _dir(root: Path, directory: str) -> Path:
    return (root / directory).resolve()


def _present(root: Path, path: Path) -> bool:
    """``path`` is a manifest to read: a file, or a symbolic link to a file inside the project.
    A link that leads nowhere (missing target, a loop) or out of the project is a
    ``ConfigError``: silently skipping it would turn a target off, and following it out
    would make npm, deno and shipit's version edits read and write outside the project."""
    if path.is_symlink():
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        link = os.readlink(path)
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            reason = getattr(exc, "strerror", None) or "the links form a loop"
            raise ConfigError(
                f"{shown} is a symbolic link that leads nowhere",
                why=f"{path} -> {link}: {reason}",
                hint=f"point {shown} at a file in the project (or put the file itself there), "
                "then run `shipit check`",
            ) from None
        if not target.is_relative_to(root):
            raise ConfigError(
                f"{shown} is a symbolic link to a file outside the project",
                why=f"{path} -> {target}: npm, deno and shipit's version edits would read and "
                f"write outside {root}",
                hint=f"replace the link with the file itself (`cp --remove-destination {target} "
                f"{path}`), then run `shipit check`",
            )
    return path.is_file()


def _deno_manifest(root: Path, directory: Path) -> _Manifest | None:
    for name in ("deno.json", "deno.jsonc"):
        path = directory / name
        if _present(root, path):
            return _Manifest(path, manifests.read_json(path))
    return None


def _json_manifest(root: Path, path: Path) -> _Manifest | None:
    return _Manifest(path, manifests.read_json(path)) if _present(root, path) else None


def _json_source(root: Path, m: _Manifest, kind: SourceKind) -> VersionSource | None:
    version, line = manifests.json_version(m.path)
    if version is None:
        return None
    return VersionSource(_rel(root, m.path), kind, version, line)


def _missing_jsr_fields(data: dict[str, Any]) -> list[str]:
    """What a JSR package config lacks; no ``version`` is fine (a tag-driven package is
    published with ``deno publish --set-version``)."""
    return [key for key in ("name", "exports") if not data.get(key)]


_VCS_BUILD_REQUIRES = ("setuptools_scm", "setuptools-scm", "hatch-vcs", "hatch_vcs")


def _python_version_from_vcs(doc: Any) -> str | None:
    """Which tool derives a dynamic Python version from git tags, or None."""
    if manifests.toml_table(doc, "tool", "hatch", "version", "source") == "vcs":
        return "hatch-vcs"
    if manifests.toml_table(doc, "tool", "setuptools_scm") is not None:
        return "setuptools-scm"
    if manifests.toml_table(doc, "tool", "pdm", "version", "source") == "scm":
        return "pdm-backend (scm)"
    requires = manifests.toml_table(doc, "build-system", "requires") or []
    for item in requires if isinstance(requires, list) else []:
        if any(str(item).replace(" ", "").startswith(r) for r in _VCS_BUILD_REQUIRES):
            return str(item).split(">")[0].split("=")[0].split("<")[0].strip()
    return None


def _tag_driven(
    jsr_manifest: _Manifest | None, doc: Any, sources: list[VersionSource], root: Path
) -> str | None:
    """Why the project's version lives in its git tags only, or None when a file states it."""
    if any(s.version is not None for s in sources):
        return None
    jsr = jsr_manifest
    if jsr is not None and not _missing_jsr_fields(jsr.data) and not jsr.data.get("version"):
        return f'{_rel(root, jsr.path)} has no "version": it comes from the tags'
    if doc is not None:
        dynamic = manifests.toml_table(doc, "project", "dynamic") or []
        tool = _python_version_from_vcs(doc)
        if tool and "version" in dynamic:
            return f"pyproject.toml's version is dynamic, from the git tags ({tool})"
    return None


# ---------------------------------------------------------------- python


def _resolve_attr_file(root: Path, attr: str) -> Path | None:
    """File for a setuptools ``attr = "pkg.mod.__version__"``."""
    module = attr.rsplit(".", 1)[0]
    parts = module.split(".")
    for base in (root / "src", root):
        for candidate in (
            base.joinpath(*parts, "__init__.py"),
            base.joinpath(*parts[:-1], parts[-1] + ".py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def _python_version_file(root: Path, pyproject: Any, config: Config) -> Path | None:
    """The file holding ``__version__`` for a dynamic version (config first, then tooling)."""
    configured = config.project.python_version_file
    if configured:
        path = root / configured
        if not path.is_file():
            raise ConfigError(
                f"project.python-version-file names {configured}, which does not exist",
                why=f"looked for {path}",
                hint="fix project.python-version-file in the configuration",
            )
        return path
    attr = manifests.toml_table(pyproject, "tool", "setuptools", "dynamic", "version", "attr")
    if isinstance(attr, str):
        return _resolve_attr_file(root, attr)
    hatch = manifests.toml_table(pyproject, "tool", "hatch", "version", "path")
    if isinstance(hatch, str) and (root / hatch).is_file():
        return root / hatch
    return None


def _python_sources(
    root: Path, pyproject_path: Path, config: Config, notes: list[str]
) -> tuple[list[VersionSource], Any]:
    doc = manifests.read_toml(pyproject_path)
    sources: list[VersionSource] = []
    project = manifests.toml_table(doc, "project")
    rel = _rel(root, pyproject_path)
    if project is not None:
        version, line = manifests.toml_version(pyproject_path, ("project",))
        if version is not None:
            sources.append(VersionSource(rel, "pep621", version, line))
        elif "version" in (project.get("dynamic") or []):
            path = _python_version_file(pyproject_path.parent, doc, config)
            if path is None and _python_version_from_vcs(doc) is not None:
                return sources, doc  # tag-driven: the version is the release tag's
            if path is None:
                notes.append(
                    f"{rel}: the version is dynamic and shipit cannot tell which file holds "
                    'it; set project.python-version-file = "src/<pkg>/__init__.py" if a '
                    "__version__ line does (a version from git tags needs no file)"
                )
                return sources, doc
            version, line = manifests.pattern_version(path, manifests.PYTHON_VERSION_PATTERN)
            sources.append(
                VersionSource(
                    _rel(root, path), "python-file", version, line, manifests.PYTHON_VERSION_PATTERN
                )
            )
    else:
        version, line = manifests.toml_version(pyproject_path, ("tool", "poetry"))
        if version is not None:
            sources.append(VersionSource(rel, "poetry", version, line))
    return sources, doc


# ---------------------------------------------------------------- targets


def _override(enabled: bool | None, key: str, found: Target) -> Target:
    if enabled is None:
        return found
    if enabled == found.enabled:
        return Target(
            found.name,
            enabled,
            f"{found.reason}; {key} = {str(enabled).lower()} in config",
            found.package,
            found.directory,
        )
    state = "on" if enabled else "off"
    return Target(
        found.name,
        enabled,
        f"switched {state} in config ({key} = {str(enabled).lower()}); detection: {found.reason}",
        found.package,
        found.directory,
    )


def _npm_target(config: Config, directory: Path, pkg: _Manifest | None) -> Target:
    rel = config.npm.directory.rstrip("/")
    shown = "package.json" if rel in ("", ".") else f"{rel}/package.json"
    if pkg is None and config.npm.build_command:
        found = Target(
            "npm",
            True,
            f"{shown} is written by [npm] build-command (not built yet)",
            None,
            directory,
        )
    elif pkg is None:
        found = Target("npm", False, f"no {shown}", None, directory)
    elif pkg.data.get("private") is True:
        found = Target(
            "npm", False, f'{shown} has "private": true', pkg.data.get("name"), directory
        )
    elif not pkg.data.get("name"):
        found = Target("npm", False, f"{shown} has no name", None, directory)
    else:
        name = str(pkg.data["name"])
        found = Target("npm", True, f"{shown} found ({name})", name, directory)
    return _override(config.npm.enabled, "npm.enabled", found)


def _jsr_target(config: Config, directory: Path, manifest: _Manifest | None) -> Target:
    if manifest is None:
        found = Target("jsr", False, "no deno.json, deno.jsonc or jsr.json", None, directory)
    else:
        missing = _missing_jsr_fields(manifest.data)
        name = manifest.data.get("name")
        if missing:
            found = Target(
                "jsr",
                False,
                f"{manifest.path.name} has no {', '.join(missing)}",
                str(name) if name else None,
                directory,
            )
        else:
            fields = (
                "name, version and exports"
                if manifest.data.get("version")
                else ("name and exports, the version from the tags")
            )
            found = Target(
                "jsr", True, f"{manifest.path.name} has {fields} ({name})", str(name), directory
            )
    return _override(config.jsr.enabled, "jsr.enabled", found)


def _pypi_target(config: Config, directory: Path, doc: Any) -> Target:
    project = manifests.toml_table(doc, "project") if doc is not None else None
    poetry = manifests.toml_table(doc, "tool", "poetry") if doc is not None else None
    if doc is None:
        found = Target("pypi", False, "no pyproject.toml", None, directory)
    elif project is not None:
        name = project.get("name")
        found = Target(
            "pypi",
            bool(name),
            f"pyproject.toml has a [project] table ({name})"
            if name
            else "pyproject.toml [project] has no name",
            str(name) if name else None,
            directory,
        )
    elif poetry is not None and poetry.get("name"):
        name = str(poetry["name"])
        found = Target("pypi", True, f"pyproject.toml has [tool.poetry] ({name})", name, directory)
    else:
        found = Target("pypi", False, "pyproject.toml has no [project] table", None, directory)
    return _override(config.pypi.enabled, "pypi.enabled", found)


def _github_target(
    root: Path, config: Config, env: Mapping[str, str], snapshot: Snapshot
) -> Target:
    repo = config.github.repository
    reason = f"github.repository = {repo} in config" if repo else ""
    if not repo and env.get("GITHUB_REPOSITORY"):
        repo = env["GITHUB_REPOSITORY"]
        reason = f"GITHUB_REPOSITORY={repo}"
    url: str | None = None
    if snapshot.is_repo():
        url = snapshot.remote_url(config.release.remote)
    from_remote = git.github_repo_from_url(url)
    if not repo and from_remote:
        repo = from_remote
        reason = f"{config.release.remote} is github.com/{from_remote}"
    if repo:
        found = Target("github", True, reason, repo, None)
    elif url:
        found = Target(
            "github", False, f"{config.release.remote} ({url}) is not on github.com", None, None
        )
    else:
        found = Target(
            "github",
            False,
            f"no `{config.release.remote}` remote and no GITHUB_REPOSITORY",
            None,
            None,
        )
    return _override(config.github.enabled, "github.enabled", found)


def _binaries_target(root: Path, config: Config, name: str | None) -> Target:
    """On when ``[binaries]`` lists targets (or says ``enabled = true``), unless it says
    ``enabled = false``."""
    b = config.binaries
    targets = ", ".join(b.targets) if b.targets else "no targets yet"
    program = b.name or (name.rsplit("/", 1)[-1] if name else root.name)
    if b.enabled:
        return Target("binaries", True, f"[binaries] enabled in config ({targets})", program, root)
    if b.enabled is None and b.targets:
        return Target("binaries", True, f"[binaries] lists targets ({targets})", program, root)
    if b.enabled is False:
        return Target("binaries", False, "[binaries] enabled = false in config", None, root)
    return Target("binaries", False, "not configured (no [binaries] targets)", None, root)


# ---------------------------------------------------------------- detect


def _pattern_sources(root: Path, config: Config) -> list[VersionSource]:
    sources: list[VersionSource] = []
    for entry in config.project.version_files:
        path = root / entry.file
        if not path.is_file():
            raise ConfigError(
                f"project.version-files names {entry.file}, which does not exist",
                why=f"looked for {path}",
                hint="fix project.version-files in the configuration, or create the file",
            )
        version, line = manifests.pattern_version(path, entry.pattern)
        sources.append(VersionSource(_rel(root, path), "pattern", version, line, entry.pattern))
    return sources


def _canonical(root: Path, config: Config, sources: list[VersionSource]) -> VersionSource | None:
    wanted = config.project.version_source
    if wanted:
        target = Path(wanted)
        for source in sources:
            if source.file == target or (root / source.file).resolve() == (root / target).resolve():
                return source
        listed = ", ".join(str(s.file) for s in sources) or "none"
        raise ConfigError(
            f"project.version-source is {wanted}, which states no version",
            why=f"files with a version: {listed}",
            hint="set project.version-source to one of those files",
        )
    with_version = [s for s in sources if s.version is not None]
    for kind in CANONICAL_ORDER:
        for source in with_version:
            if source.kind == kind:
                return source
    return None


def detect(
    root: Path, config: Config, env: Mapping[str, str], repo: Snapshot | None = None
) -> Project:
    """Look at the project in ``root`` and say what it is, what version, and where it goes.

    ``repo`` is the run's git snapshot to read (and to hand on with the project: checks,
    plan and steps read the repository through ``Project.repo``); a new one by default."""
    root = root.resolve()
    repo = repo or Snapshot(root)
    jsr_dir = _dir(root, config.jsr.directory)
    npm_dir = _dir(root, config.npm.directory)
    pypi_dir = _dir(root, config.pypi.directory)

    deno = _deno_manifest(root, jsr_dir)
    jsr_json = _json_manifest(root, jsr_dir / "jsr.json")
    pkg = _json_manifest(root, npm_dir / "package.json")
    pyproject_path = pypi_dir / "pyproject.toml"

    sources: list[VersionSource] = []
    ecosystems: list[str] = []
    notes: list[str] = []
    if deno is not None:
        ecosystems.append("deno")
        src = _json_source(root, deno, "deno.json")
        if src:
            sources.append(src)
    if jsr_json is not None:
        if "deno" not in ecosystems:
            ecosystems.append("deno")
        src = _json_source(root, jsr_json, "jsr.json")
        if src:
            sources.append(src)
    if pkg is not None:
        ecosystems.append("node")
        src = _json_source(root, pkg, "package.json")
        if src:
            sources.append(src)
    doc: Any = None
    if _present(root, pyproject_path):
        ecosystems.append("python")
        py_sources, doc = _python_sources(root, pyproject_path, config, notes)
        sources.extend(py_sources)
    sources.extend(_pattern_sources(root, config))

    # JSR reads jsr.json when both exist only if deno.json lacks the package fields.
    jsr_manifest = deno
    if jsr_json is not None and (deno is None or _missing_jsr_fields(deno.data)):
        jsr_manifest = jsr_json

    name = config.project.name
    for candidate in (
        jsr_manifest.data.get("name") if jsr_manifest else None,
        pkg.data.get("name") if pkg else None,
        manifests.toml_table(doc, "project", "name") if doc is not None else None,
        manifests.toml_table(doc, "tool", "poetry", "name") if doc is not None else None,
    ):
        if not name and isinstance(candidate, str) and candidate:
            name = candidate

    targets = {
        "npm": _npm_target(config, npm_dir, pkg),
        "jsr": _jsr_target(config, jsr_dir, jsr_manifest),
        "pypi": _pypi_target(config, pypi_dir, doc),
        "github": _github_target(root, config, env, repo),
        "binaries": _binaries_target(root, config, name),
    }
    convention = tag_conventions.read(root, config, name, repo)
    warnings = [convention.warning] if convention.warning else []
    warnings += _unpublished(targets)
    return Project(
        root=root,
        ecosystems=tuple(ecosystems),
        sources=tuple(sources),
        canonical=_canonical(root, config, sources),
        targets=dict(targets),
        name=name,
        notes=tuple(notes),
        tags=convention,
        tag_driven=_tag_driven(jsr_manifest, doc, sources, root),
        warnings=tuple(warnings),
        _repo=repo,
    )


def _unpublished(targets: Mapping[str, Target]) -> list[str]:
    """Artifacts the release would build that no step publishes."""
    binaries, github = targets["binaries"], targets["github"]
    if binaries.enabled and not github.enabled:
        return [
            f"binaries are built ({binaries.reason}) but nothing publishes them: the GitHub "
            f"release is off ({github.reason}); set [github] repository, or "
            "[binaries] enabled = false"
        ]
    return []
