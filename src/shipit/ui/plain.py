"""Plain release output: one line per transition (CI logs, pipes) and the final report.

``PlainReporter`` is a ``Listener`` writing ``<step>: <what happened>`` lines to a stream;
``render_plan`` prints the plan as a table of text; ``render_report`` says what was done,
what failed and why, and the ways on. The rich live view (``ui/live.py``) replaces the
per-transition lines on a terminal.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from shipit.engine.events import Event, ReleaseEvent, StepEvent
from shipit.engine.states import ReleaseState, StepState
from shipit.redact import redact

if TYPE_CHECKING:
    from shipit.engine.documents import PlanDocument

_WORDS = {
    "probing": "probing",
    "already-done": "already done",
    "running": "running",
    "retrying": "retrying",
    "done": "done",
    "failed": "FAILED",
    "conflict": "CONFLICT",
    "undoing": "undoing",
    "undone": "undone",
    "irreversible": "cannot be undone",
}


class PlainReporter:
    """A Listener: one line per step transition, thread-safe (the orchestrator logs a
    listener's failure and goes on)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        line = self.line(event)
        if line is None:
            return
        with self._lock:
            self.stream.write(redact(line) + "\n")
            self.stream.flush()

    def line(self, event: Event) -> str | None:
        if isinstance(event, ReleaseEvent):
            text = f"release {event.tag} ({event.version}): {event.kind}"
            if event.failed_step:
                text += f" at {event.failed_step}"
            if event.message:
                text += f": {event.message}"
            return text
        assert isinstance(event, StepEvent)
        if event.kind in ("waiting", "progress", "probing"):
            return None
        if event.kind == "running":
            self._started[event.step_id] = event.at
        text = f"{event.step_id}: {_WORDS.get(event.kind, event.kind)}"
        started = self._started.get(event.step_id)
        if event.kind in ("done", "failed") and started is not None:
            text += f" ({event.at - started:.1f}s)"
        if event.message:
            text += f": {event.message}"
        if event.hint:
            text += f" -- next: {event.hint}"
        return text

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def render_plan(doc: PlanDocument, *, targets: bool = True) -> str:
    """The plan as text: release line, targets and why (``targets``), then one block per step."""
    release = doc.release
    lines = [f"release {release.tag} (version {release.version}) of commit {release.commit[:12]}"]
    if release.tag_source:
        lines.append(f"tag format: {release.tag_source}")
    if targets and doc.targets:
        lines.append("targets:")
        lines.extend(
            f"  {t.name}: {'on' if t.enabled else 'off'} ({t.reason})" for t in doc.targets
        )
    lines.append("steps:")
    width = max((len(s.id) for s in doc.steps), default=4)
    shown_line = False
    for step in doc.steps:
        if step.visible and not shown_line:
            shown_line = True
            lines.append(
                f"  {'':<9} -- nothing above leaves this machine; below runs after the gate --"
            )
        undo = "reversible" if step.reversible else "irreversible"
        marks = f"[{undo}, beside the checks]" if step.speculative else f"[{undo}]"
        description = step.description.splitlines() or [""]
        lines.append(f"  {step.state:<9} {step.id:<{width}}  {description[0]}  {marks}")
        for extra in description[1:]:  # commands, and notes written as "# ..."
            mark = "" if extra.startswith("# ") else "$ "
            lines.append(f"  {'':<9} {'':<{width}}    {mark}{extra}")
        if step.why:
            why = step.why.splitlines()
            lines.append(f"  {'':<9} {'':<{width}}    ({why[0]}" + (")" if len(why) == 1 else ""))
            for n, extra in enumerate(why[1:], start=2):
                close = ")" if n == len(why) else ""
                lines.append(f"  {'':<9} {'':<{width}}     {extra}{close}")
        if step.hint:
            lines.append(f"  {'':<9} {'':<{width}}    next: {step.hint}")
    return redact("\n".join(lines))


def render_report(
    *,
    tag: str,
    state: str,
    states: Mapping[str, StepState],
    failed: Sequence[tuple[str, str, str | None, str | None]] = (),
    not_started: Sequence[str] = (),
    discarded: Sequence[tuple[str, str]] | None = None,
) -> str:
    """The end of a run from each step's state: what was done, what failed and why, and the
    ways on. ``discarded`` (step id, what undoing it did): the release failed before anything
    visible, and its local work was undone."""
    done = [i for i, s in states.items() if s == StepState.DONE]
    already = [i for i, s in states.items() if s == StepState.ALREADY_DONE]
    lines: list[str] = []
    if state == ReleaseState.RELEASED:
        lines.append(f"released {tag}: {len(done)} step(s) done, {len(already)} already done")
        return "\n".join(lines)
    title = {"failed": "release failed", "interrupted": "release interrupted"}.get(state, state)
    lines.append(f"{title}: {tag}")
    lines.append("done: " + (", ".join(done + already) or "nothing"))
    for step_id, what, why, hint in failed:
        lines.append(f"failed: {step_id}: {what}")
        if why:
            lines.extend("  " + line for line in why.splitlines()[:15])
        if hint:
            lines.append(f"  hint: {hint}")
    if not_started:
        lines.append("not started: " + ", ".join(not_started))
    if discarded is not None:
        lines.append("nothing was tagged, pushed or published")
        for step_id, message in discarded:
            lines.append(f"discarded: {step_id}: {message}")
        # "ways on:" as every report says it (a reader looks for that label)
        lines.append("ways on: fix the cause, then run the command again (nothing to resume)")
        return redact("\n".join(lines))
    conflict = any(states.get(i) == StepState.CONFLICT for i, *_ in failed)
    if conflict:
        lines.append("nothing was overwritten; resolve the conflict, then `shipit resume`")
    lines.append(
        "ways on: fix the cause and run `shipit resume`, or undo what was done with "
        "`shipit rollback`"
    )
    return redact("\n".join(lines))
