"""CLI: `shipit status [--watch] [--json]`: where the project's releases stand, in one screen.

Gathers the project's version and sources (``shipit.project.detect``), git (branch, last
release tag), what each enabled registry and GitHub have live (``shipit.live_versions``, in
parallel, a timeout each), and the current or last release from its journal; then says what
to do next. ``--watch`` redraws while a release runs in another terminal: it only reads the
journal (writes are atomic) and never takes the release lock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

from shipit import live_versions, oidc
from shipit.commands.common import Globals, globals_of
from shipit.config import Config, Settings
from shipit.engine import journal as journal_mod
from shipit.engine.states import BLOCKING, COMPLETED, RESUMABLE, SETTLED, ReleaseState, StepState
from shipit.errors import ShipitError
from shipit.project.tags import effective_format, tag_of
from shipit.redact import redact
from shipit.ui.live import human_duration
from shipit.ui.status_view import (
    AuthInfo,
    GitInfo,
    NextStep,
    ProjectInfo,
    ReleaseInfo,
    SourceInfo,
    StatusReport,
    StepInfo,
    render,
)

# ---------------------------------------------------------------- gathering


def project_info(root: Path, config: Config, env: Mapping[str, str]) -> ProjectInfo:
    try:
        from shipit.project.detect import detect

        project = detect(root, config, env)
    except ShipitError as exc:
        return ProjectInfo(None, str(root), None, False, [], {}, error=redact(exc.what))
    sources = [SourceInfo(str(s.file), s.kind, s.version) for s in project.sources]
    targets: dict[str, str] = {
        str(t.name): t.package or "?" for t in project.enabled_targets if t.name != "binaries"
    }
    return ProjectInfo(
        name=project.name or config.project.name,
        root=str(project.root),
        version=project.version,
        consistent=project.consistent,
        sources=sources,
        targets=targets,
        tag_format=effective_format(config, project.tags),
        tag_driven=bool(project.tag_driven),
    )


def git_info(root: Path, config: Config, tag_format: str) -> GitInfo:
    try:
        from shipit import git

        st = git.state(root, remote=config.release.remote, tag_format=tag_format)
    except ShipitError as exc:
        return GitInfo(None, None, None, None, None, error=redact(exc.what))
    return GitInfo(st.branch, st.head, st.clean, st.last_tag, redact(st.remote_url or "") or None)


def _urls(value: Any) -> list[str]:
    found: list[str] = []

    def walk(v: Any) -> None:
        is_url = isinstance(v, str) and v.startswith(("http://", "https://"))
        if is_url and "{" not in v and v not in found:  # not URI templates (upload_url)
            found.append(v)
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return found


def release_info(root: Path) -> ReleaseInfo | None:
    """The newest release's journal, read without the lock (JournalUnreadable when a
    journal cannot be read: the dashboard never passes over a release it cannot read)."""
    journal = journal_mod.latest(root)
    if journal is None:
        return None
    holder = journal_mod.running_holder(root)
    running = holder is not None
    steps: list[StepInfo] = []
    for step_id, entry in journal.steps().items():
        what = hint = None
        if entry.error is not None:
            what = entry.error.what
            if entry.error.why:
                what = f"{what}: {entry.error.why}" if what else entry.error.why
            hint = entry.error.hint
        steps.append(
            StepInfo(
                id=step_id,
                state=str(entry.state),
                attempts=entry.attempts,
                duration_s=entry.duration_s,
                urls=_urls(entry.evidence),
                error=redact(what) if what else None,
                hint=redact(hint) if hint else None,
                note=redact(entry.note) if entry.note else None,
            )
        )
    doc = journal.document()
    error_text = doc.error.what if doc.error is not None else None
    return ReleaseInfo(
        tag=journal.tag,
        version=journal.version,
        state=journal_mod.effective_state(journal, root),  # a killed release: interrupted
        started_at=doc.inputs.started_at,
        updated_at=doc.updated_at,
        directory=str(journal.release_dir),
        running=running,
        holder=(
            f"pid {holder.pid} on {holder.host}, `shipit {holder.command}` since {holder.since}"
            if running and holder
            else None
        ),
        steps=steps,
        error=redact(error_text) if error_text else None,
    )


def next_steps(
    project: ProjectInfo,
    git: GitInfo,
    release: ReleaseInfo | None,
    live: list[live_versions.LiveVersion],
) -> list[NextStep]:
    """What a person should type next, most useful first."""
    out: list[NextStep] = []
    if project.error:
        return [NextStep("shipit version", f"fix the project first: {project.error}")]
    if git.error:
        return [NextStep("git status", f"fix the repository first: {git.error}")]
    if not project.consistent:
        out.append(NextStep("shipit version sync", "make every version source agree"))
    if release is not None:
        pending = [s.id for s in release.steps if s.state not in COMPLETED]
        failed = [s for s in release.steps if s.state in BLOCKING]
        if release.running:
            verb = "rollback" if release.state == "rolling-back" else "release"
            out.append(
                NextStep(
                    "shipit status --watch",
                    f"a {verb} of {release.tag} is running ({release.holder}); follow it live",
                )
            )
            return out
        if release.state in RESUMABLE:
            why = f"finish {release.tag}: {len(pending)} step(s) left"
            if failed:
                why += f", {failed[0].id} failed"
                if failed[0].hint:
                    why += f" (first: {failed[0].hint})"
            out.append(NextStep("shipit resume", why))
            out.append(NextStep("shipit rollback", f"or undo what {release.tag} already did"))
            return out
        if release.state == ReleaseState.ROLLING_BACK:
            out.append(NextStep("shipit rollback", f"finish rolling back {release.tag}"))
            return out
        if release.state == ReleaseState.PARTLY_ROLLED_BACK:
            stuck = [s.id for s in release.steps if s.state == StepState.IRREVERSIBLE]
            out.append(
                NextStep(
                    "shipit status",
                    f"{', '.join(stuck) or 'some steps'} could not be undone: see their hints",
                )
            )
    version = project.version
    if version is None and project.tag_driven:
        out.append(
            NextStep("shipit release --version 0.1.0", "the version comes from the tags: none yet")
        )
        return out
    if version is None:
        out.append(NextStep("shipit version set 0.1.0", "no version found in any manifest"))
        return out
    tag = tag_of(project.tag_format, version)
    released_here = (
        release is not None and release.state == ReleaseState.RELEASED and release.tag == tag
    )
    live_everywhere = bool(live) and all(lv.has_current for lv in live if lv.ok)
    if released_here or (git.last_tag == tag and live_everywhere):
        if project.tag_driven:  # nothing to write: the next release names its version
            out.append(
                NextStep("shipit release --version <next>", f"{tag} is released; the next one")
            )
        else:
            out.append(
                NextStep(
                    "shipit version set <next>",
                    f"{tag} is released; bump the version for the next release",
                )
            )
        return out
    if release is not None and release.state in (
        ReleaseState.ROLLED_BACK,
        ReleaseState.PARTLY_ROLLED_BACK,
    ):
        out.append(NextStep("shipit release", f"try {tag} again once the cause is fixed"))
        return out
    out.append(NextStep("shipit check", f"see whether {version} is ready to release"))
    out.append(NextStep("shipit release", f"release {version} as {tag}"))
    return out


def collect(
    root: Path,
    config: Config,
    settings: Settings,
    env: Mapping[str, str],
    *,
    timeout: float = 5.0,
    probe: bool = True,
    previous_live: list[live_versions.LiveVersion] | None = None,
) -> StatusReport:
    """Everything the dashboard shows. ``probe=False`` reuses ``previous_live`` (watch)."""
    project = project_info(root, config, env)
    git = git_info(root, config, project.tag_format)
    release = release_info(root)
    if probe:
        tag = None
        if project.version is not None:
            tag = tag_of(project.tag_format, project.version)
        items = live_versions.lookups(
            config, settings, project.targets, project.version, tag, timeout=timeout
        )
        live = live_versions.probe_all(items, timeout=timeout)
    else:
        live = list(previous_live or [])
    nxt = next_steps(project, git, release, live)
    return StatusReport(
        project=project,
        git=git,
        live=live,
        release=release,
        next=nxt,
        registries_asked=probe or bool(previous_live),
        auth=auth_info(project, config, settings, env),
    )


def auth_info(
    project: ProjectInfo, config: Config, settings: Settings, env: Mapping[str, str]
) -> list[AuthInfo]:
    """Token or trusted publishing, per enabled registry (no network)."""
    found = []
    for registry in ("npm", "jsr", "pypi"):
        if registry in project.targets:
            a = oidc.auth_of(registry, config, settings, env)
            found.append(AuthInfo(a.registry, a.mode, a.why, a.problem))
    return found


# ---------------------------------------------------------------- watching


def changes(before: StatusReport | None, after: StatusReport) -> list[str]:
    """One plain line per change of the release or of a step (for --watch off a terminal)."""
    lines: list[str] = []
    old = before.release if before is not None else None
    new = after.release
    if new is None:
        return lines
    same_release = old is not None and old.tag == new.tag and old.directory == new.directory
    if not same_release or (
        old is not None and (old.state, old.running) != (new.state, new.running)
    ):
        running = f" (running: {new.holder})" if new.running and new.holder else ""
        lines.append(f"release {new.tag}: {new.state}{running}")
    previous = {s.id: s for s in old.steps} if old is not None and same_release else {}
    for step in new.steps:
        was = previous.get(step.id)
        if was is not None and (was.state, was.attempts) == (step.state, step.attempts):
            continue
        if was is None and step.state == StepState.PENDING:
            continue
        text = f"{step.id}: {step.state}"
        if step.attempts > 1:
            text += f" (attempt {step.attempts})"
        if step.duration_s is not None and step.state not in (StepState.RUNNING, StepState.PENDING):
            text += f" in {human_duration(step.duration_s)}"
        if step.error:
            text += f": {step.error}"
        lines.append(redact(text))
    return lines


def watch(
    console: Console,
    gather: Callable[[bool, list[live_versions.LiveVersion]], StatusReport],
    *,
    interval: float = 0.5,
    probe_every: float = 15.0,
    until_done: bool = True,
    max_frames: int | None = None,
) -> StatusReport:
    """Follow the release until it ends (or Ctrl-C), reading only the journal.

    On a terminal the dashboard is redrawn every ``interval``; elsewhere (a pipe, a log) one
    line is printed per change, then the final dashboard. The registries are asked again
    every ``probe_every`` seconds and once more when the release finishes. If no release is
    running, it waits for one to start and finish. Returns the last report.
    """
    report = gather(True, [])
    last_probe = time.monotonic()
    seen_running = report.release is not None and report.release.running
    live: Live | None = None
    if console.is_terminal:
        live = Live(render(report), console=console, refresh_per_second=4, transient=False)
        live.start()
    else:
        for text in changes(None, report):
            console.print(text, markup=False, highlight=False, soft_wrap=True)
        console.file.flush()
    frames = 0
    try:
        while True:
            frames += 1
            if max_frames is not None and frames >= max_frames:
                break
            time.sleep(interval)
            due = time.monotonic() - last_probe >= probe_every
            previous = report
            report = gather(due, report.live)
            if due:
                last_probe = time.monotonic()
            running = report.release is not None and report.release.running
            seen_running = seen_running or running
            finished = (
                report.release is not None and not running and report.release.state in SETTLED
            )
            if until_done and seen_running and finished:
                report = gather(True, report.live)
            if live is not None:
                live.update(render(report), refresh=True)
            else:
                for text in changes(previous, report):
                    console.print(text, markup=False, highlight=False, soft_wrap=True)
                console.file.flush()
            if until_done and seen_running and finished:
                break
    finally:
        if live is not None:
            live.stop()
        else:
            console.print(render(report))
    return report


# ---------------------------------------------------------------- CLI


def repair_state(g: Globals) -> None:
    """`shipit status --repair`: say what was moved aside (or that all was readable)."""
    repaired = journal_mod.repair(g.directory)
    if g.json:
        g.emit_json(
            {
                "ok": True,
                "repaired": [
                    {"path": str(r.path), "what": r.what, "done": r.done} for r in repaired
                ],
            }
        )
        return
    if not repaired:
        g.err.print("nothing to repair: every release journal and the lock record are readable")
        return
    for r in repaired:
        g.err.print(f"{r.what}: {r.done}", markup=False, highlight=False, soft_wrap=True)
    g.err.print("see where the releases stand: shipit status", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status(
        ctx: typer.Context,
        watch_: Annotated[
            bool,
            typer.Option(
                "--watch", "-w", help="Redraw live while a release runs (reads the journal only)."
            ),
        ] = False,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds to wait for each registry.")
        ] = 5.0,
        offline: Annotated[
            bool, typer.Option("--offline", help="Do not ask the registries.")
        ] = False,
        interval: Annotated[
            float, typer.Option("--interval", help="Seconds between redraws with --watch.")
        ] = 0.5,
        repair: Annotated[
            bool,
            typer.Option(
                "--repair",
                help="Move release journals shipit cannot read aside (renamed, not deleted) "
                "and write an unreadable lock record again.",
            ),
        ] = False,
    ) -> None:
        """Show the version, what is live on each registry, the last release and what to do next."""
        g = globals_of(ctx)
        if repair:
            repair_state(g)
            return
        loaded = g.load_config()
        config = loaded.config
        settings = g.settings(config)
        root = g.directory

        def gather(probe: bool, previous: list[live_versions.LiveVersion]) -> StatusReport:
            return collect(
                root,
                config,
                settings,
                g.env,
                timeout=timeout,
                probe=probe and not offline,
                previous_live=previous,
            )

        if g.json:
            report = gather(True, [])
            g.emit_json({"ok": True, **report.to_json()})
            return
        if watch_ and not g.ci:
            # Ctrl-C is how a person stops watching: not an interruption of anything
            with contextlib.suppress(KeyboardInterrupt):
                watch(g.out, gather, interval=interval)
            return
        g.out.print(render(gather(True, [])))
