"""The ``typecheck`` check: deno check / tsc --noEmit / mypy or pyright (see presets)."""

from __future__ import annotations

from shipit.checks import presets, tooling
from shipit.checks.base import CheckContext, CheckResult

NAME = "typecheck"


class TypecheckCheck:
    name = NAME
    heavy = True

    def run(self, ctx: CheckContext) -> CheckResult:
        commands, reason = presets.typecheck(ctx)
        if not commands:
            return tooling.no_commands(NAME, reason)
        out = tooling.run_commands(ctx, NAME, commands)
        shown = ", ".join(c.display for c in commands)
        return tooling.verdict(
            ctx,
            NAME,
            out,
            noun="type error",
            ok_summary=f"no type errors ({shown})",
            fail_hint="fix the type error shown, then shipit check --only typecheck",
        )
