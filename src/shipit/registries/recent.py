"""A registry read a step's probe just made, handed to the step's run right after it.

The orchestrator probes a step and, when the probe says "not done yet", runs it at once; the
run used to ask the registry the same question again before publishing. ``JustRead`` keeps the
probe's answer for that run: once (a retry reads afresh), for the same question only, and only
while it is a few seconds old.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

#: how old a probe's answer may be when the run takes it (the orchestrator runs at once)
FRESH_S = 5.0


class JustRead(Generic[T]):
    """One remembered answer, taken at most once."""

    def __init__(self, fresh_s: float = FRESH_S, clock: Callable[[], float] = time.monotonic):
        self._fresh_s = fresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[Hashable, float, T] | None = None

    def keep(self, key: Hashable, value: T) -> T:
        """Remember ``value`` as the answer to ``key``; return it."""
        with self._lock:
            self._kept = (key, self._clock(), value)
        return value

    def take(self, key: Hashable, read: Callable[[], T]) -> T:
        """The kept answer to ``key`` if it is fresh (and forget it), else ``read()``."""
        with self._lock:
            kept, self._kept = self._kept, None
        if kept is not None and kept[0] == key and self._clock() - kept[1] <= self._fresh_s:
            return kept[2]
        return read()
