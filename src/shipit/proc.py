"""Run external programs: timeouts, streamed output, cancellation, secret redaction.

Every subprocess shipit starts goes through ``run``. Each child gets its own process group
so a timeout or Ctrl-C kills the whole tree; ``terminate_all`` ends every child still alive.
Commands started ``in_background`` run at a lower CPU priority than the critical path.
The command line and its output are logged (redacted) to the ``shipit.proc`` logger, which
the release log and ``-v`` read.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from shipit.errors import CommandFailed, ToolMissingError
from shipit.redact import redact

log = logging.getLogger("shipit.proc")

_children_lock = threading.Lock()
_children: set[subprocess.Popen[bytes]] = set()

P = ParamSpec("P")
R = TypeVar("R")
BACKGROUND_NICE = 10
# Set in a thread (``in_background``): the commands it starts yield the CPU to the others.
_background: contextvars.ContextVar[bool] = contextvars.ContextVar("background", default=False)


@contextlib.contextmanager
def in_background(on: bool = True) -> Iterator[None]:
    """Commands started in this block (this thread, and pools that copy its context) run at
    a lower CPU priority, so the work on the critical path gets the cores first."""
    token = _background.set(on)
    try:
        yield
    finally:
        _background.reset(token)


def same_priority(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` to run on another thread (a pool), starting commands at this thread's priority."""
    on = _background.get()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with in_background(on):
            return fn(*args, **kwargs)

    return run


def _lower_priority(pid: int) -> None:
    """Nice a just-started command. Each command leads its own session, and Linux shares the
    CPU between sessions' autogroups before nice counts, so the autogroup is niced too (where
    the kernel has autogroups); lowering one's own priority needs no privilege, but without
    CAP_SYS_ADMIN the kernel takes one autogroup change per 100 ms (EAGAIN): the others are
    retried on a thread while the command runs."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, BACKGROUND_NICE)
    if not _nice_autogroup(pid):
        threading.Thread(target=_retry_autogroup, args=(pid,), daemon=True).start()


def _nice_autogroup(pid: int) -> bool:
    """Set the autogroup's nice; False when the kernel asks to try again later."""
    try:
        fd = os.open(f"/proc/{pid}/autogroup", os.O_WRONLY)
    except OSError:
        return True  # no autogroups here, or the command has ended
    try:
        os.write(fd, str(BACKGROUND_NICE).encode())
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        os.close(fd)
    return True


def _retry_autogroup(pid: int, tries: int = 100) -> None:
    for _ in range(tries):
        time.sleep(0.1)
        if _nice_autogroup(pid):
            return


@dataclass(frozen=True)
class Result:
    """The outcome of one finished command (output already redacted)."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def output(self) -> str:
        """stdout and stderr together, for messages."""
        return "\n".join(part for part in (self.stdout, self.stderr) if part)

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])

    def failure(self, lines: int = 20, *, called: str | None = None) -> str:
        """Why the command failed, for an error's ``why``: how it ended, then its last
        ``lines`` of output. ``called`` names it (default: the command line in backticks)."""
        name = called or f"`{self.command}`"
        how = (
            f"{name} timed out after {self.duration_s:.0f}s"
            if self.timed_out
            else f"{name} exited with {self.returncode}"
        )
        tail = self.tail(lines)
        return how + (f":\n{tail}" if tail else "")

    @property
    def command(self) -> str:
        return redact(shlex.join(self.argv))


def which(program: str, env: Mapping[str, str] | None = None) -> str | None:
    """Find ``program`` on PATH (the given env's PATH if any), also beside the running Python."""
    path = (env or os.environ).get("PATH")
    found = shutil.which(program, path=path)
    if found:
        return found
    import sys

    beside = Path(sys.executable).parent / program
    return str(beside) if beside.exists() else None


def require(program: str, *, hint: str, env: Mapping[str, str] | None = None) -> str:
    """Return the path of ``program`` or raise a ToolMissingError with ``hint``."""
    found = which(program, env)
    if not found:
        raise ToolMissingError(f"`{program}` is not installed or not on PATH", hint=hint)
    return found


def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def terminate_all(grace_s: float = 3.0) -> None:
    """Stop every child process still running (used on Ctrl-C/SIGTERM)."""
    with _children_lock:
        procs = list(_children)
    for proc in procs:
        _kill_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)


def child_count() -> int:
    with _children_lock:
        return len(_children)


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    input: str | None = None,
    check: bool = False,
    on_line: Callable[[str], None] | None = None,
    log_output: bool = True,
) -> Result:
    """Run ``argv`` to completion and return its (redacted) output.

    ``env`` replaces the environment entirely when given (build it from ``os.environ``).
    ``on_line`` receives each output line (redacted) as it arrives, from stdout and stderr.
    ``timeout`` kills the whole process group. ``check`` raises CommandFailed on failure.
    A missing program raises ToolMissingError.
    """
    args = [str(a) for a in argv]
    shown = redact(shlex.join(args))
    log.info("$ %s%s", shown, f"  (in {cwd})" if cwd else "")
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            cwd=str(cwd) if cwd is not None else None,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(
            f"`{args[0]}` is not installed or not on PATH",
            why=str(exc),
            hint=f"install {args[0]} and run the command again",
        ) from None
    if _background.get():
        _lower_priority(proc.pid)
    with _children_lock:
        _children.add(proc)
    out_chunks: list[str] = []
    err_chunks: list[str] = []

    def pump(stream: object, sink: list[str]) -> None:
        assert hasattr(stream, "readline")
        for raw in iter(stream.readline, b""):
            line = redact(raw.decode("utf-8", "replace"))
            sink.append(line)
            if on_line is not None:
                on_line(line.rstrip("\n"))

    threads = [
        threading.Thread(target=pump, args=(proc.stdout, out_chunks), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err_chunks), daemon=True),
    ]
    for t in threads:
        t.start()
    if input is not None and proc.stdin is not None:
        try:
            proc.stdin.write(input.encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
    except BaseException:
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
        raise
    finally:
        with _children_lock:
            _children.discard(proc)
    for t in threads:
        t.join(timeout=5)
    result = Result(
        argv=tuple(args),
        returncode=proc.returncode if not timed_out else -9,
        stdout="".join(out_chunks),
        stderr="".join(err_chunks),
        duration_s=time.monotonic() - start,
        timed_out=timed_out,
    )
    if log_output:
        for line in result.output.splitlines():
            log.debug("  | %s", line)
    log.info(
        "  -> exit %s in %.2fs%s",
        result.returncode,
        result.duration_s,
        " (timed out)" if timed_out else "",
    )
    if check and not result.ok:
        raise CommandFailed(result)
    return result


def shell_argv(command: str) -> list[str]:
    """Turn a configured command string into argv (POSIX shell semantics via /bin/sh)."""
    return ["/bin/sh", "-c", command]
