"""Test-only fault injection: pause or SIGKILL the running shipit at a named point.

``SHIPIT_TEST_FAULT="kill@<step_id>:<before|during|after>"`` (or ``pause@...``; several
separated by ``,``) makes the process kill itself (SIGKILL, no clean-up at all) or pause when
it reaches that point. ``before``/``after`` are the orchestrator's boundaries around a step's
``run``; ``during`` is reached when a step calls ``checkpoint(ctx, step_id)`` between two of
its side effects. A pause writes the PID to ``SHIPIT_TEST_FAULT_MARK`` (if set) and waits
until the file ``SHIPIT_TEST_FAULT_MARK + ".go"`` exists (or 10 minutes pass). Unset, this
module does nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ENV = "SHIPIT_TEST_FAULT"
MARK_ENV = "SHIPIT_TEST_FAULT_MARK"
POINTS = ("before", "during", "after")


def parse(spec: str) -> list[tuple[str, str, str]]:
    """``"kill@git:tag:during,pause@x:before"`` -> ``[("kill", "git:tag", "during"), ...]``."""
    rules: list[tuple[str, str, str]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part or "@" not in part:
            continue
        action, _, target = part.partition("@")
        step_id, _, point = target.rpartition(":")
        if action in ("kill", "pause") and point in POINTS and step_id:
            rules.append((action, step_id, point))
    return rules


def reach(step_id: str, point: str, env: Mapping[str, str] | None = None) -> None:
    """Called at each named point; acts only when ``SHIPIT_TEST_FAULT`` names it."""
    source = os.environ if env is None else env
    spec = source.get(ENV)
    if not spec:
        return
    for action, target, where in parse(spec):
        if target != step_id or where != point:
            continue
        sys.stderr.write(f"SHIPIT_TEST_FAULT: {action} at {step_id}:{point}\n")
        sys.stderr.flush()
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(10)  # pragma: no cover - the kernel ends us first
        mark = source.get(MARK_ENV)
        if mark:
            Path(mark).write_text(str(os.getpid()), encoding="utf-8")
        go = Path(mark + ".go") if mark else None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if go is not None and go.exists():
                break
            time.sleep(0.05)
