"""CLI: `shipit check` (placeholder until the Checks part lands)."""

from __future__ import annotations

import typer

from shipit.commands._stub import not_available


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check() -> None:
        """Not available yet."""
        raise not_available("check", "Checks")
