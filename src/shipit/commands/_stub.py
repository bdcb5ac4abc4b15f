"""Placeholders for commands that a later part of shipit fills in (exit 2, said plainly)."""

from __future__ import annotations

from shipit.errors import NotAvailableError


def not_available(command: str, part: str) -> NotAvailableError:
    return NotAvailableError(
        f"`shipit {command}` is not available yet",
        why=f"it arrives with the {part} part of shipit's first version",
        hint="run `shipit --help` to see what works today",
    )
