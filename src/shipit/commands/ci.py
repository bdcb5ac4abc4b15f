"""CLI: ``shipit ci init`` writes the GitHub Actions release workflow, ``shipit ci check``
tells whether the file on disk still matches the configuration.

The workflow goes to ``.github/workflows/release.yml`` at the top of the git repository (the
project may live in a subdirectory; its jobs then run there). ``init`` refuses to overwrite an
existing file without ``--force``; ``check`` exits 0 when the file is current, 1 with what
differs and ``shipit ci init --force`` as the fix.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from shipit import git
from shipit.commands.common import Globals, globals_of, sub_app
from shipit.errors import WorkflowExists, WorkflowOutdated
from shipit.files import write_text_atomic
from shipit.release_workflow import (
    WORKFLOW_PATH,
    WorkflowInputs,
    compare,
    inputs_for,
    installs,
    render,
)
from shipit.workflow_setup import shipit_requirement

MAX_DIFF_LINES = 80

OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Workflow file (default: .github/workflows/release.yml at the repository's top).",
        metavar="FILE",
    ),
]


def _inputs(g: Globals) -> tuple[WorkflowInputs, Path]:
    from shipit.project.detect import detect

    config = g.load_config().config
    project = detect(g.directory, config, g.env)
    top = git.repo_root(g.directory)
    return inputs_for(config, project, top), top


def _target(g: Globals, top: Path, output: Path | None) -> Path:
    if output is None:
        return top / WORKFLOW_PATH
    return (g.directory / output).resolve()  # -C DIR: as if started in DIR


def _shown(path: Path, top: Path) -> str:
    """The path as the repository names it (absolute when it lies outside)."""
    try:
        return path.resolve().relative_to(top).as_posix()
    except ValueError:
        return str(path)


def init(g: Globals, *, output: Path | None, force: bool) -> int:
    inputs, top = _inputs(g)
    path = _target(g, top, output)
    text = render(inputs)
    if path.exists() and not force:
        current = path.read_text(encoding="utf-8", errors="replace") == text
        raise WorkflowExists(
            f"{_shown(path, top)} already exists; it was left unchanged",
            why="it is already what shipit would write"
            if current
            else "shipit does not overwrite a workflow without --force",
            hint="shipit ci check  (shows what differs); shipit ci init --force  (replaces it)",
        )
    write_text_atomic(path, text, mode=0o644)
    jobs = (
        f"plan, build ({len(inputs.builds)} targets), publish"
        if inputs.builds
        else ("plan, publish (no binaries to build)")
    )
    setup = installs(inputs)
    if g.json:
        g.emit_json({"ok": True, "path": str(path), "inputs": inputs.to_json(), "installs": setup})
    else:
        g.err.print(f"wrote {_shown(path, top)}: {jobs}", markup=False, highlight=False)
        for build in inputs.builds:
            how = "" if build.native else " (cross-compiled: no native runner)"
            g.err.print(f"  {build.target} on {build.runner}{how}", markup=False)
        g.err.print("what each job installs first:", markup=False)
        for job, things in setup.items():
            g.err.print(f"  {job:<8} {', '.join(things)}", markup=False, soft_wrap=True)
        _, note = shipit_requirement(g.load_config().config)
        if note:
            g.err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
        if inputs.secrets:
            g.err.print(
                "add these repository secrets (or set up trusted publishing): "
                + ", ".join(inputs.secrets),
                markup=False,
                soft_wrap=True,
            )
        g.err.print(f"then commit it: git add {_shown(path, top)}", markup=False)
    return 0


def check(g: Globals, *, output: Path | None) -> int:
    inputs, top = _inputs(g)
    path = _target(g, top, output)
    drift = compare(path, render(inputs), inputs)
    if g.json:  # the document says everything; no second JSON object for an error
        g.emit_json(drift.to_json())
        return 0 if drift.up_to_date else 1
    if drift.up_to_date:
        g.err.print(f"{_shown(path, top)} matches the configuration", markup=False)
        return 0
    if not drift.exists:
        raise WorkflowOutdated(
            f"no release workflow at {_shown(path, top)}",
            why="`shipit ci init` has not written it yet (or it was moved: pass --output)",
            hint="shipit ci init",
        )
    if g.verbose:
        diff_lines = drift.diff.splitlines()
        shown = diff_lines[:MAX_DIFF_LINES]
        if len(diff_lines) > MAX_DIFF_LINES:
            shown.append(f"... {len(diff_lines) - MAX_DIFF_LINES} more lines (--json has all)")
        sys.stderr.write("\n".join(shown) + "\n")
        sys.stderr.flush()
    raise WorkflowOutdated(
        f"{_shown(path, top)} does not match the configuration",
        why="\n".join(f"- {change}" for change in drift.changes),
        hint="shipit ci init --force  (writes it again from the configuration); "
        "shipit -v ci check shows the diff",
        details=drift.diff,
    )


def register(app: typer.Typer) -> None:
    ci_app = sub_app(
        app, "ci", "The GitHub Actions workflow that releases from CI (native builds, one publish)."
    )

    @ci_app.command("init")
    def init_cmd(
        ctx: typer.Context,
        output: OutputOpt = None,
        force: Annotated[
            bool, typer.Option("--force", help="Replace an existing workflow file.")
        ] = False,
    ) -> None:
        """Write .github/workflows/release.yml: plan, a native build per target, one publish."""
        raise typer.Exit(init(globals_of(ctx), output=output, force=force))

    @ci_app.command("check")
    def check_cmd(ctx: typer.Context, output: OutputOpt = None) -> None:
        """Does the release workflow on disk still match the configuration? (exit 1 if not)"""
        raise typer.Exit(check(globals_of(ctx), output=output))
