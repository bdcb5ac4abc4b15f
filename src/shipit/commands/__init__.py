"""CLI command groups, one module per area, registered on the typer app in ``shipit.cli``.

They parse options and call the core; no release logic lives here.
"""
