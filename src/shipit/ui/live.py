"""The live release view: every step of the plan and where it stands, as it happens.

``LiveView`` is a ``Listener``: the orchestrator feeds it ``StepEvent``/``ReleaseEvent`` and a
rich ``Live`` redraws the plan: steps waiting, running (spinner, elapsed time, an upload bar
from ``completed``/``total``), done, already done (found by the probe), failed with the hint. On a
non-terminal or in CI, ``release_view`` gives ``ui.plain.PlainReporter`` instead: one line
per transition, no animation. Both are used as context managers around the orchestrator run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO, cast

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from shipit.engine.events import Event, ReleaseEvent, StepEvent
from shipit.engine.states import COMPLETED, StepState
from shipit.engine.states import FINISHED as STEPS_FINISHED
from shipit.redact import redact
from shipit.ui.live_display import LiveDisplay

Clock = Callable[[], float]

#: How each step state is shown: (symbol, word, style). Running-like states get a spinner.
STATE_LOOK: dict[str, tuple[str, str, str]] = {
    "waiting": ("·", "waiting", "dim"),
    "probing": ("", "checking", "cyan"),
    "running": ("", "running", "cyan"),
    "retrying": ("↻", "retrying", "yellow"),
    "done": ("✓", "done", "green"),
    "already-done": ("✓", "already done", "green dim"),
    "failed": ("✗", "failed", "bold red"),
    "conflict": ("!", "conflict", "bold red"),
    "undoing": ("", "undoing", "magenta"),
    "undone": ("↶", "undone", "magenta"),
    "irreversible": ("⚠", "cannot undo", "yellow"),
}
ACTIVE = frozenset({"probing", "running", "retrying", "undoing"})
FINISHED = frozenset({*STEPS_FINISHED, StepState.UNDONE, StepState.IRREVERSIBLE})


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


@dataclass
class StepRow:
    """What is known of one step from the events so far."""

    id: str
    state: str = "waiting"
    message: str = ""
    hint: str | None = None
    attempt: int = 0
    started: float | None = None
    ended: float | None = None
    completed: int | None = None
    total: int | None = None

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else now) - self.started


class ReleaseModel:
    """The state of a release as told by events; shared by the live and plain views."""

    def __init__(self, step_ids: Iterable[str] = ()) -> None:
        self.rows: dict[str, StepRow] = {sid: StepRow(sid) for sid in step_ids}
        self.release: ReleaseEvent | None = None
        self.started_at: float | None = None
        self.outcome: ReleaseEvent | None = None
        self.lock = threading.Lock()

    def apply(self, event: Event) -> StepRow | None:
        """Fold ``event`` in; return the row it changed (None for release events)."""
        with self.lock:
            if isinstance(event, ReleaseEvent):
                if event.kind == "started":
                    self.release = event
                    self.started_at = event.at
                    self.outcome = None
                else:
                    self.outcome = event
                return None
            row = self.rows.get(event.step_id)
            if row is None:
                row = self.rows[event.step_id] = StepRow(event.step_id)
            if event.kind == "progress":
                if event.completed is not None:
                    row.completed = event.completed
                if event.total is not None:
                    row.total = event.total
                if event.message:
                    row.message = redact(event.message)
                return row
            if event.kind in ("probing", "running", "undoing") and (
                row.started is None or row.state in FINISHED or row.state == "waiting"
            ):
                row.started = event.at
                row.ended = None
                row.completed = row.total = None
            if event.kind in FINISHED:
                row.ended = event.at
                if row.started is None:
                    row.started = event.at
            row.state = event.kind
            row.message = redact(event.message)
            row.hint = redact(event.hint) if event.hint else None
            if event.attempt:
                row.attempt = event.attempt
            return row

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows.values():
            out[row.state] = out.get(row.state, 0) + 1
        return out


class LiveView(LiveDisplay):
    """A rich live table of the plan, redrawn as events arrive (a Listener)."""

    def __init__(
        self,
        console: Console,
        step_ids: Iterable[str] = (),
        *,
        title: str | None = None,
        clock: Clock = time.time,
        refresh_per_second: float = 8,
    ) -> None:
        self.console = console
        self.model = ReleaseModel(step_ids)
        self.title = title
        self.clock = clock
        self._spinners: dict[str, Spinner] = {}
        self._live = Live(
            self,
            console=console,
            refresh_per_second=refresh_per_second,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __call__(self, event: Event) -> None:
        self.model.apply(event)
        if not isinstance(event, StepEvent) or event.kind != "progress":
            self._live.refresh()

    def _spinner(self, step_id: str) -> Spinner:
        spinner = self._spinners.get(step_id)
        if spinner is None:
            spinner = self._spinners[step_id] = Spinner("dots", style="cyan")
        return spinner

    def __rich__(self) -> RenderableType:
        return self.render()

    def render(self) -> RenderableType:
        now = self.clock()
        with self.model.lock:
            rows = list(self.model.rows.values())
            release = self.model.release
            outcome = self.model.outcome
            started_at = self.model.started_at
        table = Table.grid(padding=(0, 1))
        table.add_column(width=1, no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        table.add_column(justify="right", no_wrap=True)
        for row in rows:
            symbol, word, style = STATE_LOOK.get(row.state, ("?", row.state, ""))
            icon: RenderableType = (
                self._spinner(row.id) if row.state in ACTIVE and not symbol else Text(symbol, style)
            )
            detail: RenderableType = Text(
                row.message, style="dim" if row.state == "waiting" else ""
            )
            if row.state in ("running", "undoing") and row.total:
                done = row.completed or 0
                bar = ProgressBar(total=row.total, completed=done, width=24)
                size = Text(f" {human_bytes(done)}/{human_bytes(row.total)}", style="dim")
                line = Table.grid(padding=(0, 1))
                line.add_row(bar, size, Text(row.message))
                detail = line
            if row.hint and row.state in ("failed", "conflict", "irreversible"):
                detail = Group(detail, Text(f"next: {row.hint}", style="green"))
            elapsed = row.elapsed(now)
            timing = (
                human_duration(elapsed) if elapsed is not None and row.state != "waiting" else ""
            )
            table.add_row(icon, Text(row.id, style="bold"), Text(word, style), detail, timing)
        parts: list[RenderableType] = []
        head = self.title
        if head is None and release is not None:
            head = f"Releasing {release.tag} (version {release.version})"
        if head:
            parts.append(Text(head, style="bold"))
        parts.append(table)
        parts.append(self._footer(rows, now, started_at, outcome))
        return Group(*parts)

    def _footer(
        self,
        rows: list[StepRow],
        now: float,
        started_at: float | None,
        outcome: ReleaseEvent | None,
    ) -> Text:
        finished = sum(1 for r in rows if r.state in COMPLETED)
        running = sum(1 for r in rows if r.state in ACTIVE)
        text = Text(f"{finished}/{len(rows)} steps done", style="dim")
        if running:
            text.append(f" · {running} running", style="dim")
        if started_at is not None:
            end = outcome.at if outcome is not None else now
            text.append(f" · {human_duration(end - started_at)}", style="dim")
        if outcome is not None:
            look = {"succeeded": "bold green", "failed": "bold red"}.get(outcome.kind, "yellow")
            text.append(f"\nrelease {outcome.kind}", style=look)
            if outcome.failed_step:
                text.append(f" at {outcome.failed_step}", style=look)
            if outcome.message:
                text.append(f": {redact(outcome.message)}")
            if outcome.hint:
                text.append(f"\nnext: {redact(outcome.hint)}", style="green")
        return text


class ReleaseView(Protocol):
    def __call__(self, event: Event) -> None: ...
    def __enter__(self) -> ReleaseView: ...
    def __exit__(self, *exc: object) -> None: ...


def release_view(
    console: Console, step_ids: Iterable[str] = (), *, ci: bool = False
) -> ReleaseView:
    """The live view on an interactive terminal; otherwise (pipe, log, CI) the plain
    reporter of ``ui/plain.py``: one line per transition, no animation."""
    if ci or not console.is_terminal or console.is_dumb_terminal:
        from shipit.ui.plain import PlainReporter

        return PlainReporter(cast(TextIO, console.file))
    return LiveView(console, step_ids)
