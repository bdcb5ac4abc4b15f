"""The ``lint`` check: deno lint / the project's npm lint script / ruff check (see presets)."""

from __future__ import annotations

from shipit.checks import presets, tooling
from shipit.checks.base import CheckContext, CheckResult

NAME = "lint"


class LintCheck:
    name = NAME
    heavy = True

    def run(self, ctx: CheckContext) -> CheckResult:
        commands, reason = presets.lint(ctx)
        if not commands:
            return tooling.no_commands(NAME, reason)
        out = tooling.run_commands(ctx, NAME, commands)
        shown = ", ".join(c.display for c in commands)
        return tooling.verdict(
            ctx,
            NAME,
            out,
            noun="lint problem",
            ok_summary=f"no lint problems ({shown})",
            fail_hint="fix the problem shown, then shipit check --only lint",
        )
