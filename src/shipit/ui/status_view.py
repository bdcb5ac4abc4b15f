"""The ``shipit status`` dashboard: the data it shows and how it is drawn.

``StatusReport`` is plain data (also the ``--json`` document): the project's version and its
sources, git (branch, HEAD, last release tag), what each registry and GitHub have live, the
current or last release from its journal (each step's state, attempts, duration, evidence
URLs, error), and the commands to type next. ``render`` draws it with rich for a person.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from shipit.live_versions import LiveVersion
from shipit.redact import redact
from shipit.ui.live import human_duration


@dataclass(frozen=True)
class SourceInfo:
    """One file the version is read from, and the version it holds."""

    file: str
    kind: str
    version: str | None


@dataclass(frozen=True)
class ProjectInfo:
    """The project: its name, version, where the version lives, what it publishes."""

    name: str | None
    root: str
    version: str | None
    consistent: bool
    sources: list[SourceInfo]
    targets: dict[str, str]  # enabled target -> package
    error: str | None = None
    tag_format: str = "v{version}"  # configured, or inferred from the tags
    tag_driven: bool = False  # the version lives in the git tags only


@dataclass(frozen=True)
class GitInfo:
    """The repository: branch, HEAD, whether the tree is clean, the last release tag."""

    branch: str | None
    head: str | None
    clean: bool | None
    last_tag: str | None
    remote_url: str | None
    error: str | None = None


@dataclass(frozen=True)
class StepInfo:
    """One step of the last release, as its journal records it."""

    id: str
    state: str
    attempts: int
    duration_s: float | None
    urls: list[str]
    error: str | None = None
    hint: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ReleaseInfo:
    """The current or last release, from its journal and lock."""

    tag: str
    version: str
    state: str
    started_at: str | None
    updated_at: str | None
    directory: str
    running: bool  # a shipit process holds the lock right now
    holder: str | None  # who holds it
    steps: list[StepInfo]
    error: str | None = None


@dataclass(frozen=True)
class NextStep:
    """A command to type next, and why."""

    command: str
    why: str


@dataclass(frozen=True)
class AuthInfo:
    """How one registry authenticates in this environment (``shipit.oidc.Auth``)."""

    registry: str
    mode: str  # token | oidc | none
    why: str
    problem: str | None = None


@dataclass(frozen=True)
class StatusReport:
    """Everything ``shipit status`` shows (and prints as JSON with --json)."""

    project: ProjectInfo
    git: GitInfo
    live: list[LiveVersion]
    release: ReleaseInfo | None
    next: list[NextStep]
    generated_at: float = field(default_factory=time.time)
    registries_asked: bool = True  # False with --offline
    auth: list[AuthInfo] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.generated_at))
        return data  # redacted by emit_json


# ---------------------------------------------------------------- rendering

STEP_STYLE = {
    "done": ("✓ done", "green"),
    "already-done": ("✓ already done", "green"),
    "running": ("… running", "cyan"),
    "pending": ("· pending", "dim"),
    "failed": ("✗ failed", "bold red"),
    "conflict": ("! conflict", "bold red"),
    "undone": ("↶ undone", "magenta"),
    "irreversible": ("⚠ cannot undo", "yellow"),
}
RELEASE_STYLE = {
    "released": "bold green",
    "failed": "bold red",
    "interrupted": "bold yellow",
    "releasing": "bold cyan",
    "rolling-back": "bold magenta",
    "rolled-back": "magenta",
    "partly-rolled-back": "yellow",
    "planned": "cyan",
}
TARGET_NAMES = {"npm": "npm", "jsr": "JSR", "pypi": "PyPI", "github": "GitHub"}


AUTH_WORDS = {"token": "token", "oidc": "trusted publishing (OIDC)", "none": "no credentials"}


def _auth_line(a: AuthInfo) -> Text:
    """``npm: trusted publishing (OIDC), GitHub Actions job with ...`` (the problem in red)."""
    style = "red" if a.problem else ("green" if a.mode != "none" else "yellow")
    line = Text(f"{TARGET_NAMES.get(a.registry, a.registry)}: ")
    line.append(AUTH_WORDS[a.mode], style=style)
    line.append(f", {a.why}", style="dim")
    if a.problem:
        line.append(f" ({a.problem})", style="red")
    return line


def _project(p: ProjectInfo, g: GitInfo, auth: list[AuthInfo] | None = None) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if p.error:
        grid.add_row("project", Text(p.error, style="red"))
    else:
        version = Text(p.version or "no version found", style="bold")
        if p.sources:
            version.append(
                "  (all sources agree)" if p.consistent else "  (sources disagree!)",
                style="green" if p.consistent else "bold red",
            )
        grid.add_row("version", version)
        for s in p.sources:
            grid.add_row("", Text(f"{s.file}: {s.version or '-'}", style="dim"))
        grid.add_row(
            "targets",
            ", ".join(f"{TARGET_NAMES.get(t, t)} {pkg}" for t, pkg in p.targets.items()) or "none",
        )
        for i, a in enumerate(auth or []):
            grid.add_row("publish as" if i == 0 else "", _auth_line(a))
    if g.error:
        grid.add_row("git", Text(g.error, style="red"))
    else:
        where = f"{g.branch or 'detached HEAD'} @ {(g.head or 'no commits')[:12]}"
        if g.clean is False:
            where += " (uncommitted changes)"
        grid.add_row("git", where)
        grid.add_row("last tag", g.last_tag or "none yet")
    title = f"shipit status: {p.name}" if p.name else "shipit status"
    return Panel(grid, title=title, title_align="left", border_style="blue")


def _live(live: list[LiveVersion], asked: bool = True) -> RenderableType:
    table = Table(title="Live versions", title_justify="left", expand=True, show_edge=False)
    table.add_column("where", no_wrap=True)
    table.add_column("package", overflow="fold")
    table.add_column("latest", no_wrap=True)
    table.add_column("this version", no_wrap=True)
    table.add_column("details", overflow="fold")
    for lv in live:
        name = TARGET_NAMES.get(lv.target, lv.target)
        if lv.error:
            table.add_row(name, lv.package, "?", "?", Text(lv.error, style="red"))
            continue
        if lv.has_current is None:
            current = Text("-", style="dim")
        elif lv.has_current:
            current = Text(f"{lv.current} live", style="green")
        else:
            current = Text(f"{lv.current} not yet", style="yellow")
        details = [d for d in (lv.detail, lv.url) if d]
        details.extend(f"{k}: {v}" for k, v in lv.extra.items())
        table.add_row(
            name, lv.package, lv.latest or Text("none", style="dim"), current, " · ".join(details)
        )
    if not live:
        why = "no publish target enabled" if asked else "registries not asked (--offline)"
        table.add_row("-", why, "", "", "")
    return table


def _release(r: ReleaseInfo, now: float) -> RenderableType:
    style = RELEASE_STYLE.get(r.state, "")
    head = Text()
    head.append(f"Release {r.tag} ", style="bold")
    head.append(r.state, style=style)
    if r.running:
        head.append(f"  (running: {r.holder})", style="cyan")
    if r.updated_at:
        head.append(f"  updated {r.updated_at}", style="dim")
    table = Table(expand=True, show_edge=False)
    table.add_column("step", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("evidence / error", overflow="fold")
    for s in r.steps:
        word, st = STEP_STYLE.get(s.state, (s.state, ""))
        detail = Text()
        if s.urls:
            detail.append("\n".join(s.urls))
        if s.error:
            if detail:
                detail.append("\n")
            detail.append(s.error, style="red")
        if s.hint:
            detail.append(f"\nnext: {s.hint}", style="green")
        if s.note:
            if detail:
                detail.append("\n")
            detail.append(s.note, style="dim")
        table.add_row(
            s.id,
            Text(word, style=st),
            str(s.attempts) if s.attempts else "",
            human_duration(s.duration_s) if s.duration_s is not None else "",
            detail,
        )
    parts: list[RenderableType] = [head]
    if r.error:
        parts.append(Text(r.error, style="red"))
    parts.append(table)
    return Group(*parts)


def _next(steps: list[NextStep]) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold green", no_wrap=True)
    grid.add_column()
    for n in steps:
        grid.add_row(f"→ {n.command}", n.why)
    return Panel(grid, title="What to do next", title_align="left", border_style="green")


def render(report: StatusReport, now: float | None = None) -> RenderableType:
    """The whole dashboard as one rich renderable (redacted)."""
    now = time.time() if now is None else now
    parts: list[RenderableType] = [
        _project(report.project, report.git, report.auth),
        _live(report.live, report.registries_asked),
    ]
    if report.release is not None:
        parts.append(Text(""))
        parts.append(_release(report.release, now))
    else:
        parts.append(Text("\nNo release recorded in .shipit/ yet.", style="dim"))
    parts.append(_next(report.next))
    return _Redacted(Group(*parts))


class _Redacted:
    """Render ``inner`` then mask every registered secret in the produced text."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        for segment in console.render(self.inner, options):
            if segment.text and not segment.control:
                yield Segment(redact(segment.text), segment.style, segment.control)
            else:
                yield segment
