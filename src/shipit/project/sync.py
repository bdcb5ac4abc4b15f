"""Write a version into every source, and make the sources agree with the canonical one.

``set_version`` validates the version for every enabled target first and writes nothing when
it is invalid; each file receives the form its ecosystem uses (SemVer in JSON manifests and
extra files, PEP 440 in pyproject.toml and ``__version__`` files). Only the version token of
each file changes. ``check_consistent`` raises the "versions disagree" error naming the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipit.errors import VersionError, VersionInconsistent
from shipit.files import write_text_atomic
from shipit.project import manifests
from shipit.project.model import Project, VersionSource
from shipit.project.versions import same_version, to_pep440, validate_for

PEP440_KINDS = frozenset({"pep621", "poetry", "python-file"})


@dataclass(frozen=True)
class Change:
    """One file whose version was (or would be) rewritten."""

    file: Path
    old: str | None
    new: str


def form_for(source: VersionSource, version: str) -> str:
    """The spelling of ``version`` (canonical SemVer) that ``source``'s file uses."""
    if source.kind in PEP440_KINDS:
        return to_pep440(version, file=str(source.file))
    return version


def _write(project: Project, source: VersionSource, text: str) -> bool:
    path = project.root / source.file
    if source.kind in ("package.json", "deno.json", "jsr.json"):
        return manifests.set_json_version(path, text)
    if source.kind == "pep621":
        return manifests.set_toml_version(path, ("project",), text)
    if source.kind == "poetry":
        return manifests.set_toml_version(path, ("tool", "poetry"), text)
    pattern = source.pattern or manifests.PYTHON_VERSION_PATTERN
    return manifests.set_pattern_version(path, pattern, text)


def plan_changes(project: Project, version: str) -> list[Change]:
    """The files ``set_version(project, version)`` would rewrite (nothing is written)."""
    changes: list[Change] = []
    for source in project.sources:
        new = form_for(source, version)
        if source.version != new:
            changes.append(Change(source.file, source.version, new))
    return changes


def set_version(project: Project, version: str) -> tuple[str, list[Change]]:
    """Write ``version`` into every source; return (canonical SemVer, files changed).

    Validated first for every enabled target and every file's form: when anything is wrong,
    nothing is written. A tag-driven project (``project.tag_driven``) has no file to write:
    the version is only validated (the release tag carries it).
    """
    if project.tag_driven and not any(s.version for s in project.sources):
        return validate_for(version, {t.name for t in project.enabled_targets}), []
    if not project.sources:
        raise VersionError(
            "no file states the version",
            why="shipit found no version in deno.json, jsr.json, package.json or pyproject.toml",
            hint="add a version to your manifest, or list files in project.version-files",
        )
    targets = {t.name for t in project.enabled_targets}
    canonical = validate_for(version, targets - {"pypi"})
    pep440_files = [str(s.file) for s in project.sources if s.kind in PEP440_KINDS]
    if "pypi" in targets or pep440_files:
        to_pep440(canonical, file=pep440_files[0] if pep440_files else "pyproject.toml")
    todo = plan_changes(project, canonical)  # raises before any write if a form is impossible
    originals = {c.file: manifests.read_text(project.root / c.file) for c in todo}
    done: list[Change] = []
    try:
        for change in todo:
            source = next(s for s in project.sources if s.file == change.file)
            if _write(project, source, change.new):
                done.append(change)
    except BaseException:  # all files or none: put back what was already written
        for change in done:
            write_text_atomic(project.root / change.file, originals[change.file])
        raise
    return canonical, done


def sync(project: Project) -> tuple[str, list[Change]]:
    """Copy the canonical source's version into every other source."""
    source = project.canonical
    if source is None or source.version is None:
        raise VersionError(
            "no canonical version to sync from",
            why="no deno.json, jsr.json, package.json or pyproject.toml states a version",
            hint='add "version": "0.1.0" to package.json or deno.json (or version = "0.1.0" '
            "to [project] in pyproject.toml), then: shipit version sync",
        )
    return set_version(project, validate_for(source.version, [], file=str(source.file)))


def check_consistent(project: Project) -> None:
    """Raise a VersionError (exit 1) naming every file whose version differs from the canonical."""
    if project.consistent:
        return
    canonical = project.canonical
    differing = [
        s
        for s in project.sources
        if canonical is not None
        and s.version is not None
        and canonical.version is not None
        and not same_version(s.version, canonical.version)
    ]
    lines = [f"{s.file}: {s.version}" for s in project.sources if s.version is not None]
    first = canonical
    other = differing[0] if differing else None
    what = "the version files disagree"
    if first is not None and other is not None:
        what = (
            f"the version files disagree: {first.file} says {first.version}, "
            f"{other.file} says {other.version}"
        )
    raise VersionInconsistent(
        what,
        why="every file must state the same version before a release:\n" + "\n".join(lines),
        hint=f"shipit version sync   (copies {first.file if first else 'the canonical'} "
        "into the others), or: shipit version set X.Y.Z",
    )
