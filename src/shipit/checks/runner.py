"""Run checks at once: one thread per check, a cap on CPU-heavy commands, timeouts, Ctrl-C.

Every check starts immediately; HTTP lookups and git run in parallel with the tools. The
check that took longest last time (``timings``) keeps the normal CPU priority; every other
check's commands run at a lower one, so the critical path is not slowed by the rest. Each
command of a ``heavy`` check (type checker, linter, tests; one per ecosystem) holds one of
``checks.parallel`` slots (default: the number of cores) while it runs, so CPU-bound tools do
not starve each other and one check's commands overlap with another's. Each command is killed
at its check's timeout; a check still running after twice its timeout is reported as
``error``. Ctrl-C sets the cancel flag, ends every child process (``proc.terminate_all``) and
raises ``Interrupted``. Every check's result is reported in one pass, never only the first
failure.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from shipit import proc
from shipit.checks import timings
from shipit.checks.base import Check, CheckContext, CheckResult, Finding, Status
from shipit.errors import Interrupted, ShipitError
from shipit.redact import redact
from shipit.workspace import open_private

GRACE_S = 10.0


class Listener(Protocol):
    """Progress callbacks, called from the runner's threads (renderers must lock).
    ``started`` comes again after ``waiting`` when a heavy command got its CPU slot."""

    def waiting(self, name: str) -> None: ...
    def started(self, name: str) -> None: ...
    def finished(self, result: CheckResult) -> None: ...


class NullListener:
    def waiting(self, name: str) -> None:
        pass

    def started(self, name: str) -> None:
        pass

    def finished(self, result: CheckResult) -> None:
        pass


@dataclass(frozen=True)
class Report:
    results: tuple[CheckResult, ...]
    duration_s: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "duration_s": round(self.duration_s, 3),
            "checks": [r.to_json() for r in self.results],
        }


def _timeout_of(ctx: CheckContext, name: str) -> float:
    cfg = getattr(ctx.config.checks, name, None)
    return float(getattr(cfg, "timeout", ctx.timeout))


def heavy_slots(ctx: CheckContext) -> int:
    return ctx.config.checks.parallel or os.cpu_count() or 2


def run_checks(
    checks: Sequence[Check], ctx: CheckContext, listener: Listener | None = None
) -> Report:
    """Run every check in parallel and return all their results (in the given order)."""
    events = listener or NullListener()
    start = time.monotonic()
    if ctx.slots is None:  # a release shares its slots with the builds
        ctx.slots = threading.Semaphore(heavy_slots(ctx))
    scope = "release" if ctx.scanned_when_built else "check"
    first = timings.critical(ctx.root, scope, [c.name for c in checks])
    done: queue.Queue[CheckResult] = queue.Queue()
    deadlines: dict[str, float] = {}
    lock = threading.Lock()

    def work(check: Check) -> None:
        name = check.name
        own = replace(
            ctx,
            timeout=_timeout_of(ctx, name),
            heavy=check.heavy,
            name=name,
            on_wait=events.waiting,
            on_run=events.started,
        )
        if ctx.cancelled.is_set():
            return
        own.started = time.monotonic()
        with lock:
            deadlines[name] = own.started + 2 * own.timeout + GRACE_S  # safety net
        events.started(name)
        try:
            with proc.in_background(first is not None and name != first):
                result = check.run(own)
        except Interrupted:
            return
        except ShipitError as exc:
            result = CheckResult(
                name,
                Status.ERROR,
                exc.what,
                (Finding(exc.what + (f" ({exc.why})" if exc.why else ""), hint=exc.hint),),
            )
        except Exception as exc:  # a bug in a check must not hide the others' results
            log = own.log_file(name)
            with contextlib.suppress(OSError), open_private(log, "w") as fh:
                fh.write(redact(traceback.format_exc()))
            result = CheckResult(
                name,
                Status.ERROR,
                f"the check crashed: {type(exc).__name__}: {exc}",
                (Finding(redact(str(exc)), hint="this is a bug in shipit; please report it"),),
                log_path=log,
            )
        result = replace(result, duration_s=time.monotonic() - own.started)
        done.put(result)

    threads = {c.name: threading.Thread(target=work, args=(c,), daemon=True) for c in checks}
    for t in threads.values():
        t.start()
    results: dict[str, CheckResult] = {}
    try:
        while len(results) < len(threads):
            try:
                result = done.get(timeout=0.1)
            except queue.Empty:
                now = time.monotonic()
                with lock:
                    overdue = [n for n, d in deadlines.items() if now > d and n not in results]
                for name in overdue:
                    check_timeout = _timeout_of(ctx, name)
                    results[name] = CheckResult(
                        name,
                        Status.ERROR,
                        f"timed out after {check_timeout:.0f}s",
                        (
                            Finding(
                                f"the {name} check did not finish within {check_timeout:.0f}s",
                                hint=f"raise checks.{name}.timeout in shipit.toml",
                            ),
                        ),
                        duration_s=now - (deadlines[name] - 2 * check_timeout - GRACE_S),
                    )
                    events.finished(results[name])
                if all(not t.is_alive() for t in threads.values()) and done.empty():
                    break
                continue
            if result.name in results:  # already reported as timed out
                continue
            results[result.name] = result
            events.finished(result)
    except KeyboardInterrupt:
        stop(ctx, threads.values())
        raise Interrupted(
            "interrupted: the checks were stopped",
            why="Ctrl-C",
            hint="run shipit check again",
        ) from None
    if len(results) < len(threads):  # only after an overdue check left its thread behind
        stop(ctx, [t for n, t in threads.items() if n not in results])
    ordered = tuple(results[c.name] for c in checks if c.name in results)
    timings.record(ctx.root, scope, {r.name: r.duration_s for r in ordered})
    return Report(ordered, time.monotonic() - start)


def stop(ctx: CheckContext, threads: Iterable[threading.Thread]) -> None:
    """Cancel: no new command starts, every child process is ended, threads get a moment."""
    ctx.cancelled.set()
    proc.terminate_all(grace_s=2.0)
    deadline = time.monotonic() + 3.0
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
        proc.terminate_all(grace_s=1.0)  # anything started in the race window
