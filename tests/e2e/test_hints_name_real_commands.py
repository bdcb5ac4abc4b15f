"""Every ``shipit ...`` command that a message, hint or docstring in the source names is one the
real CLI accepts: each is parsed by the real command line with ``--help`` appended (which
parses the command path and its options, and runs nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from shipit import cli

SRC = Path(cli.__file__).resolve().parent
_COMMAND = re.compile(r"(?<![\w/.-])(`?)shipit((?: (?:-[\w-]+|[a-z][\w-]*))+)")
_STOP = re.compile(r"[`'\")(\[\],;:!?]|\.(?:\s|$)")
GLOBAL_FLAGS = {"-v", "--verbose", "--json", "--no-color", "--ci"}
GLOBAL_WITH_VALUE = {"-C", "--directory", "--config"}
# options that messages name before the command has them (the engine's work adds them):
# strict, so the day an option exists this test fails until its line here is removed
# (`release --parts` and `release --bump` exist: their lines are gone)
PENDING: dict[str, str] = {}


def _commands() -> Any:
    """The real command tree, every lazily loaded module included."""
    root = cli.typer.main.get_command(cli.app)
    for name in cli.COMMAND_MODULES:
        root.get_command(None, name)
    return root


def _value_options(command: Any) -> set[str]:
    """Every option of the tree that takes a value."""
    out: set[str] = set()
    for param in command.params:
        if getattr(param, "opts", None) and not getattr(param, "is_flag", False):
            out.update(param.opts)
    for sub in getattr(command, "commands", {}).values():
        out |= _value_options(sub)
    return out


def _prose_cut(words: list[str], root: Any) -> list[str]:
    """Outside backticks, a word after a group that is not one of its subcommands is prose
    (``shipit version shows why``): the command ends before it."""
    command = root
    for i, word in enumerate(words):
        if word.startswith("-"):
            continue
        subs = getattr(command, "commands", None)
        if not subs:
            return words
        if word not in subs:
            return words[:i]
        command = subs[word]
    return words


def _texts(tree: ast.AST) -> list[str]:
    """Every string constant, and every f-string with its placeholders as ``X``."""
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append(
                "".join(
                    v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "X"
                    for v in node.values
                )
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
    return out


def named_commands() -> set[str]:
    found: set[str] = set()
    known = set(cli.COMMAND_MODULES)
    root = _commands()
    value_options = _value_options(root)
    for path in sorted(SRC.rglob("*.py")):
        for text in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            for m in _COMMAND.finditer(" ".join(text.split())):
                tail = _STOP.split(m.group(2))[0]
                words = tail.split()
                if not m.group(1):  # not quoted: stop where the prose starts
                    words = _prose_cut(words, root)
                while words and words[-1] in value_options:
                    words.pop()  # its value was cut off by the quoting around it
                first = next((w for w in words if not w.startswith("-")), "")
                if first in known or (words and words[0] in GLOBAL_FLAGS | GLOBAL_WITH_VALUE):
                    found.add("shipit " + " ".join(words))
    return found


def parses(words: list[str]) -> tuple[bool, str]:
    import contextlib
    import io

    command = _commands()
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            command.main(args=[*words, "--help"], prog_name="shipit", standalone_mode=False)
        except SystemExit as exc:
            return exc.code in (0, None), err.getvalue()
        except Exception as exc:  # a usage error: no such command or option
            return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def test_the_source_names_commands() -> None:
    names = named_commands()
    assert "shipit check --only test" in names
    assert "shipit version sync" in names
    assert len(names) > 20


def _cases() -> list[Any]:
    cases = []
    for named in sorted(named_commands()):
        pending = next((why for key, why in PENDING.items() if key in named), None)
        marks = [pytest.mark.xfail(reason=pending, strict=True)] if pending else []
        cases.append(pytest.param(named, marks=marks))
    return cases


@pytest.mark.parametrize("named", _cases())
def test_every_named_command_exists(named: str) -> None:
    words = named.split()[1:]
    # placeholders of f-strings and example values stand for an argument
    words = [w for w in words if w != "X"]
    ok, why = parses(words)
    assert ok, f"`{named}` is named in a message but the CLI refuses it: {why}"


def test_a_command_that_does_not_exist_is_refused() -> None:
    assert parses(["version", "patch"])[0] is False
    assert parses(["check", "--only", "lint"])[0] is True
