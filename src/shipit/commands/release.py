"""CLI: `shipit plan`, `release`, `resume`, `rollback` (placeholders until the Engine lands)."""

from __future__ import annotations

import typer

from shipit.commands._stub import not_available


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan() -> None:
        """Show every step of the release and whether it is done. Not available yet."""
        raise not_available("plan", "Engine")

    @app.command("release")
    def release() -> None:
        """Run the release. Not available yet."""
        raise not_available("release", "Engine")

    @app.command("resume")
    def resume() -> None:
        """Continue a failed or interrupted release. Not available yet."""
        raise not_available("resume", "Engine")

    @app.command("rollback")
    def rollback() -> None:
        """Undo a release's completed steps. Not available yet."""
        raise not_available("rollback", "Engine")
