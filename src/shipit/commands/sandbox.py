"""CLI: `shipit sandbox up|down|status` (local registries); wires `shipit rehearse`.

``up`` prints the environment a release needs as ``export NAME=value`` lines on stdout (or
``--json``), so ``eval "$(shipit sandbox up)"`` points npm, deno, twine and shipit at the
sandbox. Those lines are the one place shipit prints tokens on purpose: they are throw-away
sandbox tokens the user asked for. Everything else goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from shipit.commands.common import Globals, globals_of, sub_app
from shipit.commands.options import SandboxDirOpt
from shipit.errors import ExitCode
from shipit.rehearse import register_command as register_rehearse
from shipit.sandbox.manager import DEFAULT_REPO, Sandbox, ServiceStatus, default_dir
from shipit.workspace import protect


def _sandbox_dir(g: Globals, directory: Path | None) -> Path:
    if directory is None:
        return default_dir(g.directory)
    return directory if directory.is_absolute() else (Path.cwd() / directory).resolve()


def _keep_out_of_git(g: Globals, sandbox_dir: Path) -> None:
    """A sandbox in the project's ``.shipit/`` must not make the work tree dirty."""
    shipit_dir = g.directory / ".shipit"
    if sandbox_dir.is_relative_to(shipit_dir):
        protect(g.directory)


def _write_raw(text: str) -> None:
    """Write to stdout without redaction: only for the environment the user asked for."""
    sys.stdout.write(text)
    sys.stdout.flush()


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt for the block, so cleanup code runs."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def export_lines(env: dict[str, str]) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def _print_services(g: Globals, services: list[dict[str, Any]]) -> None:
    width = max((len(s["name"]) for s in services), default=0)
    for s in services:
        pid = f"pid {s['pid']}" if s.get("pid") else "no process"
        g.err.print(f"  {s['name']:<{width}}  {s['url']}  ({pid})", markup=False, soft_wrap=True)


def _status_json(directory: Path, statuses: list[ServiceStatus]) -> dict[str, Any]:
    return {
        "dir": str(directory),
        "running": bool(statuses) and all(s.alive and s.ready for s in statuses),
        "services": [s.to_json() for s in statuses],
    }


OIDC_NOTE = """\
trusted publishing: the registries trust the issuer's ID tokens for {repo}; no registry
token is exported. GITHUB_ACTIONS=true makes npm, deno and shipit act as in a job (no prompts).
As on npmjs.com and jsr.io, a package must exist before its first trusted publish.
Provenance needs Sigstore, which the sandbox cannot reach: shipit turns it off here."""


def register(app: typer.Typer) -> None:
    sandbox_app = sub_app(
        app, "sandbox", "Local registries (npm, PyPI, JSR, GitHub, git) for tests and rehearsals."
    )

    @sandbox_app.command("up")
    def up(
        ctx: typer.Context,
        directory: SandboxDirOpt = None,
        repo: Annotated[
            str, typer.Option("--repo", help="owner/name the GitHub server knows.")
        ] = DEFAULT_REPO,
        oidc: Annotated[
            bool,
            typer.Option(
                "--oidc",
                help="Trusted publishing as in GitHub Actions: an OIDC issuer the registries "
                "trust for --repo; the environment holds no registry token.",
            ),
        ] = False,
    ) -> None:
        """Start the sandbox and print the environment a release needs (export lines)."""
        g = globals_of(ctx)
        sandbox_dir = _sandbox_dir(g, directory)
        _keep_out_of_git(g, sandbox_dir)
        if not g.json:
            g.err.print(f"starting the sandbox in {sandbox_dir} ...", markup=False, soft_wrap=True)
        with _sigterm_interrupts():  # a killed `up` still stops what it started
            info = Sandbox(sandbox_dir, repo=repo, oidc=oidc).up()
        if g.json:
            _write_raw(json.dumps(info, indent=2) + "\n")
            return
        _print_services(g, info["services"])
        if oidc:
            g.err.print(OIDC_NOTE.format(repo=repo), markup=False, soft_wrap=True)
        g.err.print(
            "ready. The lines below hold throw-away sandbox tokens; load them with\n"
            f'  eval "$(shipit sandbox up --dir {shlex.quote(str(sandbox_dir))})"\n'
            f"stop with: shipit sandbox down --dir {shlex.quote(str(sandbox_dir))}",
            markup=False,
            soft_wrap=True,
        )
        _write_raw(export_lines(info["env"]))

    @sandbox_app.command("down")
    def down(ctx: typer.Context, directory: SandboxDirOpt = None) -> None:
        """Stop every sandbox server (the data stays for the next `up`)."""
        g = globals_of(ctx)
        sandbox_dir = _sandbox_dir(g, directory)
        stopped = Sandbox(sandbox_dir).down() if sandbox_dir.is_dir() else []
        if g.json:
            g.emit_json({"dir": str(sandbox_dir), "stopped": stopped})
        elif stopped:
            g.err.print(
                f"stopped: {', '.join(stopped)} (data kept in {sandbox_dir})",
                markup=False,
                soft_wrap=True,
            )
        else:
            g.err.print(
                f"no sandbox server was running in {sandbox_dir}", markup=False, soft_wrap=True
            )

    @sandbox_app.command("status")
    def status(ctx: typer.Context, directory: SandboxDirOpt = None) -> None:
        """Say which sandbox servers are alive and answering (exit 1 if any is not)."""
        g = globals_of(ctx)
        sandbox_dir = _sandbox_dir(g, directory)
        statuses = Sandbox(sandbox_dir).status() if sandbox_dir.is_dir() else []
        report = _status_json(sandbox_dir, statuses)
        if g.json:
            g.emit_json(report)
        elif not statuses:
            g.out.print(f"no sandbox is running in {sandbox_dir}", markup=False, soft_wrap=True)
            g.out.print(
                f"start one with: shipit sandbox up --dir {sandbox_dir}",
                markup=False,
                soft_wrap=True,
            )
        else:
            for s in statuses:
                state = "ready" if s.ready else ("alive, not answering" if s.alive else "DEAD")
                pid = f"pid {s.pid}" if s.pid else "-"
                g.out.print(
                    f"{s.name:<10} {state:<22} {pid:<11} {s.url}", markup=False, soft_wrap=True
                )
            if not report["running"]:
                g.out.print(
                    f"restart it with: shipit sandbox up --dir {sandbox_dir}",
                    markup=False,
                    soft_wrap=True,
                )
        if not report["running"]:
            raise typer.Exit(int(ExitCode.FAILED))

    register_rehearse(app)  # the real rehearsal: release engine, throw-away sandbox and clone
