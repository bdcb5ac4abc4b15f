"""Which version a release is: the one function every command asks.

``choose(project, version=..., bump=...)``: an explicit ``--version``, or the manifests'
version raised by ``--bump`` (npm's ``semver inc`` rules, ``versions.bump``), or the version
the manifests state. The answer is shipit's canonical SemVer form, valid for every enabled
target. Tag-driven projects (no version in any manifest) will get theirs from the latest tag
here too, so that `plan`, `release` and `version` never disagree.
"""

from __future__ import annotations

from shipit.errors import UsageError, VersionError
from shipit.project.model import Project
from shipit.project.versions import bump as bumped
from shipit.project.versions import validate_for


def choose(
    project: Project,
    *,
    version: str | None = None,
    bump: str | None = None,
    preid: str | None = None,
) -> str:
    """The version to release (canonical SemVer); VersionError/UsageError saying why not."""
    if version and bump:
        raise UsageError(
            "--version and --bump cannot be used together",
            why=f"--version {version} names the version, --bump {bump} computes one",
            hint=f"use one: shipit release --version {version}, or shipit release --bump {bump}",
        )
    if preid and bump != "prerelease":
        raise UsageError(
            "--preid works only with --bump prerelease",
            hint=f"shipit release --bump prerelease --preid {preid}",
        )
    targets = [t.name for t in project.enabled_targets]
    canonical = project.canonical
    if version:
        return validate_for(version, targets, file="--version")
    current = project.version
    if not current:
        raise VersionError(
            "no version to release" if not bump else f"no version to bump ({bump})",
            why="no manifest states a version and no --version was given",
            hint="pass the version: shipit release --version 1.2.3",
        )
    where = str(canonical.file) if canonical is not None else None
    if bump:
        base = validate_for(current, targets, file=where)
        return validate_for(bumped(base, bump, preid), targets, file="--bump")
    return validate_for(current, targets, file=where)
