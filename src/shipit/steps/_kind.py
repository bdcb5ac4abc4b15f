"""What every step-kind module shares: its plan factory when one target turns the kind on, and
the name ``describe`` shows when it cannot read one yet.

``describe`` feeds `shipit plan` and ``--dry-run`` and never fails: a package name that is
missing or unreadable is shown as a placeholder, and the run itself stops on the error.
"""

from __future__ import annotations

from collections.abc import Callable

from shipit.engine.step import Context, Step, StepFactory
from shipit.errors import ShipitError
from shipit.project.model import TargetName


def one_step_per_target(target: TargetName, make: Callable[[], Step]) -> StepFactory:
    """The factory of a step kind that is on exactly when ``target`` is on in the detected
    project: one step made by ``make``, else none."""

    def factory(ctx: Context) -> list[Step]:
        return [make()] if ctx.project.target(target) else []

    return factory


def shown_name(read: Callable[[Context], str], ctx: Context, placeholder: str) -> str:
    """``read(ctx)``, or ``placeholder`` while the name cannot be read."""
    try:
        return read(ctx)
    except ShipitError:
        return placeholder
