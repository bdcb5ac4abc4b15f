"""The few git questions the checks ask, through ``proc.run`` (private to ``checks``).

Kept here so the checks do not depend on the shape of ``shipit.git``; every call has a
timeout and returns plain values, never raises for "not found".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shipit import proc

_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "GIT_SSH_COMMAND", "SSH_AUTH_SOCK", "TMPDIR")


def git_env(env: Mapping[str, str]) -> dict[str, str]:
    out = {k: v for k, v in env.items() if k in _ENV_KEEP or k.startswith("GIT_")}
    out["GIT_TERMINAL_PROMPT"] = "0"
    out["LC_ALL"] = "C"
    return out


def git(root: Path, *args: str, env: Mapping[str, str], timeout: float = 20.0) -> proc.Result:
    return proc.run(["git", *args], cwd=root, env=git_env(env), timeout=timeout, log_output=False)


def out(root: Path, *args: str, env: Mapping[str, str], timeout: float = 20.0) -> str | None:
    """stdout stripped, or None when git failed."""
    r = git(root, *args, env=env, timeout=timeout)
    return r.stdout.strip() if r.ok else None


def list_files(directory: Path, env: Mapping[str, str]) -> list[str] | None:
    """Files git would not ignore under ``directory`` (tracked and untracked), relative to it.
    None when ``directory`` is not in a git work tree."""
    r = git(
        directory,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        ".",
        env=env,
    )
    if not r.ok:
        return None
    files = sorted({f for f in r.stdout.split("\0") if f})
    return [f for f in files if (directory / f).is_file()]
