"""CLI: `shipit sandbox up|down|status` and `shipit rehearse` (placeholders)."""

from __future__ import annotations

import typer

from shipit.commands._stub import not_available


def register(app: typer.Typer) -> None:
    @app.command("rehearse")
    def rehearse() -> None:
        """Rehearse the release against local registries. Not available yet."""
        raise not_available("rehearse", "Sandbox")
