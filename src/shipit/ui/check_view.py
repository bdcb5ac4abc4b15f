"""Render ``shipit check``: a live line per check on a terminal, plain lines in CI, a summary.

The live view shows each check with a spinner and its elapsed time, then its verdict. The
plain view prints one line per finished check (CI logs, pipes). Both finish with the findings
of every check that did not pass (file:line, message, hint), the log file's path, and a
totals line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from shipit.checks.base import CheckResult, Status
from shipit.checks.presets import Plan
from shipit.redact import redact
from shipit.ui.live_display import LiveDisplay

ICONS = {
    Status.PASSED: ("✓", "green"),
    Status.FAILED: ("✗", "red"),
    Status.ERROR: ("!", "yellow"),
    Status.SKIPPED: ("-", "dim"),
}
MAX_SHOWN_FINDINGS = 10


def _short(text: str, width: int = 90) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


class LiveView(LiveDisplay):
    """A rich Live table, refreshed by rich's thread; callbacks come from runner threads."""

    def __init__(self, console: Console, names: Sequence[str]) -> None:
        self.console = console
        self.names = list(names)
        self._lock = threading.Lock()
        self._state: dict[str, str] = {n: "starting" for n in names}
        self._start: dict[str, float] = {}
        self._results: dict[str, CheckResult] = {}
        self._spinners = {n: Spinner("dots", style="cyan") for n in names}
        self._live = Live(
            console=console, refresh_per_second=8, transient=False, get_renderable=self._render
        )

    def waiting(self, name: str) -> None:
        with self._lock:
            self._state[name] = "waiting for a CPU slot"
            self._start.setdefault(name, time.monotonic())

    def started(self, name: str) -> None:
        with self._lock:
            self._state[name] = "running"
            self._start.setdefault(name, time.monotonic())

    def finished(self, result: CheckResult) -> None:
        with self._lock:
            self._results[result.name] = result

    def _render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        table.add_column(width=2)
        table.add_column(min_width=10)
        table.add_column(justify="right", min_width=6)
        table.add_column(no_wrap=True, overflow="ellipsis")
        now = time.monotonic()
        with self._lock:
            for name in self.names:
                res = self._results.get(name)
                if res is not None:
                    icon, style = ICONS[res.status]
                    table.add_row(
                        Text(icon, style=style),
                        Text(name, style="bold"),
                        Text(f"{res.duration_s:.1f}s", style="dim"),
                        Text(f"{res.status}: {_short(res.summary)}", style=style),
                    )
                    continue
                started = self._start.get(name)
                elapsed = f"{now - started:.1f}s" if started else ""
                table.add_row(
                    self._spinners[name],
                    Text(name, style="bold"),
                    Text(elapsed, style="dim"),
                    Text(self._state[name], style="dim"),
                )
        return Group(table)


class PlainView:
    """One line per finished check; nothing animated (CI, pipes, NO_COLOR terminals)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def waiting(self, name: str) -> None:
        pass

    def started(self, name: str) -> None:
        pass

    def finished(self, result: CheckResult) -> None:
        with self._lock:
            self.console.print(
                f"{result.status.upper():7} {result.name:<10} {result.duration_s:5.1f}s  "
                f"{_short(result.summary, 200)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


def _display_path(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def render_summary(
    console: Console,
    results: Sequence[CheckResult],
    duration_s: float,
    root: Path,
    disabled: Sequence[str] = (),
    *,
    each_check: bool = False,
) -> None:
    """Findings of every check that did not pass, log paths, and the totals line
    (``each_check``: first one line per check, for a report read without the live view)."""
    if each_check:
        for res in results:
            console.print(
                f"{res.status.upper():7} {res.name:<10} {_short(res.summary, 200)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    for res in results:
        if res.status in (Status.PASSED, Status.SKIPPED):
            continue
        icon, style = ICONS[res.status]
        console.print()
        head = Text()
        head.append(f"{icon} {res.name} {res.status}", style=f"bold {style}")
        first = res.findings[0].message if res.findings else ""
        if res.summary and res.summary != first:
            head.append(f": {redact(res.summary)}")
        console.print(head, soft_wrap=True)
        for f in res.findings[:MAX_SHOWN_FINDINGS]:
            line = Text("  ")
            loc = f.location()
            if loc:
                line.append(loc, style="cyan")
                line.append(": ")
            line.append(redact(f.message))
            console.print(line, soft_wrap=True)
            if f.hint:
                console.print(Text(f"    fix: {redact(f.hint)}", style="green"), soft_wrap=True)
        more = len(res.findings) - MAX_SHOWN_FINDINGS
        if more > 0:
            console.print(Text(f"  … and {more} more", style="dim"))
        if res.log_path is not None:
            console.print(Text(f"  full output: {_display_path(res.log_path, root)}", style="dim"))
    counts: dict[Status, int] = {}
    for res in results:
        counts[res.status] = counts.get(res.status, 0) + 1
    parts = [f"{counts[s]} {s}" for s in Status if counts.get(s)]
    if disabled:
        parts.append(f"{len(disabled)} disabled ({', '.join(disabled)})")
    ok = all(r.ok for r in results)
    console.print()
    verdict = Text("ready to release" if ok else "not ready to release", style="bold")
    verdict.stylize("green" if ok else "red")
    verdict.append(f" — {', '.join(parts) or 'no checks ran'} in {duration_s:.1f}s", style="")
    console.print(verdict, soft_wrap=True)


def render_plan(console: Console, plans: Sequence[Plan], disabled: Sequence[str] = ()) -> None:
    """``shipit check --explain``: each check's commands with their reasons, and what it
    leaves out with the configuration that turns it on."""
    for plan in plans:
        console.print(Text(plan.check, style="bold"))
        for cmd in plan.commands:
            line = Text("  runs  ")
            line.append(cmd.display, style="cyan")
            console.print(line, soft_wrap=True)
            if cmd.why:
                console.print(Text(f"        because {cmd.why}", style="dim"), soft_wrap=True)
        for skip in plan.skipped:
            console.print(Text(f"  skips {skip.tool}: {skip.reason}"), soft_wrap=True)
            console.print(Text(f"        to run it: {skip.enable}", style="green"), soft_wrap=True)
        for what in plan.nothing_to_scan:
            console.print(Text(f"  nothing to audit: {what}"), soft_wrap=True)
        if not plan.commands and not plan.skipped and not plan.nothing_to_scan:
            console.print(Text(f"  skipped: {plan.reason}", style="dim"), soft_wrap=True)
    for name in disabled:
        console.print(Text(name, style="bold"))
        console.print(
            Text(f"  disabled (checks.{name}.enabled = false)", style="dim"), soft_wrap=True
        )
