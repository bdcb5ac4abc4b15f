"""Long-lived sandbox servers: start detached, wait until ready, stop by PID, check liveness.

Every sandbox server runs in its own session (process group) with its output in a log file,
so it outlives ``shipit sandbox up`` and ``stop`` ends the whole group. A PID is recorded
together with the process's start time (Linux ``/proc``) so that a stale PID reused by an
unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from shipit.errors import ServerStartError
from shipit.http import client as http_client
from shipit.redact import redact

_logger = logging.getLogger("shipit.sandbox")

_LISTENING = re.compile(r"listening on (http://[0-9A-Za-z.\-\[\]:]+)")


@dataclass(frozen=True)
class Running:
    """A started server: what the state file records and what callers connect to."""

    name: str
    url: str
    pid: int
    port: int
    log: Path
    started: str | None = None  # process start time (Linux), guards against PID reuse

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "name": self.name,
            "url": self.url,
            "pid": self.pid,
            "port": self.port,
            "log": str(self.log),
            "started": self.started,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Running:
        started = data.get("started")
        pid = data["pid"]
        port = data["port"]
        assert isinstance(pid, int) and isinstance(port, int)
        return cls(
            name=str(data["name"]),
            url=str(data["url"]),
            pid=pid,
            port=port,
            log=Path(str(data["log"])),
            started=str(started) if started is not None else None,
        )


class ProcessService:
    """A sandbox service run as a child process: its ``pid`` and ``port`` are the process's."""

    process: Running

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return self.process.port


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_free(port: int) -> bool:
    """True if ``port`` can be bound on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # servers set SO_REUSEADDR too: a port in TIME_WAIT after a restart is still usable
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick_port(preferred: int | None = None) -> int:
    """``preferred`` if it is free (keeps URLs stable across restarts), else a free port."""
    if preferred and port_free(preferred):
        return preferred
    return free_port()


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if unknown."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = raw.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def alive(pid: int, started: str | None = None) -> bool:
    """True if ``pid`` runs and (when known) is still the process that was started."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return started is None
    if _is_zombie(pid):
        return False
    return started is None or start_time(pid) in (None, started)


def _is_zombie(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = raw.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] == "Z"


def group_alive(pgid: int) -> bool:
    """True while any process of the process group ``pgid`` is running (zombies excluded)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
                return True
    return False


#: executables a sandbox server runs as (verdaccio is node, the others Python)
SERVER_EXECUTABLES = ("node", "python")


def strays(directories: Sequence[Path]) -> list[int]:
    """Live session leaders running node or Python with their working directory in one of
    ``directories`` (Linux): sandbox servers nobody recorded, e.g. after a crash.

    A shell whose working directory happens to be there is never matched (its executable
    is a shell, not node or Python); neither is this process.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    wanted = {d.resolve() for d in directories}
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            cwd = os.readlink(entry / "cwd").removesuffix(" (deleted)")
            exe = Path(os.readlink(entry / "exe")).name
        except OSError:
            continue
        session_leader = len(fields) > 3 and fields[3] == str(pid)
        if fields[0] == "Z" or not session_leader:
            continue
        if Path(cwd) in wanted and exe.startswith(SERVER_EXECUTABLES):
            found.append(pid)
    return found


def spawn(
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` detached in its own session, stdout and stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        try:
            return subprocess.Popen(
                list(argv),
                cwd=str(cwd) if cwd else None,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except FileNotFoundError as exc:
            raise ServerStartError(
                f"cannot start `{argv[0]}`",
                why=str(exc),
                hint="run scripts/setup.sh to install the sandbox's tools",
            ) from None


@contextlib.contextmanager
def stopped_on_error(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """Stop ``proc``'s process group if anything fails (or is interrupted) inside the block."""
    try:
        yield
    except BaseException:
        stop(proc.pid, grace=2.0)
        raise


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return redact("\n".join(text.strip().splitlines()[-lines:]))


def wait_for_url_line(
    proc: subprocess.Popen[bytes], log: Path, *, name: str, offset: int, timeout: float
) -> str:
    """Wait until the server writes ``listening on http://...`` to its log; return that URL."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), log.open("rb") as f:
            f.seek(offset)
            found = _LISTENING.search(f.read().decode("utf-8", "replace"))
            if found:
                return found.group(1).rstrip("/")
        _fail_if_exited(proc, log, name)
        if time.monotonic() > deadline:
            stop(proc.pid)
            raise ServerStartError(
                f"the {name} server did not say where it listens within {timeout:.0f}s",
                why=_log_tail(log) or "it printed nothing",
                hint=f"look at {log}",
            )
        time.sleep(0.02)


def _fail_if_exited(proc: subprocess.Popen[bytes], log: Path, name: str) -> None:
    code = proc.poll()
    if code is not None:
        raise ServerStartError(
            f"the {name} server exited with {code} while starting",
            why=_log_tail(log) or "it printed nothing",
            hint=f"look at {log}",
        )


def wait_ready(
    proc: subprocess.Popen[bytes],
    url: str,
    *,
    name: str,
    log: Path,
    timeout: float = 30.0,
    ok: Callable[[httpx.Response], bool] | None = None,
) -> None:
    """Poll ``url`` until it answers (2xx, or ``ok``); fail early if the process exits."""
    begin = time.monotonic()
    deadline = begin + timeout
    check = ok or (lambda r: r.is_success)
    delay = 0.02
    with http_client(timeout=2.0) as client:
        while True:
            try:
                if check(client.get(url)):
                    _logger.info("%s ready after %.2fs", name, time.monotonic() - begin)
                    return
            except httpx.HTTPError:
                pass
            _fail_if_exited(proc, log, name)
            if time.monotonic() > deadline:
                stop(proc.pid)
                raise ServerStartError(
                    f"the {name} server did not become ready within {timeout:.0f}s",
                    why=_log_tail(log) or f"{url} never answered",
                    hint=f"look at {log}",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)


def stop(pid: int, started: str | None = None, *, grace: float = 5.0) -> bool:
    """Stop the process group led by ``pid``: SIGTERM, then SIGKILL after ``grace`` seconds.

    Returns True if something was signalled. A PID whose start time no longer matches
    ``started`` belongs to another process now and is left alone.
    """
    if started is not None and not alive(pid, started):
        return False
    begin = time.monotonic()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    deadline = begin + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not group_alive(pid):
            _logger.info("process group %s stopped in %.2fs", pid, time.monotonic() - begin)
            return True
        time.sleep(0.02)
    _logger.warning("process group %s ignored SIGTERM for %.0fs: SIGKILL", pid, grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and group_alive(pid):
        _reap(pid)
        time.sleep(0.02)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child (so it leaves no zombie)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def running(proc: subprocess.Popen[bytes], *, name: str, url: str, port: int, log: Path) -> Running:
    """The record of a started server."""
    return Running(
        name=name, url=url, pid=proc.pid, port=port, log=log, started=start_time(proc.pid)
    )
