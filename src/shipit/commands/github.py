"""CLI: ``shipit github`` (the GitHub release on its own) and ``shipit build-binaries``.

For people who release step by step: ``shipit github`` runs the binary builds and checksums
(probed first, so already built files are kept), then draft -> assets -> publish, under the
same journal and lock as ``shipit release``, so a later ``shipit release`` or ``shipit resume``
sees what was done. ``shipit build-binaries`` builds and verifies the binaries only.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from shipit.commands.common import Globals, globals_of
from shipit.commands.options import DryRunOpt, VersionOpt, YesOpt
from shipit.config import LoadedConfig

GITHUB_STEPS = ("binaries", "checksums", "github")


@dataclasses.dataclass
class _ReplacingGlobals(Globals):
    """Globals whose configuration has ``[github] replace-assets = true`` (--replace-assets)."""

    def load_config(self) -> LoadedConfig:
        loaded = super().load_config()
        github = loaded.config.github.model_copy(update={"replace_assets": True})
        return LoadedConfig(loaded.config.model_copy(update={"github": github}), loaded.path)


def _with_replace(g: Globals) -> Globals:
    values = {f.name: getattr(g, f.name) for f in dataclasses.fields(g)}
    return _ReplacingGlobals(**values)


def github_release(
    g: Globals,
    *,
    version: str | None = None,
    yes: bool = False,
    dry_run: bool = False,
    replace_assets: bool = False,
) -> int:
    """Run binaries, checksums and the GitHub steps alone; return the exit code."""
    from shipit.commands.release import run_steps

    if replace_assets:
        g = _with_replace(g)
    return run_steps(
        g, version=version, only=list(GITHUB_STEPS), yes=yes, dry_run=dry_run, command="github"
    )


def register(app: typer.Typer) -> None:
    @app.command("github")
    def github(
        ctx: typer.Context,
        version: VersionOpt = None,
        yes: YesOpt = False,
        dry_run: DryRunOpt = False,
        replace_assets: Annotated[
            bool,
            typer.Option(
                "--replace-assets", help="Replace assets whose content differs on GitHub."
            ),
        ] = False,
    ) -> None:
        """The GitHub release alone: build binaries if needed, draft, upload, publish."""
        raise typer.Exit(
            github_release(
                globals_of(ctx),
                version=version,
                yes=yes,
                dry_run=dry_run,
                replace_assets=replace_assets,
            )
        )

    @app.command("build-binaries")
    def build_binaries(
        ctx: typer.Context,
        version: VersionOpt = None,
        dry_run: DryRunOpt = False,
    ) -> None:
        """Build and verify the binaries of every target into the release's dist/."""
        from shipit.commands.release import run_steps

        raise typer.Exit(
            run_steps(
                globals_of(ctx),
                version=version,
                only=["binaries", "checksums"],
                yes=True,
                dry_run=dry_run,
                command="build-binaries",
            )
        )
