"""What the publishers show of a client's output: the lines that explain a failure.

Registry reads and their failures live in ``shipit.registries``; this is only about the text
npm, deno, twine and the project's build commands print. Output is redacted.
"""

from __future__ import annotations

import re

from shipit.errors import PermanentError
from shipit.proc import Result
from shipit.redact import redact

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RELEVANT = re.compile(
    r"(error|ERR!|ERROR|HTTPError|Caused by|fail|denied|forbidden|unauthori[sz]ed|"
    r"already|warning|invalid|\b[45]\d\d\b)",
    re.IGNORECASE,
)


def relevant_lines(output: str, limit: int = 12) -> str:
    """The lines of a client's output that explain a failure (or its tail if none match)."""
    lines = [
        _ANSI.sub("", line).rstrip()
        for line in output.splitlines()
        if line.strip() and not line.strip().startswith("<")
    ]
    picked = [line for line in lines if _RELEVANT.search(line)]
    chosen = picked[-limit:] if picked else lines[-limit:]
    return redact("\n".join(chosen))


def command_failed(what: str, command: str, result: Result, *, hint: str) -> PermanentError:
    """``what`` failed: ``command``, its exit code and the lines of its output that explain
    it (a build is not retried: the same command fails the same way)."""
    return PermanentError(
        what,
        why=f"`{command}` exited with {result.returncode}:\n" + relevant_lines(result.output),
        hint=hint,
    )
