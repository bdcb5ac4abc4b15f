"""The command-line options several commands share, as reusable ``Annotated`` types.

A command declares ``yes: YesOpt = False`` instead of spelling the option out again, so the
same switch has the same name, short form and help everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

VersionOpt = Annotated[
    str | None,
    typer.Option("--version", help="The version to use (default: the manifests' version)."),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before side effects.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Probe and describe; change nothing.")]
SkipChecksOpt = Annotated[
    bool, typer.Option("--skip-checks", help="Do not run `shipit check` first.")
]
OnlyChecksOpt = Annotated[
    str | None,
    typer.Option("--only", help="Run only these checks (comma-separated).", metavar="A,B"),
]
SkipOpt = Annotated[
    str | None,
    typer.Option("--skip", help="Leave these checks out (comma-separated).", metavar="A,B"),
]
SandboxDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Sandbox directory (default: .shipit/sandbox in the project).",
        metavar="DIR",
    ),
]
