"""Release events: what the orchestrator tells the outside (live view, notifications, CI summary).

The orchestrator calls every ``Listener`` with a ``ReleaseEvent`` at each transition; a
listener must never raise (the orchestrator guards anyway) and must be quick.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

ReleaseEventKind = Literal["started", "succeeded", "failed", "rolled-back", "interrupted"]
StepEventKind = Literal[
    "waiting",  # in the plan, needs not met yet
    "probing",
    "already-done",  # the probe found it done: nothing run
    "running",
    "retrying",  # transient failure, waiting before the next attempt
    "progress",  # status text or bytes moved
    "done",
    "failed",
    "conflict",
    "undoing",
    "undone",
    "irreversible",
]


@dataclass(frozen=True)
class StepEvent:
    kind: StepEventKind
    step_id: str
    message: str = ""
    hint: str | None = None
    attempt: int = 0
    completed: int | None = None  # bytes or units, for progress bars
    total: int | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ReleaseEvent:
    kind: ReleaseEventKind
    tag: str
    version: str
    message: str = ""
    failed_step: str | None = None
    hint: str | None = None
    at: float = field(default_factory=time.time)


Event = StepEvent | ReleaseEvent
Listener = Callable[[Event], None]
