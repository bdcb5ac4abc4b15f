"""CLI: ``shipit check [--only a,b] [--skip a,b]``: every pre-flight check at once.

Exit 0 only when nothing failed or errored, 1 otherwise, 2 for bad usage or configuration.
Under ``--json`` stdout holds only ``{"ok", "duration_s", "checks": [...]}``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from shipit.commands.common import globals_of
from shipit.errors import ExitCode, UsageError


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        ctx: typer.Context,
        only: Annotated[
            str | None,
            typer.Option("--only", help="Run only these checks (comma-separated).", metavar="A,B"),
        ] = None,
        skip: Annotated[
            str | None,
            typer.Option("--skip", help="Leave these checks out (comma-separated).", metavar="A,B"),
        ] = None,
    ) -> int:
        """Is this project ready to release? Runs every check at once and reports every problem.

        Checks: git, versions, typecheck, lint, test, security, secrets, registry.
        """
        from shipit.checks import catalog
        from shipit.checks.base import skipped
        from shipit.checks.runner import run_checks
        from shipit.project.detect import detect
        from shipit.ui.check_view import LiveView, PlainView, render_summary

        g = globals_of(ctx)
        config = g.load_config().config
        try:
            checks, disabled = catalog.select(
                catalog.all_checks(), config, _names(only), _names(skip)
            )
        except ValueError as exc:
            raise UsageError(
                f"unknown check name: {exc}",
                hint=f"check names are: {', '.join(catalog.NAMES)}",
            ) from None
        project = detect(g.directory, config, g.env)
        settings = g.settings(config)
        run_ctx = catalog.build_context(g.directory, config, settings, project, g.env)
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
                "ok": report.ok,
                "duration_s": round(report.duration_s, 3),
                "checks": [r.to_json() for r in results],
            }
            g.emit_json(data)
        else:
            live = g.err.is_terminal and not g.ci
            view: LiveView | PlainView = (
                LiveView(g.err, [c.name for c in checks]) if live else PlainView(g.err)
            )
            with view:
                report = run_checks(checks, run_ctx, view)
            render_summary(g.err, report.results, report.duration_s, g.directory, disabled)
        return int(ExitCode.OK if report.ok else ExitCode.FAILED)
