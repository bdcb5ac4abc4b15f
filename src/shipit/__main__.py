"""The ``shipit`` command (and ``python -m shipit``): answers ``--version`` and the top-level
``--help`` at once, without importing the CLI framework, the configuration models or rich;
everything else goes to ``shipit.cli``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def _quick(args: list[str]) -> int | None:
    """The exit code when the command line was answered here, else None."""
    from shipit import helptext

    answer = "--help" if not args else helptext.early_answer(args)
    if answer == "--version":
        from shipit import __version__

        sys.stdout.write(f"shipit {__version__}\n")
        return 0
    if answer != "--help":
        return None
    text = helptext.render(helptext.terminal(sys.stdout, os.environ))
    if text is None:
        return None
    if args:
        sys.stdout.write(text + "\n")
        return 0
    # no arguments at all: the help, then exit 2 as a usage error (what typer does)
    sys.stdout.write(text)
    sys.stderr.write("\n")
    return 2


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry: answer quickly what needs no framework, else run the CLI."""
    args = sys.argv[1:] if argv is None else list(argv)
    code = _quick(args)
    if code is not None:
        sys.stdout.flush()
        raise SystemExit(code)
    from shipit.cli import main as cli_main

    cli_main(args)


if __name__ == "__main__":
    main()
