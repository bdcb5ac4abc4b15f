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
    typer.Option("--version", help="The version to release (default: the manifests' version)."),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before side effects.")]
BumpOpt = Annotated[
    str | None,
    typer.Option(
        "--bump",
        metavar="PART",
        help="Release the manifests' version raised by major, minor, patch or prerelease "
        "(as npm's `semver inc`: 1.2.3 -> 1.2.4-0, 1.2.4-rc.0 -> 1.2.4-rc.1).",
    ),
]
PreidOpt = Annotated[
    str | None,
    typer.Option(
        "--preid", help="The pre-release name for --bump prerelease (rc: 1.2.3 -> 1.2.4-rc.0)."
    ),
]
PartsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--parts",
        help="Directory of parts from `shipit build` (repeatable): their binaries are "
        "released instead of building those targets here.",
        metavar="DIR",
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Probe and describe; change nothing.")]
SkipChecksOpt = Annotated[
    bool,
    typer.Option(
        "--skip-checks",
        help="Skip the quality checks (typecheck, lint, test, security, secrets); "
        "the release invariants still hold.",
    ),
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
