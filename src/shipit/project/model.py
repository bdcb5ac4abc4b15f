"""The detected project as plain data: version sources and publish targets.

``shipit.project.detect.detect(root, config, env)`` builds a ``Project``; everything else
(checks, plan, steps, status) reads it and never re-parses manifests itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from shipit.project.tags import TagConvention

if TYPE_CHECKING:
    from shipit.git_snapshot import Snapshot

TargetName = Literal["npm", "jsr", "pypi", "github", "binaries"]
SourceKind = Literal[
    "package.json", "deno.json", "jsr.json", "pep621", "poetry", "python-file", "pattern"
]


@dataclass(frozen=True)
class VersionSource:
    """One place that states the version. ``file`` is relative to the project root."""

    file: Path
    kind: SourceKind
    version: str | None
    line: int | None = None
    pattern: str | None = None  # the regex of a "python-file" or "pattern" source


@dataclass(frozen=True)
class Target:
    """A publish destination, whether it is on, and why (shown by `plan` and `version`)."""

    name: TargetName
    enabled: bool
    reason: str
    package: str | None = None  # npm/JSR/PyPI package name, GitHub owner/repo, binary name
    directory: Path | None = None  # absolute directory of the package's manifest


@dataclass(frozen=True)
class Project:
    root: Path
    ecosystems: tuple[str, ...]  # subset of ("deno", "node", "python")
    sources: tuple[VersionSource, ...]
    canonical: VersionSource | None
    targets: dict[str, Target] = field(default_factory=dict)
    name: str | None = None
    notes: tuple[str, ...] = ()  # what detection could not settle, for `shipit version`
    #: likely mistakes (`shipit check --strict` fails on them): a tag format the tags do not
    #: follow, binaries built that nothing publishes
    warnings: tuple[str, ...] = ()
    tags: TagConvention = field(default_factory=TagConvention)
    #: why the version lives in git tags only (deno.json without "version", hatch-vcs), or None
    tag_driven: str | None = None
    _repo: Snapshot | None = field(default=None, compare=False, repr=False)

    @property
    def repo(self) -> Snapshot:
        """The run's git snapshot of the repository at ``root``: read once, shared by the
        checks, the plan and the steps that get this project (made on first use)."""
        if self._repo is None:
            from shipit.git_snapshot import Snapshot

            object.__setattr__(self, "_repo", Snapshot(self.root))
        assert self._repo is not None
        return self._repo

    @property
    def version(self) -> str | None:
        """The canonical source's version; for a tag-driven project, the latest release tag's
        (None when neither states one)."""
        if self.canonical is not None:
            return self.canonical.version
        return self.tags.latest_version if self.tag_driven else None

    def tag_for(self, version: str) -> str:
        """The release tag of ``version`` (``release.tag-format``, or the inferred format)."""
        return self.tags.tag_for(version)

    @property
    def consistent(self) -> bool:
        """True when every source states the same version (PEP 440 forms compared mapped)."""
        from shipit.project.versions import same_version

        versions = [s.version for s in self.sources if s.version is not None]
        return all(same_version(versions[0], v) for v in versions[1:]) if versions else True

    def target(self, name: TargetName) -> Target | None:
        t = self.targets.get(name)
        return t if t is not None and t.enabled else None

    @property
    def enabled_targets(self) -> list[Target]:
        return [t for t in self.targets.values() if t.enabled]
