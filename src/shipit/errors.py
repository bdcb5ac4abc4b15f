"""The error catalogue: every user-facing failure carries what went wrong, why, and a hint.

Each error has a stable ``code`` (also the anchor of its section in docs/troubleshooting.md)
and an exit code. The CLI renders these; nothing below the CLI prints them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    FAILED = 1  # a check or step failed
    USAGE = 2  # bad usage or configuration
    INCOMPLETE = 3  # release left incomplete, resumable
    INTERRUPTED = 130


DOCS_TROUBLESHOOTING = "docs/troubleshooting.md"


class ShipitError(Exception):
    """Base of every error shipit reports to a user.

    ``what`` is one sentence, ``why`` the cause, ``hint`` the next command to type.
    Messages must never contain secret values (the CLI redacts them again as a safety net).
    """

    code: str = "error"
    exit_code: ExitCode = ExitCode.FAILED

    def __init__(
        self,
        what: str,
        *,
        why: str | None = None,
        hint: str | None = None,
        code: str | None = None,
        exit_code: ExitCode | None = None,
        details: str | None = None,
    ) -> None:
        super().__init__(what)
        self.what = what
        self.why = why
        self.hint = hint
        self.details = details
        if code is not None:
            self.code = code
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def docs_link(self) -> str:
        return f"{DOCS_TROUBLESHOOTING}#{self.code}"

    def __str__(self) -> str:
        parts = [self.what]
        if self.why:
            parts.append(f"why: {self.why}")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "code": self.code,
            "what": self.what,
            "why": self.why,
            "hint": self.hint,
            "exit_code": int(self.exit_code),
        }


class UsageError(ShipitError):
    """The command line itself is wrong."""

    code = "usage"
    exit_code = ExitCode.USAGE


class ConfigError(ShipitError):
    """shipit.toml / [tool.shipit] or a manifest is broken."""

    code = "config-invalid"
    exit_code = ExitCode.USAGE


class VersionError(ShipitError):
    """A version is invalid, inconsistent, or cannot be written."""

    code = "version-invalid"
    exit_code = ExitCode.USAGE


class GitError(ShipitError):
    """git answered with an error or the repository is not in a releasable state."""

    code = "git"
    exit_code = ExitCode.FAILED


class ToolMissingError(ShipitError):
    """An external program shipit needs is not installed."""

    code = "tool-missing"
    exit_code = ExitCode.FAILED


class Interrupted(ShipitError):
    """Ctrl-C or SIGTERM."""

    code = "interrupted"
    exit_code = ExitCode.INTERRUPTED
