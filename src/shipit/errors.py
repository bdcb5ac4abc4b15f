"""The error catalogue: every user-facing failure carries what went wrong, why, and a hint.

Every error type shipit raises is defined here, and every code is a member of ``ErrorCode``
(each code is also the anchor of its section in docs/troubleshooting.md, which a test keeps
complete). A code names a kind of failure; the exit code says how the command ends. The CLI
renders these; nothing below the CLI prints them.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipit.proc import Result


class ExitCode(IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    FAILED = 1  # a check or step failed
    USAGE = 2  # bad usage or configuration
    INCOMPLETE = 3  # release left incomplete, resumable
    INTERRUPTED = 130


class ErrorCode(StrEnum):
    """Every error code, grouped as docs/troubleshooting.md groups them."""

    # usage and configuration
    USAGE = "usage"
    CONFIG_INVALID = "config-invalid"
    PLAN_INVALID = "plan-invalid"
    # versions
    VERSION_INVALID = "version-invalid"
    VERSION_INCONSISTENT = "version-inconsistent"
    # git
    GIT = "git"
    GIT_NOT_A_REPO = "git-not-a-repo"
    GIT_NO_COMMITS = "git-no-commits"
    GIT_DETACHED_HEAD = "git-detached-head"
    GIT_NO_REMOTE = "git-no-remote"
    GIT_NO_UPSTREAM = "git-no-upstream"
    GIT_REMOTE_UNREACHABLE = "git-remote-unreachable"
    GIT_REMOTE_AUTH = "git-remote-auth"
    GIT_PUSH_REJECTED = "git-push-rejected"
    GIT_TAG_EXISTS = "git-tag-exists"
    # checks and tools
    CHECKS_FAILED = "checks-failed"
    INVARIANT_FAILED = "invariant-failed"
    TOOL_MISSING = "tool-missing"
    COMMAND_FAILED = "command-failed"
    BINARY_FORMAT = "binary-format"
    # the release
    STEP_FAILED = "step-failed"
    TRANSIENT = "transient"
    OUTCOME_UNKNOWN = "outcome-unknown"
    PERMANENT = "permanent"
    RELEASE_LOCKED = "release-locked"
    JOURNAL_UNREADABLE = "journal-unreadable"
    WORKSPACE_UNUSABLE = "workspace-unusable"
    RESUME_INPUTS_CHANGED = "resume-inputs-changed"
    INTERRUPTED = "interrupted"
    # trusted publishing (OIDC)
    OIDC_UNAVAILABLE = "oidc-unavailable"
    OIDC_TOKEN_INVALID = "oidc-token-invalid"
    OIDC_NOT_TRUSTED = "oidc-not-trusted"
    TOOL_TOO_OLD = "tool-too-old"
    # GitHub
    GITHUB = "github"
    GITHUB_RATE_LIMIT = "github-rate-limit"
    # releases across machines (CI)
    WORKFLOW_EXISTS = "workflow-exists"
    WORKFLOW_OUTDATED = "workflow-outdated"
    PART_INVALID = "part-invalid"
    PARTS_REJECTED = "parts-rejected"
    # sandbox and rehearsal
    SANDBOX = "sandbox"
    SANDBOX_START = "sandbox-start"
    SANDBOX_INSTALL = "sandbox-install"
    REHEARSAL = "rehearsal"
    # anything else
    ERROR = "error"


DOCS_TROUBLESHOOTING = "docs/troubleshooting.md"


class ShipitError(Exception):
    """Base of every error shipit reports to a user.

    ``what`` is one sentence, ``why`` the cause, ``hint`` the next command to type.
    Messages must never contain secret values (the CLI redacts them again as a safety net).
    """

    code: ErrorCode = ErrorCode.ERROR
    exit_code: ExitCode = ExitCode.FAILED

    def __init__(
        self,
        what: str,
        *,
        why: str | None = None,
        hint: str | None = None,
        code: ErrorCode | None = None,
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
            "code": str(self.code),
            "what": self.what,
            "why": self.why,
            "hint": self.hint,
            "exit_code": int(self.exit_code),
        }


# ---------------------------------------------------------------- usage, config, versions


class UsageError(ShipitError):
    """The command line itself is wrong."""

    code = ErrorCode.USAGE
    exit_code = ExitCode.USAGE


class ConfigError(ShipitError):
    """shipit.toml / [tool.shipit] or a manifest is broken."""

    code = ErrorCode.CONFIG_INVALID
    exit_code = ExitCode.USAGE


class PlanInvalid(ShipitError):
    """The release plan cannot be built (duplicate step ids, a cycle)."""

    code = ErrorCode.PLAN_INVALID
    exit_code = ExitCode.USAGE


class VersionError(ShipitError):
    """A version is invalid, inconsistent, or cannot be written."""

    code = ErrorCode.VERSION_INVALID
    exit_code = ExitCode.USAGE


class VersionInconsistent(VersionError):
    """The version files disagree."""

    code = ErrorCode.VERSION_INCONSISTENT
    exit_code = ExitCode.FAILED


# ---------------------------------------------------------------- git


class GitError(ShipitError):
    """git answered with an error or the repository is not in a releasable state."""

    code = ErrorCode.GIT
    exit_code = ExitCode.FAILED


class NotARepoError(GitError):
    code = ErrorCode.GIT_NOT_A_REPO


class NoCommitsError(GitError):
    code = ErrorCode.GIT_NO_COMMITS


class DetachedHeadError(GitError):
    code = ErrorCode.GIT_DETACHED_HEAD


class NoRemoteError(GitError):
    code = ErrorCode.GIT_NO_REMOTE


class NoUpstreamError(GitError):
    code = ErrorCode.GIT_NO_UPSTREAM


class RemoteUnreachableError(GitError):
    """The remote could not be reached (network, DNS, auth prompt, timeout). Often transient."""

    code = ErrorCode.GIT_REMOTE_UNREACHABLE


class RemoteAuthError(GitError):
    """The remote refused our credentials (not transient: retrying will not help)."""

    code = ErrorCode.GIT_REMOTE_AUTH


class PushRejectedError(GitError):
    """The remote refused a push (non-fast-forward, protected ref, existing tag)."""

    code = ErrorCode.GIT_PUSH_REJECTED


class TagExistsError(GitError):
    code = ErrorCode.GIT_TAG_EXISTS


# ---------------------------------------------------------------- checks and tools


class ChecksFailed(ShipitError):
    """The pre-release checks found problems: nothing was released."""

    code = ErrorCode.CHECKS_FAILED


class InvariantsFailed(ShipitError):
    """A release invariant does not hold (tree, branch, tools, targets, versions, auth):
    nothing visible happened, and ``--skip-checks`` does not skip it."""

    code = ErrorCode.INVARIANT_FAILED


class ToolMissingError(ShipitError):
    """An external program shipit needs is not installed."""

    code = ErrorCode.TOOL_MISSING
    exit_code = ExitCode.FAILED


class CommandFailed(ShipitError):
    """A command exited non-zero (raised by ``proc.run(check=True)``)."""

    code = ErrorCode.COMMAND_FAILED

    def __init__(self, result: Result, *, what: str | None = None, hint: str | None = None):
        super().__init__(
            what or f"command failed: {result.command}", why=result.failure(), hint=hint
        )
        self.result = result


class BinaryFormatError(ShipitError):
    """A file is not an executable shipit can read, or does not match its target."""

    code = ErrorCode.BINARY_FORMAT


# ---------------------------------------------------------------- the release


class StepFailure(ShipitError):
    """Base of classified step failures (``shipit.engine.retry`` classifies)."""

    code = ErrorCode.STEP_FAILED


class TransientError(StepFailure):
    """Worth retrying. ``retry_after`` (seconds) is honoured when the server sent one;
    ``status`` is the HTTP status that caused it (None: no answer came)."""

    code = ErrorCode.TRANSIENT

    def __init__(
        self,
        what: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(what, **kw)
        self.retry_after = retry_after
        self.status = status


class OutcomeUnknown(TransientError):
    """The effect may have happened (connection dropped after sending): probe, then retry."""

    code = ErrorCode.OUTCOME_UNKNOWN


class PermanentError(StepFailure):
    """Retrying cannot help: bad token, forbidden, conflict, validation error."""

    code = ErrorCode.PERMANENT


class ReleaseLocked(ShipitError):
    """Another shipit process holds the project's release lock."""

    code = ErrorCode.RELEASE_LOCKED


class JournalUnreadable(ShipitError):
    """A release journal is missing, corrupt or not shipit's."""

    code = ErrorCode.JOURNAL_UNREADABLE


class WorkspaceUnusable(ShipitError):
    """``.shipit/`` is not a directory shipit can write to."""

    code = ErrorCode.WORKSPACE_UNUSABLE


class ResumeInputsChanged(ShipitError):
    """The version or commit changed since the release started."""

    code = ErrorCode.RESUME_INPUTS_CHANGED
    exit_code = ExitCode.USAGE


class Interrupted(ShipitError):
    """Ctrl-C or SIGTERM."""

    code = ErrorCode.INTERRUPTED
    exit_code = ExitCode.INTERRUPTED


# ---------------------------------------------------------------- trusted publishing (OIDC)


class OidcError(PermanentError):
    """Trusted publishing cannot work here: not a GitHub Actions job, or the job has no
    ``id-token: write`` permission (the ID-token request variables are missing)."""

    code = ErrorCode.OIDC_UNAVAILABLE


class OidcTokenInvalid(OidcError):
    """The job's OIDC ID token could not be fetched, or it is expired or otherwise invalid."""

    code = ErrorCode.OIDC_TOKEN_INVALID


class OidcNotTrusted(OidcError):
    """The registry refused to exchange the ID token: the package is missing, or it does not
    trust this repository, workflow or environment."""

    code = ErrorCode.OIDC_NOT_TRUSTED


class ToolTooOld(PermanentError):
    """An installed program is older than what shipit needs from it (npm for OIDC)."""

    code = ErrorCode.TOOL_TOO_OLD


# ---------------------------------------------------------------- registries and GitHub


class RegistryError(PermanentError):
    """A registry, index or forge refused a request (a 4xx that retrying cannot change):
    ``status`` is the HTTP status, ``message`` the server's own words, ``errors`` its list of
    validation errors when it sends one."""

    server = "the server"  # who answered, for the default ``why``

    def __init__(
        self,
        what: str,
        *,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        why: str | None = None,
        hint: str | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        why = why or f"{self.server} answered {status}: {message}"
        super().__init__(what, why=why, hint=hint, code=code)
        self.status = status
        self.message = message
        self.errors = errors or []

    def has_code(self, code: str) -> bool:
        """True when one of the server's validation errors carries ``code``
        (GitHub's ``already_exists``)."""
        return any(isinstance(e, dict) and e.get("code") == code for e in self.errors)


class GitHubError(RegistryError):
    """GitHub answered with an error; ``status``, ``message`` and ``errors`` are GitHub's."""

    code = ErrorCode.GITHUB
    server = "GitHub"


# ---------------------------------------------------------------- releases across machines (CI)


class WorkflowExists(ShipitError):
    """`shipit ci init` would overwrite a workflow file that is already there."""

    code = ErrorCode.WORKFLOW_EXISTS


class WorkflowOutdated(ShipitError):
    """The release workflow on disk no longer matches the configuration."""

    code = ErrorCode.WORKFLOW_OUTDATED


class PartInvalid(ShipitError):
    """A part manifest (``<target>.part.json``) cannot be read or is not one."""

    code = ErrorCode.PART_INVALID


class PartsRejected(ShipitError):
    """The parts given to ``release --parts`` do not make this release; nothing was published."""

    code = ErrorCode.PARTS_REJECTED


# ---------------------------------------------------------------- sandbox and rehearsal


class SandboxError(ShipitError):
    """The sandbox could not be started, read or stopped."""

    code = ErrorCode.SANDBOX


class ServerStartError(SandboxError):
    """A sandbox server did not come up."""

    code = ErrorCode.SANDBOX_START


class SandboxInstallError(SandboxError):
    """A sandbox server (verdaccio) could not be installed."""

    code = ErrorCode.SANDBOX_INSTALL


class RehearsalError(ShipitError):
    """A rehearsal could not be prepared."""

    code = ErrorCode.REHEARSAL
