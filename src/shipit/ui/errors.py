"""Render a ShipitError for a person (a panel: what, why, hint) or for --json."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from shipit.errors import ShipitError
from shipit.redact import redact


def render_error(console: Console, error: ShipitError) -> None:
    body = Text()
    body.append(redact(error.what), style="bold")
    if error.why:
        body.append("\n\nwhy: ", style="bold")
        body.append(redact(error.why))
    if error.hint:
        body.append("\n\nnext: ", style="bold green")
        body.append(redact(error.hint))
    body.append(f"\n\nmore: {error.docs_link}", style="dim")
    console.print(Panel(body, title=f"error: {error.code}", title_align="left", border_style="red"))
