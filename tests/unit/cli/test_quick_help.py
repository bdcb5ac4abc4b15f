"""`shipit --help` drawn without typer is the help typer draws, byte for byte; the command line
is answered early only when it asks nothing but the help or the version."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
from collections.abc import Iterator

import pytest

from shipit import cli, helptext

ENV_BASE = {"PATH": os.environ.get("PATH", "")}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def typer_help(env: dict[str, str]) -> str:
    """What the full CLI prints for `shipit --help` in ``env`` (stdout not a terminal).

    typer reads some variables when its rich module is imported: it is imported afresh here,
    as it is in a new ``shipit`` process."""
    out = io.StringIO()
    rich_utils = importlib.import_module("typer.rich_utils")
    try:
        with environment(env), contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
            importlib.reload(rich_utils)
            cli.main(["--help"])
    finally:
        importlib.reload(rich_utils)
    assert done.value.code == 0
    return out.getvalue()


def quick_help(env: dict[str, str]) -> str:
    text = helptext.render(helptext.terminal(io.StringIO(), env))
    assert text is not None
    return text + "\n"


STYLES = {
    "plain": {},
    "colour": {"FORCE_COLOR": "1"},
    "NO_COLOR on a terminal (bold and dim only)": {"FORCE_COLOR": "1", "NO_COLOR": "1"},
    "dumb terminal": {"FORCE_COLOR": "1", "TERM": "dumb"},
}


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("width", [60, 67, 80, 99, 120, 200])
def test_quick_help_is_typers_help_byte_for_byte(style: str, width: int) -> None:
    env = {**ENV_BASE, "COLUMNS": str(width), **STYLES[style]}
    assert quick_help(env) == typer_help(env)


def test_help_shows_styles_on_a_terminal_and_none_when_piped() -> None:
    coloured = quick_help({**ENV_BASE, "FORCE_COLOR": "1", "COLUMNS": "100"})
    plain = quick_help({**ENV_BASE, "COLUMNS": "100"})
    assert "\x1b[1;36mcheck" in coloured and "\x1b[1;32m-C\x1b[0m" in coloured
    assert "\x1b[" not in plain
    assert ANSI.sub("", coloured) == plain


def test_narrow_terminal_is_left_to_typer() -> None:
    narrow = helptext.terminal(io.StringIO(), {**ENV_BASE, "COLUMNS": "40"})
    assert helptext.render(narrow) is None


def test_the_command_table_is_the_cli_s() -> None:
    assert {c.name: c.module for c in helptext.COMMANDS} == cli.COMMAND_MODULES
    root = cli.typer.main.get_command(cli.app)
    for entry in helptext.COMMANDS:
        command = root.get_command(None, entry.name)  # type: ignore[attr-defined]
        assert command is not None, entry.name
    ctx = root.make_context("shipit", [], resilient_parsing=True)
    options = {o for p in root.get_params(ctx) for o in getattr(p, "opts", ())}
    assert options == {n for o in helptext.GLOBAL_OPTIONS for n in (o.long, o.short) if n}


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        (["--help"], "--help"),
        (["--version"], "--version"),
        (["-C", "some dir", "--json", "--help"], "--help"),
        (["--directory=x", "-v", "--version"], "--version"),
        (["-Cdir", "--help"], "--help"),
        (["--version", "--help"], "--version"),  # the first eager option wins, as in click
        (["--help", "release"], "--help"),
        (["release", "--help"], None),  # the command's own help
        (["release", "--version", "1.2.3"], None),  # release's --version option
        (["check"], None),
        (["--bogus", "--help"], None),  # the full CLI reports the unknown option
        (["-C"], None),
        (["--json=1", "--help"], None),
        (["-vC", "x", "--help"], None),
        (["--", "--help"], None),
        ([], None),
    ],
)
def test_early_answer_only_for_shipit_s_own_help_and_version(
    args: list[str], answer: str | None
) -> None:
    assert helptext.early_answer(args) == answer
