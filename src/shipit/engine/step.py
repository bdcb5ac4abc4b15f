"""The Step protocol: describe, probe, run, undo; and the context every step receives
(``make_context`` builds it for a release: its tag and release directory).

A step answers three questions about one visible effect of a release: is it already done out
there (``probe``), do it (``run``, idempotent), and undo it (``undo``, or say why it cannot).
Steps raise ``shipit.engine.retry.TransientError`` / ``PermanentError`` (or any ShipitError,
treated as permanent); the orchestrator retries, records and reports.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from shipit import workspace
from shipit.config import Config, Settings
from shipit.engine.states import UndoState
from shipit.project.model import Project
from shipit.project.tags import release_tag

if TYPE_CHECKING:
    from shipit.git_snapshot import Snapshot
    from shipit.parts import Part

Evidence = dict[str, Any]
"""JSON-serialisable facts a step leaves behind: hashes, URLs, ids. Never secrets."""


class ProbeState(enum.StrEnum):
    """What a probe found out there: not done yet, already done, or something else."""

    TODO = "todo"
    ALREADY_DONE = "already-done"  # the registry, forge or git already holds exactly this
    CONFLICT = "conflict"  # it holds something else under our name: never overwrite
    BLOCKED = "blocked"  # a release invariant does not hold: the step cannot run now


@dataclass(frozen=True)
class Probe:
    state: ProbeState
    evidence: Evidence = field(default_factory=dict)
    why: str | None = None
    hint: str | None = None

    @classmethod
    def already_done(cls, evidence: Evidence | None = None, why: str | None = None) -> Probe:
        return cls(ProbeState.ALREADY_DONE, evidence or {}, why)

    @classmethod
    def todo(cls, why: str | None = None, evidence: Evidence | None = None) -> Probe:
        return cls(ProbeState.TODO, evidence or {}, why)

    @classmethod
    def conflict(cls, why: str, hint: str) -> Probe:
        return cls(ProbeState.CONFLICT, {}, why, hint)

    @classmethod
    def blocked(cls, why: str, hint: str) -> Probe:
        return cls(ProbeState.BLOCKED, {}, why, hint)


@dataclass(frozen=True)
class Undo:
    state: UndoState
    message: str = ""
    hint: str | None = None

    @classmethod
    def undone(cls, message: str) -> Undo:
        return cls(UndoState.UNDONE, message)

    @classmethod
    def irreversible(cls, why: str, hint: str) -> Undo:
        return cls(UndoState.IRREVERSIBLE, why, hint)

    @classmethod
    def nothing(cls, message: str = "nothing to undo") -> Undo:
        return cls(UndoState.NOTHING, message)


class Progress(Protocol):
    """What a running step may report; the live view renders it."""

    def status(self, message: str) -> None: ...
    def advance(self, completed: int, total: int | None = None, label: str = "") -> None: ...
    def log(self, line: str) -> None: ...


class NullProgress:
    """A Progress that drops everything (tests, plan, dry-run)."""

    def status(self, message: str) -> None:
        pass

    def advance(self, completed: int, total: int | None = None, label: str = "") -> None:
        pass

    def log(self, line: str) -> None:
        pass


def _no_evidence(step_id: str) -> Evidence:
    return {}


@dataclass(frozen=True)
class Context:
    """Everything a step may read. Built once per release (or plan) by the engine."""

    root: Path
    config: Config
    settings: Settings
    project: Project
    version: str  # SemVer form; PyPI steps map it with project.versions.to_pep440
    tag: str
    commit: str  # the commit to release (HEAD when planned; the release commit if one is made)
    release_dir: Path  # .shipit/releases/<tag>
    env: Mapping[str, str]
    dry_run: bool = False
    ci: bool = False
    interactive: bool = False
    replace_assets: bool = False
    evidence_of: Callable[[str], Evidence] = _no_evidence
    """Evidence recorded (journal) by another step of this release, {} if none."""
    parts: Mapping[str, Part] = field(default_factory=dict)
    """Targets built on other machines (``release --parts``): their files are taken, not built."""
    skip_checks: bool = False
    """``release --skip-checks``: the ``checks`` step verifies the release invariants only."""
    slots: threading.Semaphore | None = None
    """CPU slots shared by the checks' heavy commands and the builds (``cpu_slot``)."""
    guard_tree: bool = False
    """A release (not a plan or a step driven on its own): right before a package is built
    from the work tree, HEAD must be the release commit with no tracked file changed."""
    _repo: Snapshot | None = field(default=None, compare=False, repr=False)

    @property
    def repo(self) -> Snapshot:
        """The run's git snapshot (the project's, which the checks read too): steps read
        the repository here and change it through its writers, so that what one step or
        check learned is not asked of git again."""
        if self._repo is None:
            same = self.project.root.resolve() == self.root.resolve()
            if same:
                repo = self.project.repo
            else:
                from shipit.git_snapshot import Snapshot

                repo = Snapshot(self.root)
            object.__setattr__(self, "_repo", repo)
        assert self._repo is not None
        return self._repo

    @property
    def dist_dir(self) -> Path:
        return self.release_dir / "dist"

    @property
    def log_dir(self) -> Path:
        return self.release_dir / "logs"


def tag_for(config: Config, project: Project, version: str) -> str:
    """The release tag: ``release.tag-format`` when set, else the format the project's tags
    follow (``project.tags``: ``3.0.4`` -> ``3.0.5``), else ``v{version}``."""
    return release_tag(config, project.tags, version)


def make_context(
    *,
    root: Path,
    config: Config,
    project: Project,
    version: str,
    commit: str,
    env: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    dry_run: bool = False,
    ci: bool = False,
    interactive: bool = False,
    replace_assets: bool = False,
    evidence_of: Callable[[str], Evidence] | None = None,
    parts: Mapping[str, Part] | None = None,
    skip_checks: bool = False,
    guard_tree: bool = False,
) -> Context:
    """The Context of one release: tag from ``release.tag-format``, its release directory;
    ``parts`` (by target) are binaries built on other machines, taken instead of built;
    ``skip_checks``: the ``checks`` step verifies the release invariants only; ``guard_tree``:
    a release, whose packages must be built from the release commit. The checks' heavy
    commands and the builds share ``checks.parallel`` CPU slots (default: the cores)."""
    environment = dict(os.environ if env is None else env)
    tag = tag_for(config, project, version)
    kwargs: dict[str, Any] = {}
    if evidence_of is not None:
        kwargs["evidence_of"] = evidence_of
    if parts:
        kwargs["parts"] = dict(parts)
    return Context(
        root=root,
        config=config,
        settings=settings or Settings.from_env(environment, config),
        project=project,
        version=version,
        tag=tag,
        commit=commit,
        release_dir=workspace.release_dir(root, tag),
        env=environment,
        dry_run=dry_run,
        ci=ci,
        interactive=interactive,
        replace_assets=replace_assets or config.github.replace_assets,
        skip_checks=skip_checks,
        guard_tree=guard_tree,
        slots=threading.Semaphore(config.checks.parallel or os.cpu_count() or 2),
        **kwargs,
    )


@contextlib.contextmanager
def cpu_slot(ctx: Context) -> Iterator[None]:
    """Hold one of the release's CPU slots while a build runs: builds and the checks' heavy
    commands share the cores instead of oversubscribing them (no-op without slots)."""
    if ctx.slots is None:
        yield
        return
    with ctx.slots:
        yield


@dataclass(frozen=True)
class Tool:
    """A program (or Python module) a step runs, checked before anything visible happens."""

    name: str  # what the user installs: "npm", "deno", "twine"
    hint: str  # how to install it
    module: str | None = None  # a Python module run with this interpreter (``-m build``)
    program: str | None = None  # the executable looked up on PATH (default: ``name``)


@runtime_checkable
class Step(Protocol):
    """One visible effect of a release. Ids are stable across runs (journal keys)."""

    id: str  # "npm:publish", "github:asset:mytool-linux-x64"
    needs: tuple[str, ...]  # ids this step waits for (ids absent from the plan are ignored)
    reversible: bool  # can ``undo`` take it back in general (shown by `plan`)

    def describe(self, ctx: Context) -> str:
        """One line, then the commands it will run (one per line), for plan/dry-run."""
        ...

    def probe(self, ctx: Context) -> Probe: ...

    def run(self, ctx: Context, progress: Progress) -> Evidence: ...

    def undo(self, ctx: Context) -> Undo: ...

    # Optional: ``tools(ctx) -> Sequence[Tool]``, the programs ``run`` needs; the release
    # gate refuses to start when one is missing (read with ``getattr``).


def checkpoint(step_id: str, point: str = "during") -> None:
    """A point inside a step's ``run`` between two side effects, for crash tests.

    Does nothing unless the test-only ``SHIPIT_TEST_FAULT`` names ``<step_id>:<point>``
    (see ``shipit.engine.faults``). Steps call it where a crash would leave half a result.
    """
    from shipit.engine import faults

    faults.reach(step_id, point)


StepFactory = Callable[[Context], "list[Step]"]
"""A step module's entry for the plan: the steps of its kind for this release (may be [])."""
