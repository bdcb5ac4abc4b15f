"""Under a real pseudo-terminal `shipit release` draws the live view; piped, plain lines."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

from shipit.sandbox.git_remote import GitRepo

TOML = """\
[npm]
enabled = false

[[commands]]
id = "build-docs"
run = "sleep 0.6 && echo built"
after = "build"

[[commands]]
id = "announce"
run = "sleep 0.6 && echo announced"
after = "push"
"""


def _project(repo: GitRepo) -> None:
    repo.commit(
        "project",
        {"package.json": '{"name": "pty-demo", "version": "2.0.0"}\n', "shipit.toml": TOML},
    )
    repo.push()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "NO_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="40")
    return env


def _run_in_pty(argv: list[str], env: dict[str, str], timeout: float = 120) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    code = proc.wait(timeout=10)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_release_in_a_terminal_draws_the_live_view(git_repo: GitRepo) -> None:
    _project(git_repo)
    argv = [sys.executable, "-m", "shipit", "-C", str(git_repo.path), "release", "--yes"]
    code, screen = _run_in_pty([*argv, "--skip-checks"], _env())
    assert code == 0, screen[-2000:]
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "Releasing v2.0.0 (version 2.0.0)" in plain
    assert "\x1b[?25l" in screen  # the cursor is hidden while the view animates
    assert re.search(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] command:build-docs\s+running", plain)  # a spinner
    assert re.search(r"✓ command:announce\s+done", plain)
    assert re.search(r"\b(\d+)/\1 steps done", plain)  # every step, the gate's included
    assert "release succeeded" in plain


def test_release_piped_prints_one_line_per_transition(git_repo: GitRepo) -> None:
    _project(git_repo)
    result = subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(git_repo.path), "release", "--yes",
         "--skip-checks"],
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stderr  # no animation codes in a log
    assert "command:build-docs: running" in result.stderr
    assert "command:build-docs: done" in result.stderr
