"""Launch shipit's own test servers (JSR, GitHub, fault proxy) as detached subprocesses.

Each runs as ``python -m shipit.sandbox.<module> --port N ...``, announces
``listening on http://127.0.0.1:PORT`` on stdout (captured in its log file) and is ready when
``/_shipit/health`` answers 200.
"""

from __future__ import annotations

import os
import secrets
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from shipit.redact import register
from shipit.sandbox import process
from shipit.sandbox.process import Running

HEALTH = "/_shipit/health"


def new_jsr_token() -> str:
    """A throw-away JSR-style personal access token."""
    token = "jsrp_" + secrets.token_hex(24)
    register(token)
    return token


def new_github_token() -> str:
    """A throw-away GitHub-style token (``ghp_`` and 36 letters or digits)."""
    alphabet = string.ascii_letters + string.digits
    token = "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))
    register(token)
    return token


def _write_token_file(path: Path, token: str) -> None:
    """Keep the token out of argv: a file only the owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    path.chmod(0o600)


@dataclass(frozen=True)
class TestServer:
    """A running JSR or GitHub test server: ``url`` without trailing slash, and its token."""

    __test__ = False  # not a pytest test class

    name: str
    url: str
    token: str
    process: Running
    repo: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return self.process.port


def _launch(
    module: str,
    name: str,
    args: list[str],
    *,
    log: Path,
    port: int = 0,
    timeout: float = 30.0,
) -> Running:
    log.parent.mkdir(parents=True, exist_ok=True)
    offset = log.stat().st_size if log.exists() else 0
    argv = [sys.executable, "-m", f"shipit.sandbox.{module}", "--port", str(port), *args]
    popen = process.spawn(argv, log=log, cwd=log.parent)
    with process.stopped_on_error(popen):
        url = process.wait_for_url_line(popen, log, name=name, offset=offset, timeout=timeout)
        process.wait_ready(popen, url + HEALTH, name=name, log=log, timeout=timeout)
        actual_port = int(url.rsplit(":", 1)[1])
        return process.running(popen, name=name, url=url, port=actual_port, log=log)


def start_jsr(
    data_dir: Path, *, token: str, port: int = 0, auto_create: bool = True, timeout: float = 30.0
) -> TestServer:
    """Start the JSR test server with its state in ``data_dir/data``."""
    register(token)
    data = data_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    token_file = data_dir / "tokens"
    _write_token_file(token_file, token)
    args = ["--data", str(data), "--token-file", str(token_file)]
    if auto_create:
        args.append("--auto-create")
    running = _launch(
        "jsr_server", "jsr", args, log=data_dir / "jsr.log", port=port, timeout=timeout
    )
    return TestServer(name="jsr", url=running.url, token=token, process=running)


def start_github(
    data_dir: Path, *, token: str, repo: str, port: int = 0, timeout: float = 30.0
) -> TestServer:
    """Start the GitHub test server knowing ``repo`` (owner/name), state in ``data_dir/data``."""
    register(token)
    data = data_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    token_file = data_dir / "tokens"
    _write_token_file(token_file, token)
    args = ["--data", str(data), "--token-file", str(token_file), "--repo", repo]
    running = _launch(
        "github_server", "github", args, log=data_dir / "github.log", port=port, timeout=timeout
    )
    return TestServer(name="github", url=running.url, token=token, process=running, repo=repo)


def start_fault_proxy(upstream: str, *, log: Path, timeout: float = 30.0) -> Running:
    """Start a fault proxy in front of ``upstream`` as its own process."""
    return _launch("faults", "fault-proxy", ["--upstream", upstream], log=log, timeout=timeout)
