"""The Check protocol and the data every check receives and returns.

A check answers one pre-flight question (is the tree clean? do the tests pass?) and returns
a ``CheckResult``: a status, a one-line summary, and findings that name a file and line and
carry the command that fixes them. A check never raises for a problem it found; the runner
turns an unexpected exception into an ``error`` result.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from shipit.config import Config, Settings
from shipit.errors import Interrupted
from shipit.project.model import Project
from shipit.redact import redact
from shipit.workspace import private_dir, private_file

if TYPE_CHECKING:
    from shipit.checks.artifacts import PublishSets
    from shipit.checks.published import PublishedLookup


class Kind(enum.StrEnum):
    """What a finding read from a tool's output is: each check counts and words them."""

    TYPE = "type error"
    LINT = "lint problem"
    FORMAT = "unformatted file"
    TEST = "failing test"
    DEPENDENCY = "dependency problem"
    SECRET = "secret"  # a secret or .env file in what would be published
    ERROR = "error"  # a tool's own error (bad configuration, crash) with its location
    OUTPUT = "output"  # unrecognised output, shown verbatim


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """One problem: what it is, where (file relative to the root, 1-based line), how to fix."""

    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None
    kind: str | None = None  # a ``Kind`` of tool output (type error, lint problem, ...)

    def to_json(self) -> dict[str, Any]:
        return {
            "message": redact(self.message),
            "file": self.file,
            "line": self.line,
            "hint": redact(self.hint) if self.hint else None,
            "kind": self.kind,
        }

    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""


@dataclass(frozen=True)
class CheckResult:
    """What a check found. ``log_path`` holds the full output of a check that did not pass."""

    name: str
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    duration_s: float = 0.0
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status in (Status.PASSED, Status.SKIPPED)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": str(self.status),
            "duration_s": round(self.duration_s, 3),
            "summary": redact(self.summary),
            "findings": [f.to_json() for f in self.findings],
            "log_path": str(self.log_path) if self.log_path else None,
        }


def passed(name: str, summary: str, findings: tuple[Finding, ...] = ()) -> CheckResult:
    return CheckResult(name, Status.PASSED, summary, findings)


def failed(
    name: str, summary: str, findings: tuple[Finding, ...] | list[Finding] = ()
) -> CheckResult:
    return CheckResult(name, Status.FAILED, summary, tuple(findings))


def skipped(name: str, reason: str) -> CheckResult:
    return CheckResult(name, Status.SKIPPED, reason)


def error(
    name: str, summary: str, findings: tuple[Finding, ...] | list[Finding] = ()
) -> CheckResult:
    return CheckResult(name, Status.ERROR, summary, tuple(findings))


def verdict(
    name: str, findings: list[Finding], ok_summary: str, fail_summary: str | None = None
) -> CheckResult:
    """Passed with ``ok_summary`` when there are no findings, else failed."""
    if not findings:
        return passed(name, ok_summary)
    return failed(name, fail_summary or findings[0].message, findings)


@dataclass
class CheckContext:
    """Everything a check may read. ``timeout`` (seconds) limits each command of the check;
    the runner gives up on a whole check after twice that."""

    root: Path
    config: Config
    settings: Settings
    project: Project
    env: Mapping[str, str]
    log_dir: Path
    timeout: float = 300.0
    cancelled: threading.Event = field(default_factory=threading.Event)
    published: PublishedLookup | None = None
    publish_sets: PublishSets | None = None
    started: float = field(default_factory=time.monotonic)
    heavy: bool = False
    slots: threading.Semaphore | None = None  # shared by heavy commands (runner sets it)
    name: str = ""
    on_wait: Callable[[str], None] | None = None  # told when a command waits for a slot
    on_run: Callable[[str], None] | None = None  # told when it got one
    release_version: str | None = None  # `shipit release --version X`: checked instead
    # targets whose built files the release scans itself at gate:release (the npm tarball, the
    # sdist and wheel): the secrets check leaves them to it instead of building them twice
    scanned_when_built: frozenset[str] = frozenset()

    @property
    def version(self) -> str | None:
        """The version being released: an explicit one, else the manifests' version."""
        return self.release_version or self.project.version

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one CPU slot while a heavy check runs a command (no-op for light checks)."""
        if not self.heavy or self.slots is None:
            yield
            return
        if not self.slots.acquire(blocking=False):
            if self.on_wait is not None:
                self.on_wait(self.name)
            while not self.slots.acquire(timeout=0.2):
                if self.cancelled.is_set():
                    raise Interrupted("interrupted", why="Ctrl-C stopped the checks")
            if self.on_run is not None:
                self.on_run(self.name)
        try:
            yield
        finally:
            self.slots.release()

    def remaining(self) -> float:
        """Seconds left of this check's timeout (at least one)."""
        return max(1.0, self.timeout - (time.monotonic() - self.started))

    def log_file(self, name: str) -> Path:
        return private_file(private_dir(self.log_dir) / f"{name}.log")


@runtime_checkable
class Check(Protocol):
    """A pre-flight check. ``heavy`` checks (CPU-bound) share a limited number of slots."""

    name: str
    heavy: bool

    def run(self, ctx: CheckContext) -> CheckResult: ...
