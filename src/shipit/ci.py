"""CI mode: detect it, and in GitHub Actions report a release where people look for it.

CI mode (``--ci``, ``CI=true`` or ``GITHUB_ACTIONS=true``) means no prompts and no
animations. Under GitHub Actions, ``GithubActionsReporter`` (a ``Listener`` the release
command adds) prints ``::error`` / ``::warning`` workflow commands for failing steps, so they
show as annotations on the run, and appends a Markdown summary of the release (steps, states,
attempts, times, URLs) to ``$GITHUB_STEP_SUMMARY`` when the release ends.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from shipit.engine.events import Event, StepEvent
from shipit.redact import redact
from shipit.ui.live import ReleaseModel, StepRow, human_duration

_TRUE = ("1", "true", "yes", "on")
_URL = re.compile(r"https?://[^\s)\"'<>]+")

EvidenceOf = Callable[[str], Mapping[str, Any]]


def is_ci(env: Mapping[str, str], flag: bool = False) -> bool:
    """True with ``--ci``, ``CI=true`` (any CI service) or inside GitHub Actions."""
    return (
        flag
        or env.get("CI", "").strip().lower() in _TRUE
        or env.get("GITHUB_ACTIONS", "").strip().lower() == "true"
    )


def in_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS", "").strip().lower() == "true"


def escape_data(text: str) -> str:
    """Escape a workflow command's message (GitHub's toolkit rules)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value such as ``title``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, title: str | None = None) -> str:
    """``::error title=...::message`` (level: error, warning, notice), secrets redacted."""
    props = f" title={escape_property(redact(title))}" if title else ""
    return f"::{level}{props}::{escape_data(redact(message))}"


def urls_in(evidence: Mapping[str, Any]) -> list[str]:
    """Every http(s) URL in a step's evidence (values, nested lists and dicts)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            for url in _URL.findall(value):
                if url not in found and "{" not in url:  # not URI templates (upload_url)
                    found.append(url)
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(evidence)
    return found


_ICON = {
    "done": "✅ done",
    "already-done": "☑️ already done",
    "failed": "❌ failed",
    "conflict": "⛔ conflict",
    "undone": "↩️ undone",
    "irreversible": "⚠️ cannot undo",
    "running": "⏳ running",
    "retrying": "⏳ retrying",
    "probing": "⏳ checking",
    "undoing": "⏳ undoing",
    "waiting": "⏸️ not started",
}


def _cell(text: str) -> str:
    return redact(text).replace("|", "\\|").replace("\n", "<br>")


def summary_markdown(
    model: ReleaseModel,
    attempts: Mapping[str, int],
    evidence_of: EvidenceOf | None = None,
) -> str:
    """The Markdown a person reads on the workflow run's summary page."""
    release = model.release
    outcome = model.outcome
    head = outcome or release
    tag = head.tag if head else "?"
    version = head.version if head else "?"
    verdict = outcome.kind if outcome else "in progress"
    mark = {"succeeded": "🚀", "failed": "❌", "rolled-back": "↩️"}.get(verdict, "⚠️")
    lines = [f"## {mark} shipit release {tag}: {verdict}", ""]
    took = ""
    if model.started_at is not None and outcome is not None:
        took = f" Took {human_duration(outcome.at - model.started_at)}."
    lines.append(f"Version `{version}`, tag `{tag}`.{took}")
    lines.append("")
    if outcome is not None and outcome.kind == "failed":
        step = f" at `{outcome.failed_step}`" if outcome.failed_step else ""
        lines.append(f"**Failed{step}:** {_cell(outcome.message or 'see the log')}")
        lines.append("")
    if outcome is not None and outcome.hint:
        lines.append(f"**Next:** {_cell(outcome.hint)}")
        lines.append("")
    lines.append("| Step | State | Attempts | Time | Details |")
    lines.append("| --- | --- | --- | --- | --- |")
    for row in list(model.rows.values()):
        lines.append(_row(row, attempts.get(row.id, 0), evidence_of))
    lines.append("")
    return "\n".join(lines) + "\n"


def _row(row: StepRow, attempts: int, evidence_of: EvidenceOf | None) -> str:
    details: list[str] = []
    if row.message:
        details.append(row.message)
    if row.hint:
        details.append(f"next: {row.hint}")
    urls: list[str] = []
    if evidence_of is not None:
        urls = urls_in(evidence_of(row.id) or {})
    for url in _URL.findall(row.message):
        if url not in urls:
            urls.append(url)
    details.extend(u for u in urls if u not in row.message)
    elapsed = row.elapsed(row.ended) if row.ended is not None else None
    time_cell = human_duration(elapsed) if elapsed is not None else ""
    state = _ICON.get(row.state, row.state)
    return (
        f"| `{row.id}` | {state} | {attempts or ''} | {time_cell} | {_cell('; '.join(details))} |"
    )


class GithubActionsReporter:
    """A Listener: annotations for failures as they happen, a summary when the release ends."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        stream: TextIO | None = None,
        step_ids: Iterable[str] = (),
        evidence_of: EvidenceOf | None = None,
    ) -> None:
        path = env.get("GITHUB_STEP_SUMMARY")
        self.summary_path = Path(path) if path else None
        self.stream = stream
        self.model = ReleaseModel(step_ids)
        self.evidence_of = evidence_of
        self.attempts: dict[str, int] = {}
        self._annotated: set[str] = set()
        self._lock = threading.Lock()

    def _print(self, line: str) -> None:
        out = self.stream or sys.stdout
        out.write(line + "\n")
        out.flush()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        self.model.apply(event)
        if isinstance(event, StepEvent):
            before = self.attempts.get(event.step_id, 0)
            if event.kind in ("running", "undoing"):
                self.attempts[event.step_id] = max(before + 1, event.attempt)
            elif event.kind == "retrying":  # attempt N failed, N+1 comes
                self.attempts[event.step_id] = max(before, event.attempt + 1)
            if event.kind in ("failed", "conflict"):
                self._annotated.add(event.step_id)
                message = event.message or f"{event.step_id} {event.kind}"
                if event.hint:
                    message += f"\nNext: {event.hint}"
                self._print(annotation("error", message, f"shipit: {event.step_id} {event.kind}"))
            elif event.kind == "irreversible":
                message = event.message or "cannot be undone"
                if event.hint:
                    message += f"\nNext: {event.hint}"
                self._print(annotation("warning", message, f"shipit: {event.step_id} not undone"))
            return
        if event.kind == "started":
            return
        if event.kind in ("failed", "interrupted") and (
            event.failed_step is None or event.failed_step not in self._annotated
        ):
            message = event.message or f"release {event.tag} {event.kind}"
            if event.hint:
                message += f"\nNext: {event.hint}"
            where = f" at {event.failed_step}" if event.failed_step else ""
            self._print(
                annotation("error", message, f"shipit: release {event.tag} {event.kind}{where}")
            )
        self.write_summary()

    def write_summary(self) -> None:
        """Append the release summary to ``$GITHUB_STEP_SUMMARY`` (if GitHub gave one)."""
        if self.summary_path is None:
            return
        text = summary_markdown(self.model, self.attempts, self.evidence_of)
        with self.summary_path.open("a", encoding="utf-8") as handle:
            handle.write(text)


def ci_listeners(
    env: Mapping[str, str],
    *,
    step_ids: Iterable[str] = (),
    evidence_of: EvidenceOf | None = None,
    stream: TextIO | None = None,
) -> list[Callable[[Event], None]]:
    """The listeners CI adds to a release: the GitHub Actions reporter when running there."""
    if not in_github_actions(env):
        return []
    return [GithubActionsReporter(env, stream=stream, step_ids=step_ids, evidence_of=evidence_of)]
