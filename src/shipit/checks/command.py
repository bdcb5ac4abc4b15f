"""Run a check's external command: environment, timeout, cancellation and the full log.

Every command a check runs goes through ``run_logged``: it appends the command and its whole
(redacted) output to the check's log file, honours the check's remaining time and refuses to
start once the run was cancelled (Ctrl-C).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipit import proc
from shipit.checks.base import CheckContext
from shipit.errors import Interrupted
from shipit.redact import redact
from shipit.workspace import open_private


@dataclass(frozen=True)
class Command:
    """A command a check runs: argv, where, and which parser reads its output."""

    argv: tuple[str, ...]
    cwd: Path
    parser: str = "auto"  # "auto" recognises every known format; "deno-lint-json"
    label: str = ""
    why: str = ""  # why the preset chose it (``shipit check --explain``)

    @property
    def display(self) -> str:
        if self.label:
            return self.label
        return shlex.join([Path(self.argv[0]).name, *self.argv[1:]]) if self.argv else ""


def shell(command: str, cwd: Path, *, why: str = "") -> Command:
    """A configured command string, run by /bin/sh."""
    parser = "deno-lint-json" if "deno lint" in command and "--json" in command else "auto"
    return Command(tuple(proc.shell_argv(command)), cwd, parser, label=command, why=why)


def command_env(env: Mapping[str, str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for check commands: no colours, no update checks, shipit's own bin dir
    (where the `deno` wheel puts its binary) at the end of PATH."""
    out = dict(env)
    bindir = str(Path(sys.executable).parent)
    path = out.get("PATH", os.defpath)
    if bindir not in path.split(os.pathsep):
        out["PATH"] = f"{path}{os.pathsep}{bindir}" if path else bindir
    out.setdefault("NO_COLOR", "1")
    out.setdefault("DENO_NO_UPDATE_CHECK", "1")
    out.setdefault("FORCE_COLOR", "0")
    out.setdefault("NPM_CONFIG_UPDATE_NOTIFIER", "false")
    out.setdefault("NPM_CONFIG_FUND", "false")
    if extra:
        out.update(extra)
    return out


def start_log(ctx: CheckContext, name: str) -> Path:
    """Truncate and return the check's log file."""
    path = ctx.log_file(name)
    with open_private(path, "w"):
        pass
    return path


def append_log(path: Path, text: str) -> None:
    with open_private(path) as fh:
        fh.write(redact(text))
        if not text.endswith("\n"):
            fh.write("\n")


def run_logged(
    ctx: CheckContext,
    cmd: Command,
    log: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> proc.Result:
    """Run ``cmd`` (at most the check's timeout) and append everything to ``log``."""
    if ctx.cancelled.is_set():
        raise Interrupted("interrupted", why="Ctrl-C stopped the checks")
    limit = timeout if timeout is not None else ctx.timeout
    result = proc.run(
        cmd.argv,
        cwd=cmd.cwd,
        env=command_env(ctx.env, extra_env),
        timeout=limit,
        log_output=False,
    )
    append_log(
        log,
        f"$ {cmd.display}  (in {cmd.cwd})\n{result.stdout}"
        + (f"\n[stderr]\n{result.stderr}" if result.stderr.strip() else "")
        + f"\n[exit {result.returncode}{' timed out' if result.timed_out else ''}"
        f" after {result.duration_s:.1f}s]\n",
    )
    return result


def find_tool(name: str, root: Path, env: Mapping[str, str]) -> str | None:
    """A tool from the project's own node_modules/.bin or .venv/bin, else PATH."""
    for candidate in (
        root / "node_modules" / ".bin" / name,
        root / ".venv" / "bin" / name,
        root / "venv" / "bin" / name,
    ):
        if candidate.exists():
            return str(candidate)
    return proc.which(name, command_env(env))


def relpath(path: str, root: Path) -> str:
    """``path`` (absolute, file:// URL or relative) relative to ``root`` when inside it."""
    if path.startswith("file://"):
        path = path[len("file://") :]
    p = Path(path)
    if not p.is_absolute():
        p = (root / p).resolve()
    try:
        return str(p.resolve().relative_to(root.resolve()))
    except (ValueError, OSError):
        return path


def quote(argv: Sequence[str]) -> str:
    return shlex.join(argv)
