"""CLI: `shipit publish` (placeholder until the Publishers part lands)."""

from __future__ import annotations

import typer

from shipit.commands._stub import not_available


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish() -> None:
        """Not available yet."""
        raise not_available("publish", "Publishers")
