"""CLI: `shipit plan`, `release`, `resume`, `rollback` and the step-by-step `shipit tag`.

Each command does these once, in this order: load the config, detect the project, (take the
release lock and) open or create the journal, build the ``Context`` reading that journal's
evidence, build the plan (``engine.plan``), let the orchestrator walk it, report its outcome.
A new journal is written only when the release starts (after the confirmation); `plan` and
``--dry-run`` only read a stored one. Output is one line per transition (or the live view on a
terminal) and a final report. Exit codes: 0 released, 1 a step failed
or conflicted with nothing done, 2 usage/config, 3 release left incomplete (resumable),
130 interrupted. ``run_steps`` is the entry other step-by-step commands reuse.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import typer

from shipit import git
from shipit.ci import ci_listeners
from shipit.commands.common import Globals, globals_of
from shipit.commands.options import (
    BumpOpt,
    DryRunOpt,
    PartsOpt,
    PreidOpt,
    SkipChecksOpt,
    VersionOpt,
    YesOpt,
)
from shipit.config import Config
from shipit.engine import journal as journal_mod
from shipit.engine.documents import PlanDocument, PlanStepState
from shipit.engine.events import Listener
from shipit.engine.journal import Journal, locked
from shipit.engine.orchestrator import (
    Orchestrator,
    RollbackOutcome,
    RunOutcome,
    probe_all,
    probe_state,
)
from shipit.engine.plan import Plan, build_plan
from shipit.engine.states import RESUMABLE, ROLLBACKABLE, ReleaseState, StepState
from shipit.engine.step import (
    Context,
    Probe,
    ProbeState,
    make_context,
    tag_for,
)
from shipit.errors import (
    ExitCode,
    ResumeInputsChanged,
    StepFailure,
    UsageError,
    VersionError,
)
from shipit.logfile import release_log
from shipit.parts import Part, collect, refuse_mismatches
from shipit.project import release_version
from shipit.project.detect import detect
from shipit.project.model import Project
from shipit.project.versions import same_version
from shipit.redact import redact
from shipit.steps import gate
from shipit.steps.git_tag import commit_message
from shipit.steps.notify import Notifier, make_notifier, report_warnings
from shipit.ui.live import release_view
from shipit.ui.plain import PlainReporter, render_plan, render_report
from shipit.workspace import release_dir, releases_dir

log = logging.getLogger("shipit.release")

# ---------------------------------------------------------------- preparing


@dataclass(frozen=True)
class Prepared:
    """One release as a command sees it: config, project, its journal, and the plan whose
    context reads that journal's evidence."""

    g: Globals
    config: Config
    project: Project
    journal: Journal
    plan: Plan
    version_written: bool = False  # --version/--bump: the release commit writes one version
    whole: bool = True  # the whole release, not a step-by-step command (`only`)

    @property
    def ctx(self) -> Context:
        return self.plan.ctx

    def invariant_problems(self) -> list[gate.Problem]:
        """The release invariants this machine can tell that do not hold now."""
        return gate.before_problems(
            self.ctx,
            [p.step for p in self.plan.steps],
            version_written=self.version_written,
            whole=self.whole,
        )

    def verify_invariants(self) -> None:
        """Refuse (InvariantsFailed, exit 1) before a journal is written or anything built."""
        problems = self.invariant_problems()
        if problems:
            raise gate.failure(problems, when="the release cannot start")


@dataclass(frozen=True)
class VersionChoice:
    """How the command line chose the version: ``--version``, ``--bump`` (and ``--preid``)."""

    version: str | None = None
    bump: str | None = None
    preid: str | None = None

    @property
    def writes(self) -> bool:
        """The release commit writes this version into every file (they may disagree now)."""
        return bool(self.version or self.bump)

    def resolve(self, project: Project) -> str:
        return release_version.choose(
            project, version=self.version, bump=self.bump, preid=self.preid
        )


def _load(g: Globals) -> tuple[Config, Project]:
    """The configuration and the project detected with it."""
    config = g.load_config().config
    return config, detect(g.directory, config, g.env)


def _stored_journal(root: Path, tag: str) -> Journal | None:
    """The journal of ``tag`` on disk; None when there is none. One that cannot be read is
    JournalUnreadable: never silently started over (`shipit status --repair` moves it
    aside)."""
    directory = release_dir(root, tag)
    if not (directory / "journal.json").exists():
        return None
    return journal_mod.load(directory)


def _open_journal(
    root: Path,
    config: Config,
    project: Project,
    version: str,
    commit: str,
    *,
    reuse: frozenset[ReleaseState],
    parts: Mapping[str, Part] | None = None,
    skip_checks: bool = False,
) -> Journal:
    """The stored journal of this release when its state is in ``reuse``, else a new one in
    memory (``Journal.begin`` writes it when the release starts); a new one records where the
    ``parts`` are, so that `shipit resume` takes the same ones."""
    tag = tag_for(config, project, version)
    stored = _stored_journal(root, tag)
    if stored is not None and stored.state in reuse:
        return stored
    return Journal.new(
        release_dir(root, tag),
        version=version,
        tag=tag,
        commit=commit,
        config_digest=config.digest(),
        source_version=project.version,
        parts=sorted({str(p.directory) for p in (parts or {}).values()}),
        skip_checks=skip_checks,
    )


def _planned(
    g: Globals,
    config: Config,
    project: Project,
    journal: Journal,
    *,
    version: str,
    commit: str,
    dry_run: bool = False,
    only: Sequence[str] | None = None,
    parts: Mapping[str, Part] | None = None,
    skip_checks: bool = False,
    version_written: bool = False,
) -> Prepared:
    """The Context of the release (reading ``journal``'s evidence, taking the binaries of
    ``parts`` instead of building those targets), then its plan."""
    ctx = make_context(
        root=g.directory,
        config=config,
        project=project,
        version=version,
        commit=commit,
        env=g.env,
        dry_run=dry_run,
        ci=g.ci,
        interactive=g.interactive,
        evidence_of=journal.evidence_of,
        parts=parts,
        skip_checks=skip_checks,
        guard_tree=not dry_run,
    )
    plan = build_plan(ctx, only=only)
    return Prepared(g, config, project, journal, plan, version_written, only is None)


def read_parts(g: Globals, directories: Sequence[Path | str]) -> dict[str, Part] | None:
    """The part manifests under ``--parts`` directories (relative to the project), by target."""
    if not directories:
        return None
    return collect([(g.directory / d).resolve() for d in directories])


def check_parts(prepared: Prepared) -> None:
    """Refuse the parts before anything is visible (PartsRejected naming every problem)."""
    if prepared.ctx.parts:
        refuse_mismatches(prepared.ctx)


def preview(
    g: Globals,
    config: Config,
    project: Project,
    *,
    choice: VersionChoice | None = None,
    only: Sequence[str] | None = None,
    parts: Mapping[str, Part] | None = None,
    skip_checks: bool = False,
) -> Prepared:
    """The release as `plan` and `--dry-run` show it: any stored journal is only read."""
    chosen = choice or VersionChoice()
    version = chosen.resolve(project)
    head = git.require_head(g.directory)
    journal = _open_journal(
        g.directory, config, project, version, head, reuse=frozenset(ReleaseState)
    )
    return _planned(
        g,
        config,
        project,
        journal,
        version=version,
        commit=head,
        dry_run=True,
        only=only,
        parts=parts,
        skip_checks=skip_checks,
        version_written=chosen.writes or journal.written,
    )


# ---------------------------------------------------------------- plan output


def probed_plan(prepared: Prepared, *, dry_run: bool = False) -> PlanDocument:
    """The plan document with each step's state from a live probe."""
    results = probe_all(prepared.plan)
    states: dict[str, PlanStepState] = {}
    notes: dict[str, tuple[str | None, str | None]] = {}
    for step_id, result in results.items():
        states[step_id] = probe_state(result)
        if isinstance(result, Probe):
            notes[step_id] = (result.why, result.hint)
        elif isinstance(result, StepFailure):
            notes[step_id] = (f"probe failed: {result.what}", result.hint)
    problems = prepared.invariant_problems()
    if problems and gate.GATE_ID in states:
        refusal = gate.failure(problems, when="the release cannot start")
        states[gate.GATE_ID] = ProbeState.BLOCKED
        notes[gate.GATE_ID] = (refusal.what + "\n" + (refusal.why or ""), refusal.hint)
    return prepared.plan.document(states, notes, dry_run=dry_run)


#: the probe states `plan` and `--dry-run` accept; any other (conflict, blocked, a probe that
#: failed) makes them exit 1
RUNNABLE_STATES: frozenset[str] = frozenset(
    {ProbeState.TODO, ProbeState.ALREADY_DONE, StepState.PENDING, StepState.DONE}
)


def plan_exit_code(doc: PlanDocument) -> int:
    """0 when every step is to do or done, 1 when one is in conflict, blocked or unknown:
    the same answer for `shipit plan` and `release --dry-run`."""
    stuck = [s.id for s in doc.steps if s.state not in RUNNABLE_STATES]
    return int(ExitCode.FAILED if stuck else ExitCode.OK)


def _print_plan(doc: PlanDocument, *, targets: bool) -> None:
    sys.stderr.write(render_plan(doc, targets=targets) + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- running


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None], force: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM ask the orchestrator to stop cleanly; a second one leaves at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:
            sys.stderr.write("\nstopping now; `shipit resume` continues from the journal\n")
            force()
            return
        sys.stderr.write(
            "\nstopping: waiting for running steps, starting nothing new (again to stop at once)\n"
        )
        stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _view(g: Globals, step_ids: Sequence[str]) -> Any:
    if not g.json and not g.ci and sys.stderr.isatty():
        return release_view(g.err, step_ids, ci=g.ci)
    return PlainReporter(sys.stderr)


def _listeners(prepared: Prepared) -> tuple[list[Listener], Notifier | None]:
    """Notifications (when configured) and the GitHub Actions reporter (when running there)."""
    out: list[Listener] = []
    notifier = make_notifier(prepared.config, prepared.g.env, prepared.project.name)
    if notifier.active:
        out.append(notifier)
    out.extend(
        ci_listeners(
            prepared.g.env, step_ids=prepared.plan.ids, evidence_of=prepared.journal.evidence_of
        )
    )
    return out, notifier if notifier.active else None


def _flush(listeners: Sequence[Listener]) -> None:
    for listener in listeners:
        flush = getattr(listener, "flush", None)
        if callable(flush):
            flush(30)


def _warn_notify(evidence: dict[str, Any], notifier: Notifier | None) -> None:
    for warning in report_warnings(evidence, notifier):
        sys.stderr.write(f"warning: notification not delivered: {warning}\n")


def _confirm(g: Globals, yes: bool, config: Config, question: str) -> None:
    if yes or g.ci or not config.release.confirm:
        return
    if not g.interactive:
        raise UsageError(
            "refusing to start without confirmation",
            why="this is not an interactive terminal, so shipit cannot ask",
            hint="add --yes (or set CI=true) to confirm; `shipit plan` shows what would happen",
        )
    if not typer.confirm(question, default=False, err=True):
        raise typer.Exit(int(ExitCode.FAILED))


def execute(prepared: Prepared, *, resume: bool = False) -> int:
    """Run the plan under its journal; print the report; return the exit code."""
    g = prepared.g
    journal = prepared.journal
    plan = prepared.plan
    listeners, notifier = _listeners(prepared)
    view = _view(g, plan.ids)
    with release_log(journal.release_dir) as log_path:
        log.info(
            "%s %s (version %s, commit %s): %s",
            "resuming" if resume else "releasing",
            plan.ctx.tag,
            plan.ctx.version,
            plan.ctx.commit,
            ", ".join(plan.ids),
        )
        orchestrator = Orchestrator(plan, journal, listeners=[view, *listeners])
        with view, stop_on_signals(orchestrator.request_stop, orchestrator.force_stop):
            outcome = orchestrator.run()
        _flush(listeners)
        log.info("release %s: %s", plan.ctx.tag, outcome.state)
    _report_run(g, journal, outcome, log_path)
    _warn_notify(journal.evidence_of("notify"), notifier)
    return outcome.exit_code(journal)


def _report_run(g: Globals, journal: Journal, outcome: RunOutcome, log_path: Path) -> None:
    steps = journal.steps()
    failed = [(o.id, o.message, o.why, o.hint) for o in outcome.failed]
    if g.json:
        g.emit_json(
            {
                "ok": outcome.state == ReleaseState.RELEASED,
                "state": outcome.state,
                "discarded": [o.id for o in outcome.discarded],
                "release": {
                    "version": journal.version,
                    "tag": journal.tag,
                    "commit": journal.commit,
                },
                "steps": [
                    {
                        "id": i,
                        "state": s.state,
                        "attempts": s.attempts,
                        "evidence": s.evidence,
                        "error": s.error.model_dump(mode="json") if s.error else None,
                    }
                    for i, s in steps.items()
                ],
                "journal": str(journal.path),
                "log": str(log_path),
            }
        )
        return
    discarded = None
    if outcome.state == ReleaseState.FAILED and not outcome.visible_done:
        discarded = [(o.id, o.message) for o in outcome.discarded]
    text = render_report(
        tag=journal.tag,
        state=outcome.state,
        states={i: s.state for i, s in steps.items()},
        failed=failed,
        not_started=outcome.not_started,
        discarded=discarded,
    )
    sys.stderr.write(text + f"\nlog: {log_path}\n")
    sys.stderr.flush()


def run_steps(
    g: Globals,
    *,
    version: str | None = None,
    choice: VersionChoice | None = None,
    only: Sequence[str] | None = None,
    yes: bool = False,
    dry_run: bool = False,
    checks: bool = False,
    command: str = "release",
    parts_dirs: Sequence[Path] = (),
) -> int:
    """Plan, verify the release invariants, confirm and run (all steps, or those whose id
    starts with ``only``); ``checks`` adds the quality checks to the ``checks`` step;
    ``parts_dirs`` hold binaries built on other machines."""
    chosen = choice or VersionChoice(version=version)
    config, project = _load(g)
    parts = read_parts(g, parts_dirs)  # an unreadable part manifest stops before the checks
    if dry_run:
        prepared = preview(
            g, config, project, choice=chosen, only=only, parts=parts, skip_checks=not checks
        )
        check_parts(prepared)
        doc = probed_plan(prepared, dry_run=True)
        if g.json:
            g.emit_json(doc.model_dump(mode="json"))
        else:
            _print_plan(doc, targets=True)
            sys.stderr.write("dry run: nothing was changed\n")
        return plan_exit_code(doc)
    with locked(g.directory, command):  # before any check: a second release stops at once
        try:
            release_version = chosen.resolve(project)
        except VersionError as exc:
            exc.exit_code = ExitCode.FAILED  # refused like every release invariant: exit 1
            raise
        head = git.require_head(g.directory)
        journal = _open_journal(
            g.directory,
            config,
            project,
            release_version,
            head,
            reuse=RESUMABLE,
            parts=parts,
            skip_checks=not checks,
        )
        resume = journal.written
        prepared = _planned(
            g,
            config,
            project,
            journal,
            version=release_version,
            commit=head,
            only=only,
            parts=parts,
            skip_checks=journal.inputs.skip_checks if resume else not checks,
            version_written=chosen.writes or resume,
        )
        check_parts(prepared)  # with the journal's recorded builds, before anything visible
        if resume:
            _check_same_inputs(prepared)
            sys.stderr.write(
                f"continuing the {journal.state} release {journal.tag} from its journal\n"
            )
        prepared.verify_invariants()
        if not g.json:
            states = journal_states(journal) if resume else None
            _print_plan(prepared.plan.document(states), targets=False)
        _confirm(g, yes, config, f"release {prepared.ctx.tag} now?")
        if not resume:
            journal.begin([(p.id, bool(p.step.reversible)) for p in prepared.plan.steps])
        return execute(prepared, resume=resume)


def journal_states(journal: Journal) -> dict[str, PlanStepState]:
    return {k: v.state for k, v in journal.steps().items()}


def _check_same_inputs(prepared: Prepared) -> None:
    journal = prepared.journal
    inputs = journal.inputs
    ctx = prepared.plan.ctx
    current = prepared.project.version
    allowed_versions = [journal.version, inputs.source_version]
    if ctx.version != journal.version or (
        current is not None
        and not any(same_version(current, v) for v in allowed_versions if isinstance(v, str))
    ):
        raise ResumeInputsChanged(
            f"cannot resume {journal.tag}: the version changed",
            why=f"the release started with version {journal.version}, the project now says "
            f"{current or ctx.version}",
            hint=f"go back to {journal.version}, or roll back first: shipit rollback",
        )
    head = git.require_head(ctx.root)
    allowed = {inputs.commit}
    made = journal.evidence_of("git:commit").get("commit")
    if isinstance(made, str):
        allowed.add(made)
    if head not in allowed and not _is_release_commit_of(prepared, head, inputs.commit):
        raise ResumeInputsChanged(
            f"cannot resume {journal.tag}: HEAD moved",
            why=f"the release started at commit {inputs.commit[:12]}, HEAD is now {head[:12]}",
            hint=f"check out {inputs.commit[:12]} again, or undo the release: shipit rollback",
        )
    if inputs.config_digest != prepared.config.digest():
        log.warning("the configuration changed since the release started")
        sys.stderr.write("note: the configuration changed since the release started\n")


def _is_release_commit_of(prepared: Prepared, head: str, base: str) -> bool:
    """HEAD is the release commit made on ``base`` (journal lost the evidence: killed)."""
    root = prepared.ctx.root
    if git.rev_parse(root, f"{head}~1") != base:
        return False
    return git.commit_message(root, head) == commit_message(prepared.ctx)


# ---------------------------------------------------------------- resume / rollback


def _last_release(root: Path, *, allowed: frozenset[ReleaseState], verb: str) -> Journal:
    """The release `shipit <verb>` works on; ``verb`` is the command (resume, rollback)."""
    doing = "roll back" if verb == "rollback" else verb
    journal = journal_mod.latest(root)
    if journal is None:
        raise UsageError(
            f"nothing to {doing}: no release was started in this project",
            why=f"there is no journal under {releases_dir(root)}",
            hint="start one with `shipit release`",
        )
    if journal.state not in allowed:
        raise UsageError(
            f"nothing to {doing}: the last release {journal.tag} is {journal.state}",
            why=f"`shipit {verb}` works on a release that is "
            + " or ".join(sorted(allowed - {ReleaseState.PLANNED, ReleaseState.RELEASING})),
            hint="see it with `shipit status`; start a new one with `shipit release`",
        )
    return journal


def resume_release(g: Globals, *, yes: bool = False, parts_dirs: Sequence[Path] = ()) -> int:
    config, project = _load(g)
    with locked(g.directory, "resume"):
        journal = _last_release(g.directory, allowed=RESUMABLE, verb="resume")
        recorded = [Path(d) for d in journal.inputs.parts]
        parts = read_parts(g, parts_dirs or recorded)  # the parts the release started with
        prepared = _planned(
            g,
            config,
            project,
            journal,
            version=journal.version,
            commit=journal.commit,
            parts=parts,
            skip_checks=journal.inputs.skip_checks,
            version_written=True,
        )
        _check_same_inputs(prepared)
        check_parts(prepared)
        prepared.verify_invariants()
        if not g.json:
            _print_plan(prepared.plan.document(journal_states(journal)), targets=False)
        _confirm(g, yes, config, f"resume release {journal.tag}?")
        return execute(prepared, resume=True)


def rollback_release(g: Globals, *, yes: bool = False) -> int:
    config, project = _load(g)
    with locked(g.directory, "rollback"):
        journal = _last_release(g.directory, allowed=ROLLBACKABLE, verb="rollback")
        prepared = _planned(
            g, config, project, journal, version=journal.version, commit=journal.commit
        )
        completed = journal.completed()
        if not completed:
            return _nothing_to_roll_back(g, journal)
        sys.stderr.write(
            f"rolling back {journal.tag}: {', '.join(reversed(completed))} (in this order)\n"
        )
        _confirm(g, yes, config, f"undo these steps of {journal.tag}?")
        view = PlainReporter(sys.stderr)
        listeners, notifier = _listeners(prepared)
        with release_log(journal.release_dir):
            orchestrator = Orchestrator(prepared.plan, journal, listeners=[view, *listeners])
            outcome = orchestrator.rollback()
            _flush(listeners)
        _report_rollback(g, journal, outcome)
        _warn_notify({}, notifier)
        return outcome.exit_code()


def _nothing_to_roll_back(g: Globals, journal: Journal) -> int:
    left = {i: s for i, s in journal.steps().items() if s.state == StepState.IRREVERSIBLE}
    if not left:
        journal.set_state(ReleaseState.ROLLED_BACK)
    lines = [f"nothing (more) to roll back in {journal.tag}"]
    for step_id, record in left.items():
        lines.append(f"  {step_id}: cannot be undone by shipit: {record.note}")
        if record.error is not None and record.error.hint:
            lines.append(f"    what to do: {record.error.hint}")
    sys.stderr.write(redact("\n".join(lines)) + "\n")
    if g.json:
        g.emit_json({"ok": not left, "state": journal.state, "irreversible": sorted(left)})
    return int(ExitCode.FAILED if left else ExitCode.OK)


def _report_rollback(g: Globals, journal: Journal, outcome: RollbackOutcome) -> None:
    if g.json:
        g.emit_json(
            {
                "ok": outcome.state == ReleaseState.ROLLED_BACK,
                "state": outcome.state,
                "steps": [
                    {"id": o.id, "state": o.state, "message": o.message, "hint": o.hint}
                    for o in outcome.outcomes
                ],
            }
        )
        return
    lines = [f"{outcome.state}: {journal.tag}"]
    for o in outcome.outcomes:
        lines.append(f"  {o.id}: {o.state}: {o.message}")
        if o.hint:
            lines.append(f"    what to do: {o.hint}")
    if outcome.remaining:
        lines.append("these could not be undone by shipit; the lines above say what to do")
    sys.stderr.write(redact("\n".join(lines)) + "\n")


# ---------------------------------------------------------------- CLI


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan_cmd(
        ctx: typer.Context,
        version: VersionOpt = None,
        bump: BumpOpt = None,
        preid: PreidOpt = None,
    ) -> None:
        """Show every step of the release, whether it is done (live probe), and what it runs.

        Exits 1 when a step is in conflict, blocked or cannot be probed (as
        `release --dry-run` does), else 0."""
        g = globals_of(ctx)
        config, project = _load(g)
        choice = VersionChoice(version, bump, preid)
        doc = probed_plan(preview(g, config, project, choice=choice))
        if g.json:
            g.emit_json(doc.model_dump(mode="json"))
        else:
            text = render_plan(doc)
            g.out.print(text, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(plan_exit_code(doc))

    @app.command("release")
    def release_cmd(
        ctx: typer.Context,
        dry_run: DryRunOpt = False,
        yes: YesOpt = False,
        skip_checks: SkipChecksOpt = False,
        version: VersionOpt = None,
        parts: PartsOpt = None,
        bump: BumpOpt = None,
        preid: PreidOpt = None,
    ) -> None:
        """Run the release: version commit, checks beside the builds, then each visible step."""
        g = globals_of(ctx)
        choice = VersionChoice(version, bump, preid)
        raise typer.Exit(
            run_steps(
                g,
                choice=choice,
                yes=yes,
                dry_run=dry_run,
                checks=not skip_checks,
                parts_dirs=parts or (),
            )
        )

    @app.command("resume")
    def resume_cmd(ctx: typer.Context, yes: YesOpt = False, parts: PartsOpt = None) -> None:
        """Continue the last failed or interrupted release with the same inputs."""
        raise typer.Exit(resume_release(globals_of(ctx), yes=yes, parts_dirs=parts or ()))

    @app.command("rollback")
    def rollback_cmd(ctx: typer.Context, yes: YesOpt = False) -> None:
        """Undo the last release's completed steps, newest first; say what cannot be undone."""
        raise typer.Exit(rollback_release(globals_of(ctx), yes=yes))

    @app.command("tag")
    def tag_cmd(
        ctx: typer.Context,
        version: VersionOpt = None,
        yes: YesOpt = False,
        dry_run: DryRunOpt = False,
    ) -> None:
        """Only the git part: release commit if versions need it, tag, push (probes first)."""
        g = globals_of(ctx)
        raise typer.Exit(
            run_steps(g, version=version, only=["git"], yes=yes, dry_run=dry_run, command="tag")
        )
