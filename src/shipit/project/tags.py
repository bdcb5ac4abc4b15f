"""The project's tag convention, learned from its existing tags.

``release.tag-format`` wins when it is set; otherwise the format is inferred from the release
tags the repository already has (``v1.2.3``, ``1.2.3``, ``name@1.2.3``, ``pkg/v1.2.3``, any
prefix followed by a SemVer version), so a project whose tags are ``3.0.2, 3.0.3, 3.0.4`` gets
``3.0.5`` and not ``v3.0.5``; with no release tag at all it is ``v{version}``. A configured
format that no existing tag follows, while the tags follow another, is a warning.

The newest release tag of the format (reachable from HEAD) also gives the version of a
tag-driven project, one whose manifests state no version (a Deno library whose CI publishes
with the tag, a Python package built with hatch-vcs or setuptools-scm).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import semver

from shipit import git
from shipit.config import Config
from shipit.git_snapshot import Snapshot
from shipit.project.versions import is_semver, sort_key

DEFAULT_FORMAT = "v{version}"
Origin = Literal["configured", "inferred", "default"]

_TAIL = re.compile(
    r"^(?P<prefix>.*?)(?P<version>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$"
)


@dataclass(frozen=True)
class TagConvention:
    """The tag format a release uses, where it comes from, and the newest tag it matches."""

    format: str = DEFAULT_FORMAT
    origin: Origin = "default"
    examples: tuple[str, ...] = ()  # newest first: the tags it was inferred from or matches
    latest_tag: str | None = None  # the newest release tag of this format reachable from HEAD
    latest_version: str | None = None
    warning: str | None = None  # the configured format disagrees with the existing tags

    def tag_for(self, version: str) -> str:
        return tag_of(self.format, version)

    @property
    def source(self) -> str:
        """Where the format comes from, in words (`shipit version`, `shipit plan`)."""
        if self.origin == "configured":
            return "release.tag-format in the configuration"
        if self.origin == "inferred":
            return "inferred from tags " + ", ".join(self.examples)
        return "the default: no release tags yet"


def _versioned(tags: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Release-looking tags grouped by the text before their SemVer version."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for tag in tags:
        m = _TAIL.match(tag)
        if not m or not is_semver(m.group("version")):
            continue
        prefix = m.group("prefix")
        if prefix and (prefix[-1].isdigit() or prefix[-1] == "."):
            continue  # "1.2.3.4" or "build2.0.0.1": not a release tag
        groups.setdefault(prefix, []).append((m.group("version"), tag))
    return groups


def _key(version: str) -> semver.Version:
    return sort_key(version) or semver.Version(0)


def _newest_first(entries: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(entries, key=lambda e: _key(e[0]), reverse=True)


def infer(tags: Iterable[str], name: str | None = None) -> tuple[str, tuple[str, ...]] | None:
    """(format, the newest tags it was inferred from) for ``tags``, or None when none looks
    like a release tag. Several conventions (a monorepo's ``a/v1.0.0`` and ``b/v2.0.0``): the
    one naming the project ``name`` wins, then the one with the most tags, then the newest."""
    groups = _versioned(tags)
    if not groups:
        return None
    short = (name or "").rsplit("/", 1)[-1].lower()

    def rank(prefix: str) -> tuple[bool, int, semver.Version]:
        names_project = bool(short) and short in prefix.lower()
        newest = _newest_first(groups[prefix])[0][0]
        return (names_project, len(groups[prefix]), _key(newest))

    prefix = max(groups, key=rank)
    examples = tuple(tag for _, tag in _newest_first(groups[prefix])[:3])
    return prefix + "{version}", examples


def _matching(tags: Iterable[str], tag_format: str) -> list[tuple[str, str]]:
    pattern = git.tag_pattern(tag_format)
    found = []
    for tag in tags:
        m = pattern.match(tag)
        if m and sort_key(m.group("version")) is not None:
            found.append((m.group("version"), tag))
    return _newest_first(found)


def convention(
    configured: str | None, tags: Sequence[str], reachable: Sequence[str], name: str | None
) -> TagConvention:
    """The convention for a configured format (None: not set) and the repository's ``tags``
    (``reachable``: those reachable from HEAD, which give the latest version)."""
    inferred = infer(tags, name)
    warning = None
    if configured is not None:
        tag_format: str = configured
        origin: Origin = "configured"
        if inferred is not None and not _matching(tags, configured):
            other, examples = inferred
            warning = (
                f"release.tag-format is {configured!r}, but no existing tag follows it; the "
                f"tags look like {other!r} ({', '.join(examples)}): the next tag would be "
                f"{configured.replace('{version}', 'X.Y.Z')} instead of "
                f"{other.replace('{version}', 'X.Y.Z')}"
            )
    elif inferred is not None:
        tag_format, origin = inferred[0], "inferred"
    else:
        tag_format, origin = DEFAULT_FORMAT, "default"
    newest = _matching(reachable, tag_format)
    examples = inferred[1] if origin == "inferred" and inferred else tuple(t for _, t in newest[:3])
    return TagConvention(
        format=tag_format,
        origin=origin,
        examples=examples,
        latest_tag=newest[0][1] if newest else None,
        latest_version=newest[0][0] if newest else None,
        warning=warning,
    )


def tag_of(tag_format: str, version: str) -> str:
    """The tag ``tag_format`` gives ``version`` (``v{version}`` and 1.2.3: ``v1.2.3``)."""
    return tag_format.replace("{version}", version)


def configured_format(config: Config) -> str | None:
    """``release.tag-format`` when the configuration sets it, else None."""
    release = config.release
    return release.tag_format if "tag_format" in release.model_fields_set else None


def read(
    root: Path, config: Config, name: str | None, repo: Snapshot | None = None
) -> TagConvention:
    """The convention of the repository at ``root`` (the default one outside git), read
    through the run's git snapshot ``repo`` when given."""
    snapshot = repo or Snapshot(root)
    if not snapshot.is_repo():
        return convention(configured_format(config), (), (), name)
    tags = snapshot.list_tags()
    reachable = snapshot.reachable_tags() if tags else []
    return convention(configured_format(config), tags, reachable, name)


def effective_format(config: Config, tags: TagConvention) -> str:
    """``release.tag-format`` when the configuration sets it, else ``tags``'s format (the
    detected project's convention already honours the configuration; this also serves a
    project built by hand)."""
    return configured_format(config) or tags.format


def release_tag(config: Config, tags: TagConvention, version: str) -> str:
    """The release tag of ``version`` (see ``effective_format``)."""
    return tag_of(effective_format(config, tags), version)
