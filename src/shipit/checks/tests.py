"""The ``test`` check: run the tests and hold the coverage bar (``checks.test.min-coverage``).

Deno writes coverage with ``deno test --coverage=DIR`` and ``deno coverage --lcov``; pytest
with ``--cov-report=json``; node tools write lcov or an istanbul ``coverage-summary.json``
(``checks.test.coverage-report`` names the file when it is not in a usual place). Below the
bar the check fails and states the measured figure and the bar.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from shipit import proc
from shipit.checks import presets, tooling
from shipit.checks.base import CheckContext, CheckResult, Finding, Status
from shipit.checks.command import Command, find_tool, run_logged
from shipit.checks.coverage import Coverage, CoverageReportError, find_report, read_report

NAME = "test"


class TestCheck:
    name = NAME
    heavy = True
    __test__ = False  # not a pytest class

    def plan(self, ctx: CheckContext) -> presets.Plan:
        return presets.plan(ctx, NAME, ctx.log_dir / "coverage")

    def run(self, ctx: CheckContext) -> CheckResult:
        cov_dir = ctx.log_dir / "coverage"
        shutil.rmtree(cov_dir, ignore_errors=True)
        cov_dir.mkdir(parents=True, exist_ok=True)
        planned = presets.plan(ctx, NAME, cov_dir)
        commands = planned.commands
        if not commands:
            return tooling.no_commands(NAME, planned.reason)
        started = time.time()
        no_tests: list[str] = []

        def judge(cmd: Command, result: proc.Result, out: tooling.Outcome) -> bool:
            text = result.output
            program = Path(cmd.argv[0]).name if cmd.argv else ""
            is_pytest = program == "pytest"
            if "No test modules found" in text:
                no_tests.append(cmd.display)
                return True
            if is_pytest and result.returncode == 5:
                no_tests.append(cmd.display)
                return True
            if is_pytest and result.returncode in (2, 3, 4):
                # interrupted, internal error, usage error: pytest itself could not run
                lines = [ln for ln in result.output.splitlines() if "error" in ln.lower()]
                out.errors.append(
                    Finding(
                        f"`{cmd.display}` could not run (exit {result.returncode}): "
                        + (lines[-1].strip() if lines else result.tail(1)),
                        hint="fix pytest's configuration or plugins (for the coverage bar: "
                        "pip install pytest-cov), or set checks.test.command",
                    )
                )
                return True
            return False

        out = tooling.run_commands(ctx, NAME, commands, on_result=judge)
        result = tooling.verdict(
            ctx,
            NAME,
            out,
            noun="failing test",
            ok_summary="tests passed",
            fail_hint="run the tests, fix them, then shipit check --only test",
        )
        if result.status is not Status.PASSED:
            return result
        if no_tests and len(no_tests) == len(out.results):
            return CheckResult(NAME, Status.SKIPPED, "no tests found")
        bar = ctx.config.checks.test.min_coverage
        if bar is None:
            return result
        try:
            cov = self._coverage(ctx, commands, cov_dir, started)
        except CoverageReportError as exc:
            return CheckResult(
                NAME,
                Status.ERROR,
                f"tests passed but the coverage report could not be read: {exc}",
                (
                    Finding(
                        str(exc),
                        hint="set checks.test.coverage-report to the report your test command "
                        "writes (lcov.info, coverage.json or coverage-summary.json)",
                    ),
                ),
                log_path=ctx.log_file(NAME),
            )
        if cov.percent + 1e-9 < bar:
            return CheckResult(
                NAME,
                Status.FAILED,
                f"coverage {cov.percent:.1f}% is below the bar of {bar:g}%",
                (
                    Finding(
                        f"line coverage {cov.describe()} is below min-coverage {bar:g}%",
                        file=cov.source or None,
                        hint="add tests for the uncovered lines, or lower checks.test.min-coverage",
                    ),
                ),
                log_path=ctx.log_file(NAME),
            )
        return CheckResult(
            NAME, Status.PASSED, f"tests passed, coverage {cov.percent:.1f}% (bar {bar:g}%)"
        )

    def _coverage(
        self, ctx: CheckContext, commands: list[Command], cov_dir: Path, started: float
    ) -> Coverage:
        configured = ctx.config.checks.test.coverage_report
        if configured:
            path = (ctx.root / configured).resolve()
            return _located(read_report(path), path, ctx.root)
        deno_dir = cov_dir / "deno"
        if deno_dir.is_dir():
            lcov = cov_dir / "deno.lcov"
            deno = find_tool("deno", ctx.root, ctx.env) or "deno"
            cmd = Command((deno, "coverage", "--lcov", f"--output={lcov}", str(deno_dir)), ctx.root)
            r = run_logged(ctx, cmd, ctx.log_file(NAME))
            if not r.ok:
                raise CoverageReportError(f"`deno coverage` failed: {r.tail(3)}")
            return _located(read_report(lcov), lcov, ctx.root)
        py = cov_dir / "coverage.json"
        if py.is_file():
            return _located(read_report(py), py, ctx.root)
        found = find_report(ctx.root, newer_than=started)
        if found is None:
            raise CoverageReportError(
                "no coverage report found (looked for coverage/coverage-summary.json, "
                "coverage/lcov.info, coverage.json)"
            )
        return _located(read_report(found), found, ctx.root)


def _located(cov: Coverage, path: Path, root: Path) -> Coverage:
    try:
        shown = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        shown = str(path)
    return Coverage(cov.percent, cov.covered, cov.total, shown)
