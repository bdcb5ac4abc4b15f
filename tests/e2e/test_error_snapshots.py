"""The main error messages, rendered by the real CLI, compared with stored snapshots.

One folder per case under ``tests/snapshots/errors/`` (cargo-release's per-case folders are
the model; the folder's README.md describes the files). Each case builds its project in a
fresh directory (``in/`` copied, then ``setup.sh``), runs its ``shipit`` command line with
``python -m shipit`` as a user would (no colour, 100 columns, a clean environment without
tokens, real registries out of reach), and compares stdout, stderr and the exit code with the
stored ones. Only the random part of the case's temporary directory and durations are
normalised.

``SHIPIT_UPDATE_SNAPSHOTS=1`` rewrites the stored files instead of comparing: the wording
change is then a reviewed diff.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import filelock
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from releasehelp import path_without, python_without

from shipit.sandbox.isolation import isolated_env

CASES = Path(__file__).resolve().parents[1] / "snapshots" / "errors"
UPDATE = os.environ.get("SHIPIT_UPDATE_SNAPSHOTS") == "1"
WIDTH = "100"
# a fixed commit identity and date: commit ids in messages are the same on every run
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2025-03-14T09:26:53Z",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_COMMITTER_DATE": "2025-03-14T09:26:53Z",
}
DURATION = re.compile(r"( *)(?<![\w.])\d+(?:\.\d+)?s\b")
CASE_KEYS = {"description", "command", "hide-tools", "hold-release-lock"}


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    description: str
    command: list[str]
    hide_tools: tuple[str, ...]
    hold_release_lock: bool

    @classmethod
    def read(cls, folder: Path) -> Case:
        data = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
        unknown = set(data) - CASE_KEYS
        assert not unknown, f"{folder.name}/case.toml: unknown keys {sorted(unknown)}"
        command = shlex.split(data["command"])
        assert command[0] == "shipit", f"{folder.name}: the command must start with `shipit`"
        return cls(
            name=folder.name,
            folder=folder,
            description=str(data["description"]),
            command=command,
            hide_tools=tuple(data.get("hide-tools", ())),
            hold_release_lock=bool(data.get("hold-release-lock", False)),
        )


@dataclass(frozen=True)
class Output:
    stdout: str
    stderr: str
    exit_code: int


def _cases() -> list[Case]:
    return [Case.read(folder) for folder in sorted(CASES.iterdir()) if folder.is_dir()]


@pytest.fixture
def scratch() -> Iterator[Path]:
    """``/tmp/shipit-snap-XXXXXXXX``: the same length on every run, so panels wrap the same."""
    root = Path(tempfile.mkdtemp(prefix="shipit-snap-", dir="/tmp"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _environment(root: Path, case: Case) -> dict[str, str]:
    home = root / "home"
    home.mkdir()
    base = {"PATH": path_without(case.hide_tools), "HOME": str(home), "LANG": "C.UTF-8"}
    env = isolated_env(base)
    env.update(GIT_IDENTITY)
    env.update(COLUMNS=WIDTH, NO_COLOR="1", TERM="dumb", GIT_CONFIG_NOSYSTEM="1")
    return env


def _setup(case: Case, project: Path, env: dict[str, str]) -> None:
    given = case.folder / "in"
    if given.is_dir():
        shutil.copytree(given, project)
    else:
        project.mkdir()
    script = case.folder / "setup.sh"
    if script.is_file():
        done = subprocess.run(
            ["bash", "-euo", "pipefail", str(script)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{case.name}/setup.sh failed:\n{done.stdout}{done.stderr}"


def _normalise(text: str, root: Path) -> str:
    # the random part only: the stored text keeps the real path's length, so it lines up
    stable = str(root.parent / ("shipit-snap-" + "X" * (len(root.name) - len("shipit-snap-"))))
    for form in sorted({str(root.resolve()), str(root)}, key=len, reverse=True):
        text = text.replace(form, stable)
    # "git   0.4s" and "in 12.0s" alike: durations are right-aligned, their width varies
    return DURATION.sub(lambda m: (" " if m.group(1) else "") + "[DURATION]", text)


def _run(case: Case, root: Path) -> Output:
    env = _environment(root, case)
    project = root / "project"
    _setup(case, project, env)
    python = python_without(root, case.hide_tools)
    lock = filelock.FileLock(str(project / ".shipit" / "lock"))
    if case.hold_release_lock:  # another shipit process is releasing this project
        lock.acquire(timeout=0)
    try:
        done = subprocess.run(
            [python, "-m", "shipit", *case.command[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        if case.hold_release_lock:
            lock.release()
    return Output(_normalise(done.stdout, root), _normalise(done.stderr, root), done.returncode)


def _stored(case: Case) -> Output:
    stdout = case.folder / "stdout.txt"
    return Output(
        stdout.read_text(encoding="utf-8") if stdout.exists() else "",
        (case.folder / "stderr.txt").read_text(encoding="utf-8"),
        int((case.folder / "exit_code").read_text(encoding="utf-8")),
    )


def _store(case: Case, output: Output) -> None:
    stdout = case.folder / "stdout.txt"
    if output.stdout:
        stdout.write_text(output.stdout, encoding="utf-8")
    else:
        stdout.unlink(missing_ok=True)
    (case.folder / "stderr.txt").write_text(output.stderr, encoding="utf-8")
    (case.folder / "exit_code").write_text(f"{output.exit_code}\n", encoding="utf-8")


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case.name)
def test_error_message_matches_its_snapshot(case: Case, scratch: Path) -> None:
    output = _run(case, scratch)
    if UPDATE:
        _store(case, output)
        return
    assert "Traceback" not in output.stderr, output.stderr
    stored = _stored(case)
    assert output.exit_code == stored.exit_code, f"{case.description}\n{output.stderr}"
    assert output.stderr == stored.stderr, (
        f"{case.name}: stderr differs (SHIPIT_UPDATE_SNAPSHOTS=1 rewrites the snapshot)"
    )
    assert output.stdout == stored.stdout, (
        f"{case.name}: stdout differs (SHIPIT_UPDATE_SNAPSHOTS=1 rewrites the snapshot)"
    )


def test_every_case_folder_is_complete() -> None:
    """A case without its snapshot would pass by writing one: it must be committed."""
    cases = _cases()
    assert len(cases) >= 15
    for case in cases:
        assert (case.folder / "stderr.txt").is_file(), f"{case.name}: no stderr.txt"
        assert (case.folder / "exit_code").is_file(), f"{case.name}: no exit_code"
        assert case.description.strip(), f"{case.name}: no description"
