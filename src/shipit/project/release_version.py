"""Which version a release is: the one function every command asks.

``choose(project, version=..., bump=...)``: an explicit ``--version``, or the manifests'
version raised by ``--bump`` (npm's ``semver inc`` rules, ``versions.bump``), or the version
the manifests state. The answer is shipit's canonical SemVer form, valid for every enabled
target. A tag-driven project (no version in any manifest: a deno.json without "version", a
hatch-vcs package) has the version of its latest release tag (``project.version``), so that
`plan`, `release` and `version` never disagree; ``--bump`` raises that.
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
    if not current and project.tag_driven:
        raise VersionError(
            "no version to release" if not bump else f"no version to bump ({bump})",
            why=f"{project.tag_driven}, and there is no release tag "
            f"({project.tags.tag_for('X.Y.Z')}) yet",
            hint="pass the first version: shipit release --version 0.1.0",
        )
    if not current:
        raise VersionError(
            "no version to release" if not bump else f"no version to bump ({bump})",
            why="no manifest states a version and no --version was given",
            hint="pass the version: shipit release --version 1.2.3",
        )
    where = str(canonical.file) if canonical is not None else project.tags.latest_tag
    if bump:
        base = validate_for(current, targets, file=where)
        return validate_for(bumped(base, bump, preid), targets, file="--bump")
    return validate_for(current, targets, file=where)
