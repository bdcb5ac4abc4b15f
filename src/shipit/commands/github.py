"""CLI: `shipit github` (placeholder until the Binaries and GitHub part lands)."""

from __future__ import annotations

import typer

from shipit.commands._stub import not_available


def register(app: typer.Typer) -> None:
    @app.command("github")
    def github() -> None:
        """Not available yet."""
        raise not_available("github", "Binaries and GitHub")
