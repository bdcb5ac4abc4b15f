"""What a step's ``describe`` shows of a name it cannot read yet.

``describe`` feeds `shipit plan` and ``--dry-run`` and never fails: a package name that is
missing or unreadable is shown as a placeholder, and the run itself stops on the error.
"""

from __future__ import annotations

from collections.abc import Callable

from shipit.engine.step import Context
from shipit.errors import ShipitError


def shown_name(read: Callable[[Context], str], ctx: Context, placeholder: str) -> str:
    """``read(ctx)``, or ``placeholder`` while the name cannot be read."""
    try:
        return read(ctx)
    except ShipitError:
        return placeholder
