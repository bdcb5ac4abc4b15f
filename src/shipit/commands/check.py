"""CLI: ``shipit check [--only a,b] [--skip a,b] [--strict] [--explain]``: every pre-flight
check at once.

Exit 0 only when nothing failed or errored (with ``--strict``: and the project has no
warning, e.g. binaries that nothing publishes), 1 otherwise, 2 for bad usage or configuration.
The report goes to stdout (``shipit check > report.txt`` keeps it), the live progress to
stderr. Under ``--json`` stdout holds only ``{"ok", "duration_s", "checks": [...], "plan":
{...}}``. ``--explain`` prints, for every check, the commands it would run and why, and the
tools it leaves out with the configuration that turns them on; it runs nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Annotated

import typer

from shipit.commands.common import globals_of
from shipit.commands.options import OnlyChecksOpt, SkipOpt
from shipit.errors import ExitCode, UsageError


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def _unknown_checks(unknown: Sequence[str], known: Sequence[str]) -> UsageError:
    """The error for check names that do not exist, with the nearest real name for each."""
    reasons = []
    for name in unknown:
        guess = difflib.get_close_matches(name, known, n=1)
        reasons.append(
            f"`{name}` is not a check" + (f" (did you mean `{guess[0]}`?)" if guess else "")
        )
    return UsageError(
        f"unknown check name{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
        why="; ".join(reasons),
        hint=f"check names are: {', '.join(known)}",
    )


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        ctx: typer.Context,
        only: OnlyChecksOpt = None,
        skip: SkipOpt = None,
        strict: Annotated[
            bool,
            typer.Option(
                "--strict",
                help="Fail on warnings too (a tag format the tags do not follow, binaries "
                "that nothing publishes).",
            ),
        ] = False,
        explain: Annotated[
            bool,
            typer.Option(
                "--explain",
                help="Show what each check would run and why (and what it leaves out); "
                "run nothing.",
            ),
        ] = False,
    ) -> int:
        """Is this project ready to release? Runs every check at once and reports every problem.

        Checks: git, versions, typecheck, lint, test, security, secrets, registry.
        """
        from shipit.checks import catalog
        from shipit.checks.base import skipped
        from shipit.checks.runner import run_checks
        from shipit.project.detect import detect
        from shipit.ui.check_view import LiveView, PlainView, render_plan, render_summary

        g = globals_of(ctx)
        config = g.load_config().config
        only_names, skip_names = _names(only), _names(skip)
        unknown = [n for n in (*only_names, *skip_names) if n not in catalog.NAMES]
        if unknown:
            raise _unknown_checks(unknown, catalog.NAMES)
        checks, disabled = catalog.select(catalog.all_checks(), config, only_names, skip_names)
        project = detect(g.directory, config, g.env)
        settings = g.settings(config)
        run_ctx = catalog.build_context(g.directory, config, settings, project, g.env)
        plans = {c.name: catalog.explain(c, run_ctx) for c in checks}
        if explain:
            if g.json:
                g.emit_json({name: p.to_json() for name, p in plans.items()})
            else:
                render_plan(g.out, list(plans.values()), disabled)
            return int(ExitCode.OK)
        if g.json:
            report = run_checks(checks, run_ctx)
            order = {name: i for i, name in enumerate(catalog.NAMES)}
            results = [
                *report.results,
                *(
                    skipped(name, f"disabled in the configuration (checks.{name}.enabled = false)")
                    for name in disabled
                ),
            ]
            results.sort(key=lambda r: order[r.name])
            data = {
                "ok": report.ok and not (strict and project.warnings),
                "warnings": list(project.warnings),
                "duration_s": round(report.duration_s, 3),
                "checks": [r.to_json() for r in results],
                "plan": {name: p.to_json() for name, p in plans.items()},
            }
            g.emit_json(data)
        else:
            live = g.err.is_terminal and not g.ci
            view: LiveView | PlainView = (
                LiveView(g.err, [c.name for c in checks]) if live else PlainView(g.err)
            )
            with view:
                report = run_checks(checks, run_ctx, view)
            render_summary(
                g.out,
                report.results,
                report.duration_s,
                g.directory,
                disabled,
                each_check=not (live and g.out.is_terminal),  # the live view showed them
            )
            for warning in project.warnings:
                g.out.print(f"warning: {warning}", markup=False, highlight=False)
            if strict and project.warnings:
                g.out.print("--strict: warnings count as failures", markup=False)
        failed = not report.ok or (strict and bool(project.warnings))
        return int(ExitCode.FAILED if failed else ExitCode.OK)
