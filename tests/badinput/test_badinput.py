"""The bad-input corpus, run: every case of ``cases.py`` through one runner.

Each case gets a copy of one template repository (npm, JSR, PyPI and GitHub, with its own bare
origin and its own package name and version) and the session's one sandbox (verdaccio,
pypiserver, the JSR and GitHub test servers). The runner spoils the project as the case
says, pictures the world, runs the real CLI as a subprocess, and asserts for every case:

- the exit code;
- the message says what (the case's texts) and why, and names a next command that the real
  CLI accepts; it holds no traceback, no "internal error" and no secret;
- nothing changed that should not have: the work tree, the refs, origin's refs, the package
  on npm, JSR and PyPI, the GitHub releases.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

import filelock
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cases import CASES, Case
from corpus import (
    WIDTH,
    Outcome,
    World,
    interrupt,
    make_template,
    make_workspace,
    named_commands,
    panel_text,
)

from shipit.redact import encoded_forms
from shipit.workspace import protect
from tests.cli_tree import cli_accepts


@pytest.fixture(scope="session")
def corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("corpus-template"))


@pytest.fixture(scope="session")
def corpus_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(sandbox_env)
    env.pop("CI", None)
    env.update(NO_COLOR="1", COLUMNS=WIDTH, TERM="dumb", DENO_NO_UPDATE_CHECK="1")
    return env


def _path_without(tools: tuple[str, ...]) -> str:
    dirs = os.environ.get("PATH", os.defpath).split(os.pathsep)
    return os.pathsep.join(d for d in dirs if not any((Path(d) / t).exists() for t in tools))


def _case_env(case: Case, sandbox: Mapping[str, str], mark: Path) -> dict[str, str | None]:
    with_password = sandbox["TWINE_REPOSITORY_URL"].replace(
        "http://", f"http://__token__:{quote(sandbox['PYPI_TOKEN'], safe='')}@"
    )
    named = {"PYPI_URL_WITH_PASSWORD": with_password}
    env: dict[str, str | None] = {"CORPUS_MARK": str(mark)}
    for key, value in case.env.items():
        env[key] = named.get(value[1:], value) if value and value.startswith("$") else value
    if case.hide:
        env["PATH"] = _path_without(case.hide)
    return env


def _secret_values(case: Case, sandbox: Mapping[str, str]) -> list[str]:
    out = []
    for text in case.absent:
        out.append(sandbox[text[1:]] if text.startswith("$") else text)
    return out


@pytest.fixture()
def held_lock() -> Iterator[list[filelock.BaseFileLock]]:
    held: list[filelock.BaseFileLock] = []
    yield held
    for lock in held:
        lock.release()


def _params() -> list[object]:
    out = []
    for case in CASES:
        marks = []
        if case.pending:
            marks.append(pytest.mark.xfail(reason=case.pending, strict=True))
        if case.slow:
            marks.append(pytest.mark.slow)
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60, len(CASES)


@pytest.mark.parametrize("case", _params())
def test_bad_input(
    case: Case,
    corpus_template: Path,
    corpus_env: dict[str, str],
    sandbox_env: dict[str, str],
    tmp_path: Path,
    held_lock: list[filelock.BaseFileLock],
) -> None:
    index = [c.id for c in CASES].index(case.id)
    name = f"corpus-{secrets.token_hex(4)}-{index}"  # JSR: lower case, digits, dashes
    ws = make_workspace(corpus_template, tmp_path, name, f"7.{index}.0", corpus_env)
    mark = tmp_path / "reached"
    if case.setup is not None:
        case.setup(ws)
    env = _case_env(case, sandbox_env, mark)
    if case.id == "concurrent-release":
        protect(ws.root)
        lock = filelock.FileLock(str(ws.root / ".shipit" / "lock"), timeout=0)
        lock.acquire()
        held_lock.append(lock)
    before = World.of(ws, sandbox_env)
    if case.id != "rollback-then-release-again":
        assert not before.nothing_published(), "the case's package must start unpublished"

    if case.signal is not None:
        outcome = _interrupted(case, ws, env, mark)
    else:
        outcome = Outcome(ws.shipit(*case.args, env=env, hide=case.hide))
    result, output = outcome.result, outcome.output
    shown = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"

    assert result.returncode == case.exit, shown
    assert "Traceback" not in output, shown
    assert "internal error" not in output.lower(), shown
    flat = " ".join(panel_text(output).split())
    for text in case.says:
        assert " ".join(text.split()) in flat, f"the message does not say {text!r}\n{shown}"
    for secret in _secret_values(case, sandbox_env):
        for form in encoded_forms(secret):
            assert form not in output, f"a secret is printed ({secret[:6]}...)\n{shown}"
    if case.json_out:
        assert isinstance(json.loads(result.stdout), dict), shown
    if case.exit != 0 and case.needs_next:
        _says_why_and_next(case, output, shown)

    after = World.of(ws, sandbox_env)
    if case.signal is not None and case.signal[1] == "publish":
        _resumed_to_the_end(ws, env, sandbox_env)
        return
    problems = before.differences(after, allowed=case.allowed)
    problems += after.nothing_published() if case.id != "rollback-then-release-again" else []
    assert not problems, "\n".join(problems) + "\n" + shown


def _says_why_and_next(case: Case, output: str, shown: str) -> None:
    """What went wrong is the case's texts; the why and the way on are there in one of the
    three shapes shipit answers in: an error panel (``why:``, ``next:``; a failed check adds
    its finding and ``fix:``), a release report (the step that failed or the stop, and
    ``ways on:``, or ``way on:`` when nothing is left to resume), or click's usage error
    (``Error:`` and the command's ``--help``). Every
    command it names exists."""
    text = panel_text(output)
    if re.search(r"error: [a-z-]+", output):
        assert re.search(r"^why: ", text, re.M) or "fix:" in text, f"no why\n{shown}"
        assert re.search(r"^next: ", text, re.M), f"no next step\n{shown}"
    elif re.search(r"^release (?:failed|interrupted|incomplete)", text, re.M):
        assert re.search(r"\): (?:failed at|interrupted)", text), f"no why\n{shown}"
        assert re.search(r"^ways? on: ", text, re.M), f"no way on\n{shown}"
    else:
        assert "Error:" in output and "--help" in output, f"no message shape known\n{shown}"
    commands = named_commands(output)
    for command in commands:
        ok, why = cli_accepts(command.split())
        assert ok, f"`shipit {command}` is named but the CLI refuses it: {why}\n{shown}"
    for wanted in case.next:
        assert any(("shipit " + c).startswith(wanted) for c in commands), (
            f"{wanted!r} is not among the named commands {commands}\n{shown}"
        )


def _interrupted(case: Case, ws: object, env: dict[str, str | None], mark: Path) -> Outcome:
    from corpus import Workspace

    assert isinstance(ws, Workspace) and case.signal is not None
    sig, phase = case.signal
    go = Path(str(mark) + ".go")
    if phase in ("gate", "publish"):
        point = "git:tag" if phase == "gate" else "pypi:publish"
        env = {
            **env,
            "SHIPIT_TEST_FAULT": f"pause@{point}:before",
            "SHIPIT_TEST_FAULT_MARK": str(mark),
        }
    result = interrupt(ws, case.args, sig, mark=mark, env=env, release=lambda: go.write_text("go"))
    return Outcome(result)


def _resumed_to_the_end(ws: object, env: dict[str, str | None], sandbox: Mapping[str, str]) -> None:
    """An interrupted publish is continued by ``shipit resume`` and ends with every target
    holding the version exactly once."""
    from corpus import Workspace

    assert isinstance(ws, Workspace)
    resumed = ws.shipit("resume", "--yes", env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    world = World.of(ws, sandbox)
    assert world.npm == (200, [ws.version]), world.npm
    assert world.jsr == [ws.version], world.jsr
    assert world.pypi and all(ws.version in f for f in world.pypi), world.pypi
    assert any(tag == ws.tag and not draft for _, tag, draft in world.github), world.github
    assert f"refs/tags/{ws.tag}" in world.origin


_ = signal  # the cases name signals
