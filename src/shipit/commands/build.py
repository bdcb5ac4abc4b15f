"""CLI: ``shipit build --target T --out DIR`` (repeatable ``--target``, or ``--all-local``).

Builds and verifies the targets' binaries from the checkout into DIR, each with its part
manifest ``DIR/<target>.part.json``, for ``shipit release --parts DIR`` on another machine.
Touches no git ref, registry or GitHub. Exit 0 when every target was built and verified,
1 when one failed (the others' parts are still written), 2 for bad usage or configuration.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from shipit.commands.common import Globals, globals_of
from shipit.commands.options import VersionOpt
from shipit.errors import ExitCode, VersionError
from shipit.ui.errors import render_error


class _LineProgress:
    """Progress of one target as plain lines on stderr (build jobs log to files too)."""

    _lock = threading.Lock()

    def __init__(self, target: str, verbose: bool) -> None:
        self.target = target
        self.verbose = verbose

    def _say(self, text: str) -> None:
        with self._lock:
            sys.stderr.write(f"{self.target}: {text}\n")
            sys.stderr.flush()

    def status(self, message: str) -> None:
        self._say(message)

    def advance(self, completed: int, total: int | None = None, label: str = "") -> None:
        pass

    def log(self, line: str) -> None:
        if self.verbose:
            self._say(f"  | {line}")


def _version(explicit: str | None, found: str | None) -> str:
    from shipit.project.versions import to_semver

    version = explicit or found
    if not version:
        raise VersionError(
            "no version to build",
            why="no manifest states a version and no --version was given",
            hint="pass the version: shipit build --version 1.2.3 --all-local --out shipit-parts",
        )
    return to_semver(version)


def build_command(
    g: Globals, *, targets: list[str], all_local: bool, out: Path, version: str | None
) -> int:
    from shipit import build_parts, git
    from shipit.project.detect import detect

    config = g.load_config().config
    root = g.directory
    project = detect(root, config, g.env)
    chosen = build_parts.select_targets(config, project, targets, all_local)
    out = (root / out).resolve()  # -C DIR: as if started in DIR
    commit = git.require_head(root)
    build_parts.require_clean(root, out)
    build_parts.keep_out_of_git(root, out)
    ctx = build_parts.context_for(
        root,
        config,
        project,
        version=_version(version, project.version),
        commit=commit,
        targets=chosen,
        env=g.env,
        ci=g.ci,
    )
    sys.stderr.write(
        f"building {', '.join(chosen)} of {ctx.tag} (commit {commit[:12]}) into {out}\n"
    )
    results = build_parts.build(ctx, out, lambda t: _LineProgress(t, g.verbose))
    failed = [r for r in results if r.error is not None]
    if g.json:
        g.emit_json(
            {
                "ok": not failed,
                "out": str(out),
                "parts": [
                    {
                        "target": r.target,
                        "manifest": str(r.path),
                        "files": [f.model_dump() for f in r.manifest.files],
                    }
                    for r in results
                    if r.manifest is not None and r.path is not None
                ],
                "failed": [
                    {"target": r.target, "error": r.error.to_json()} for r in failed if r.error
                ],
            }
        )
    else:
        for r in results:
            if r.manifest is not None and r.path is not None:
                files = ", ".join(f"{f.name} ({f.size} bytes)" for f in r.manifest.files)
                sys.stderr.write(f"{r.target}: {files} -> {r.path.name}\n")
        for r in failed:
            assert r.error is not None
            render_error(g.err, r.error)
    return int(ExitCode.FAILED if failed else ExitCode.OK)


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build(
        ctx: typer.Context,
        out: Annotated[
            Path,
            typer.Option(
                "--out", help="Directory for the files and part manifests.", metavar="DIR"
            ),
        ],
        target: Annotated[
            list[str] | None,
            typer.Option("--target", help="A target of [binaries] (repeatable).", metavar="TARGET"),
        ] = None,
        all_local: Annotated[
            bool,
            typer.Option("--all-local", help="Every configured target, built on this machine."),
        ] = False,
        version: VersionOpt = None,
    ) -> None:
        """Build and verify binaries into DIR with a part manifest each, for release --parts."""
        raise typer.Exit(
            build_command(
                globals_of(ctx),
                targets=list(target or []),
                all_local=all_local,
                out=out,
                version=version,
            )
        )
