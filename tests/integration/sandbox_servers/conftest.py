"""Start the sandbox test servers as real subprocesses on free ports for these tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Proc:
    """A running sandbox server process and its URL."""

    popen: subprocess.Popen[str]
    url: str
    args: list[str]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def start(module: str, *args: str) -> Proc:
    """Run ``python -m module args`` and read ``listening on URL`` from its stdout."""
    argv = [sys.executable, "-m", module, "--port", "0", *args]
    popen = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert popen.stdout is not None
    line = popen.stdout.readline().strip()
    if not line.startswith("listening on http://127.0.0.1:"):
        popen.kill()
        raise RuntimeError(f"{module} did not start: {line!r}")
    return Proc(popen, line.removeprefix("listening on "), argv)


@pytest.fixture
def spawn() -> Iterator[Callable[..., Proc]]:
    """Factory starting server subprocesses; every one is stopped after the test."""
    procs: list[Proc] = []

    def _spawn(module: str, *args: str) -> Proc:
        proc = start(module, *args)
        procs.append(proc)
        return proc

    try:
        yield _spawn
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-servers")
