"""CLI: ``shipit publish npm|jsr|pypi``, one registry's part of a release on its own.

For people who release step by step: the same steps as ``shipit release`` (probe first, build
or pack when needed, then publish exactly once), under the same journal and lock, so a later
``shipit release`` or ``shipit resume`` sees what was done.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from shipit.commands.common import Globals, globals_of
from shipit.commands.options import DryRunOpt, VersionOpt, YesOpt
from shipit.errors import UsageError

Registry = Literal["npm", "jsr", "pypi"]
REGISTRIES: tuple[Registry, ...] = ("npm", "jsr", "pypi")


def _check_targets(g: Globals, registries: list[str]) -> None:
    """Refuse registries this project does not publish to, saying why (from detection)."""
    from shipit.project.detect import detect

    config = g.load_config().config
    project = detect(g.directory, config, g.env)
    for name in registries:
        target = project.targets.get(name)
        if target is None or not target.enabled:
            reason = target.reason if target is not None else "not detected"
            raise UsageError(
                f"this project does not publish to {name}",
                why=reason,
                hint=f"set `[{name}] enabled = true` (and its directory) in shipit.toml, "
                "or run `shipit plan` to see the targets",
            )


def publish(
    g: Globals,
    registries: list[str],
    *,
    version: str | None = None,
    yes: bool = False,
    dry_run: bool = False,
) -> int:
    """Run the build and publish steps of ``registries``; return the exit code."""
    from shipit.commands.release import run_steps

    unknown = [r for r in registries if r not in REGISTRIES]
    if unknown or not registries:
        raise UsageError(
            f"unknown registry: {', '.join(unknown) or '(none given)'}",
            hint="use `shipit publish npm`, `shipit publish jsr` or `shipit publish pypi`",
        )
    wanted = list(dict.fromkeys(registries))
    _check_targets(g, wanted)
    return run_steps(g, version=version, only=wanted, yes=yes, dry_run=dry_run, command="publish")


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish_cmd(
        ctx: typer.Context,
        registries: Annotated[
            list[str],
            typer.Argument(help="npm, jsr and/or pypi.", metavar="REGISTRY..."),
        ],
        version: VersionOpt = None,
        yes: YesOpt = False,
        dry_run: DryRunOpt = False,
    ) -> None:
        """Publish to npm, JSR or PyPI alone: probe first, build if needed, publish once."""
        raise typer.Exit(
            publish(globals_of(ctx), registries, version=version, yes=yes, dry_run=dry_run)
        )
