"""The ``checks`` step: the release invariants that need the network, and the quality checks,
beside the speculative builds.

It runs right after the release commit, while the builds and their verification run (they
share the CPU slots: ``Context.slots``). Always: ``git`` (fetched: not behind the remote, the
release branch, the tag not taken by another commit; the work tree is the gate's business),
``versions`` (agree, valid for every target, after the last tag) and ``registry`` (each
registry accepts its token; what it already holds is judged by the publish steps' probes, which
the gate runs, all at once, before anything is visible). Unless ``--skip-checks``: the
quality checks, ``typecheck``, ``lint``, ``test``, ``security`` and ``secrets`` (those on in
the configuration). Quality checks that passed for this very commit and version are not run again
on ``resume``; the invariants always are. Every problem of every check is reported in one pass.
``gate:release`` needs this step, so nothing visible starts before its verdict.
"""

from __future__ import annotations

import dataclasses
import threading

from shipit.checks import catalog
from shipit.checks.base import Check, CheckResult
from shipit.checks.git_state import GitCheck
from shipit.checks.registry import RegistryCheck
from shipit.checks.runner import run_checks
from shipit.checks.versions import VersionsCheck
from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Undo
from shipit.errors import ChecksFailed, InvariantsFailed
from shipit.project.model import Project
from shipit.steps.git_tag import fresh_project, intended_commit

CHECKS_ID = "checks"
INVARIANTS = ("git", "versions", "registry")
QUALITY = ("typecheck", "lint", "test", "security", "secrets")
BUILT_AND_SCANNED = ("npm", "pypi")
"""Targets whose built files gate:release scans (``gate.secret_problems``)."""
PUBLISHING = ("npm", "jsr", "pypi", "github")
MAX_FINDINGS = 4


class _Relay:
    """Runner progress to the step's Progress (the live view and the release log)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0
        self._lock = threading.Lock()

    def waiting(self, name: str) -> None:
        self.progress.status(f"{name}: waiting for a CPU slot")

    def started(self, name: str) -> None:
        self.progress.status(f"{name}: running")

    def finished(self, result: CheckResult) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        self.progress.advance(done, self.total, label=f"{result.name} {result.status}")
        self.progress.log(f"check {result.name}: {result.status}: {result.summary}")


def _render(results: list[CheckResult]) -> str:
    """Each check that did not pass, with its findings, their fixes and its log."""
    lines: list[str] = []
    for result in results:
        lines.append(f"{result.name}: {result.status}: {result.summary}")
        for finding in result.findings[:MAX_FINDINGS]:
            where = finding.location()
            lines.append(f"  {where + ': ' if where else ''}{finding.message}")
            if finding.hint:
                lines.append(f"    fix: {finding.hint}")
        more = len(result.findings) - MAX_FINDINGS
        if more > 0:
            lines.append(f"  and {more} more")
        if result.log_path is not None:
            lines.append(f"  log: {result.log_path}")
    return "\n".join(lines)


@dataclasses.dataclass
class ChecksStep:
    """``targets``: the registries this run publishes to (None: every enabled target)."""

    targets: tuple[str, ...] | None = None
    id: str = CHECKS_ID
    needs: tuple[str, ...] = ()
    reversible: bool = True

    def describe(self, ctx: Context) -> str:
        quality = (
            "quality checks skipped (--skip-checks)"
            if ctx.skip_checks
            else "quality checks beside the builds: " + ", ".join(QUALITY)
        )
        return (
            "release invariants (always): git (not behind the remote), versions, registry "
            f"(each token works); {quality}\n"
            "shipit check" + (" --only git,versions,registry" if ctx.skip_checks else "")
        )

    def probe(self, ctx: Context) -> Probe:
        return Probe.todo("the checks run with every release (resume included)")

    def _passed_before(self, ctx: Context) -> bool:
        """The quality checks passed for this commit and version in an earlier run."""
        earlier = ctx.evidence_of(CHECKS_ID)
        return (
            earlier.get("quality") == "passed"
            and earlier.get("commit") == intended_commit(ctx)
            and earlier.get("version") == ctx.version
        )

    def _project(self, ctx: Context) -> Project:
        """The project as the release commit states it, narrowed to this run's targets."""
        project = fresh_project(ctx)
        if self.targets is None:
            return project
        targets = {
            name: target
            for name, target in project.targets.items()
            if name not in PUBLISHING or name in self.targets
        }
        return dataclasses.replace(project, targets=targets)

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        check_ctx = catalog.build_context(
            ctx.root,
            ctx.config,
            ctx.settings,
            self._project(ctx),
            ctx.env,
            release_version=ctx.version,
        )
        check_ctx.slots = ctx.slots
        if not ctx.dry_run:
            # gate:release scans the tarball, sdist and wheel this release builds beside the
            # checks: the secrets check does not build them a second time
            check_ctx.scanned_when_built = frozenset(BUILT_AND_SCANNED)
        # the registries are asked only whether each token works: what they already hold is
        # for the publish steps' probes, which the gate runs before anything is visible and
        # which compare content (identical: already done; other content: a conflict)
        check_ctx.published = None
        checks: list[Check] = [GitCheck(tree=False), VersionsCheck(), RegistryCheck()]
        again = self._passed_before(ctx)
        if not ctx.skip_checks and not again:
            chosen, _ = catalog.select(catalog.all_checks(), ctx.config, list(QUALITY), [])
            checks += chosen
        report = run_checks(checks, check_ctx, _Relay(progress, len(checks)))
        bad = [r for r in report.results if not r.ok]
        broken = [r for r in bad if r.name in INVARIANTS]
        if broken:
            first = broken[0]
            raise InvariantsFailed(
                f"a release invariant does not hold: {first.name}: {first.summary}",
                why=_render(bad),
                hint=(first.findings[0].hint if first.findings else None)
                or f"shipit check --only {first.name}",
            )
        if bad:
            raise ChecksFailed(
                "the pre-release checks failed: nothing was released",
                why=_render(bad),
                hint="fix what the checks report (`shipit check` shows it again), or pass "
                "--skip-checks to release anyway",
            )
        if ctx.skip_checks:
            quality = "skipped (--skip-checks)"
        elif again:
            quality = "passed"
        else:
            quality = "passed" if len(checks) > len(INVARIANTS) else "none configured"
        return {
            "commit": intended_commit(ctx),
            "version": ctx.version,
            "quality": quality,
            "results": {r.name: str(r.status) for r in report.results},
            "duration_s": round(report.duration_s, 3),
        }

    def undo(self, ctx: Context) -> Undo:
        return Undo.nothing("the checks change nothing")


def checks_steps(ctx: Context) -> list[Step]:
    return [ChecksStep()]
