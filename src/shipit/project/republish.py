"""The plain words for a version a registry will not take again.

npm, JSR and PyPI never let a version be published a second time: npm refuses a version
number that was ever published, even after ``npm unpublish``; JSR keeps a yanked version
forever (yanking only hides it); PyPI never deletes or replaces a file, and a rebuilt sdist of
the same commit is not byte-identical. So after a rollback, or when a registry holds other
bytes under the release's version, the only way on is a new version, and every such message
says so and names it.
"""

from __future__ import annotations

from shipit.errors import VersionError
from shipit.project import versions

NEVER_AGAIN = (
    "registries never let a version be published again, not even after a rollback, "
    "an unpublish or a yank"
)


def next_version(version: str) -> str:
    """The version to release instead: the next patch (the next pre-release of a
    pre-release)."""
    try:
        part = "prerelease" if versions.is_prerelease(version) else "patch"
        return versions.bump(version, part)
    except VersionError:
        return "X.Y.Z"


def new_version_hint(version: str | None) -> str:
    """``release a new version: `shipit release --version <next>```; ``--bump patch`` when
    the version is not known."""
    if not version:
        return "release a new version: `shipit release --bump patch`"
    return f"release a new version: `shipit release --version {next_version(version)}`"
