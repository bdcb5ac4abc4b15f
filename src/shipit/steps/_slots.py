"""How many steps of one kind do their heavy part at once (binary builds, asset uploads).

The orchestrator runs independent steps in parallel; a ``Slots`` caps one kind of work across
the whole process: every step that asks for the same limit shares one semaphore.
"""

from __future__ import annotations

import threading


class Slots:
    """One process-wide semaphore per limit: ``slot(n)`` lets at most n holders in at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_limit: dict[int, threading.BoundedSemaphore] = {}

    def slot(self, n: int) -> threading.BoundedSemaphore:
        with self._lock:
            if n not in self._by_limit:
                self._by_limit[n] = threading.BoundedSemaphore(n)
            return self._by_limit[n]
