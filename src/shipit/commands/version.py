"""CLI: `shipit version [set X | sync]` and `shipit schema` (placeholder for version)."""

from __future__ import annotations

import json

import typer

from shipit.commands._stub import not_available
from shipit.config import schema as config_schema


def register(app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Show every version source. Not available yet."""
        raise not_available("version", "Foundation")

    @app.command("schema")
    def schema() -> None:
        """Print the JSON Schema of shipit.toml."""
        typer.echo(json.dumps(config_schema(), indent=2))
