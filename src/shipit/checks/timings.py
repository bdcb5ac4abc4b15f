"""How long each check took last time, so the next run gives the slowest one the CPU first.

``shipit check`` on two cores runs more work than the cores can take at once; what decides
the wall time is the slowest check (often the PyPI build of the secrets check, or the tests).
The runner records every check's duration in ``.shipit/check-times.json`` (one table per
kind of run: ``shipit check`` and a release's checks do different work) and, on the next run,
starts the commands of every other check at a lower CPU priority (``proc.in_background``).
Without a record (the first run, a fresh clone) every command has the same priority.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from shipit import files, workspace
from shipit.errors import WorkspaceUnusable

FILENAME = "check-times.json"


def _path(root: Path) -> Path:
    return workspace.shipit_dir(root) / FILENAME


def _read(root: Path) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(scope): {
            str(k): float(v) for k, v in table.items() if isinstance(v, int | float) and v >= 0
        }
        for scope, table in data.items()
        if isinstance(table, dict)
    }


def critical(root: Path, scope: str, names: Iterable[str]) -> str | None:
    """The check among ``names`` that took longest in the last run of ``scope``, if every
    one of them has a record (a check new to the record may well be the slowest)."""
    last = _read(root).get(scope, {})
    known = list(names)
    if not known or any(n not in last for n in known):
        return None
    return max(known, key=lambda n: last[n])


def record(root: Path, scope: str, durations: Mapping[str, float]) -> None:
    """Keep this run's durations for the next run (best effort: never fails a check)."""
    data = _read(root)
    table = data.setdefault(scope, {})
    table.update({name: round(seconds, 3) for name, seconds in durations.items()})
    with contextlib.suppress(OSError, WorkspaceUnusable):
        workspace.protect(root)
        files.write_text_atomic(_path(root), json.dumps(data, indent=1, sort_keys=True), mode=0o600)
