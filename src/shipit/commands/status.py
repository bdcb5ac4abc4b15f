"""CLI: `shipit status` (placeholder until the Operator experience part lands)."""

from __future__ import annotations

import typer

from shipit.commands._stub import not_available


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status() -> None:
        """Not available yet."""
        raise not_available("status", "Operator experience")
