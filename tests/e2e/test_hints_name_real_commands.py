"""Every ``shipit ...`` command that a message, hint or docstring in the source names is one the
real CLI accepts: each is parsed by the real command tree as click parses it before running
a command (``tests/cli_tree.py``, shared with the bad-input corpus) with ``--help`` appended
(the command path and its options must exist; arguments may be left out), and nothing runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from shipit import cli
from tests.cli_tree import cli_accepts, command_tree, prose_cut

SRC = Path(cli.__file__).resolve().parent
_COMMAND = re.compile(r"(?<![\w/.-])(`?)shipit((?: (?:-[\w-]+|[a-z][\w-]*))+)")
_STOP = re.compile(r"[`'\")(\[\],;:!?]|\.(?:\s|$)")
GLOBAL_FLAGS = {"-v", "--verbose", "--json", "--no-color", "--ci"}
GLOBAL_WITH_VALUE = {"-C", "--directory", "--config"}
# options that messages name before the command has them (the engine's work adds them):
# strict, so the day an option exists this test fails until its line here is removed
# (`release --parts` and `release --bump` exist: their lines are gone)
PENDING: dict[str, str] = {}


def _value_options(command: Any) -> set[str]:
    """Every option of the tree that takes a value."""
    out: set[str] = set()
    for param in command.params:
        if getattr(param, "opts", None) and not getattr(param, "is_flag", False):
            out.update(param.opts)
    for sub in getattr(command, "commands", {}).values():
        out |= _value_options(sub)
    return out


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
    root = command_tree()
    value_options = _value_options(root)
    for path in sorted(SRC.rglob("*.py")):
        for text in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            for m in _COMMAND.finditer(" ".join(text.split())):
                tail = _STOP.split(m.group(2))[0]
                words = tail.split()
                if not m.group(1):  # not quoted: stop where the prose starts
                    words = prose_cut(words, root)
                while words and words[-1] in value_options:
                    words.pop()  # its value was cut off by the quoting around it
                first = next((w for w in words if not w.startswith("-")), "")
                if first in known or (words and words[0] in GLOBAL_FLAGS | GLOBAL_WITH_VALUE):
                    found.add("shipit " + " ".join(words))
    return found


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
    ok, why = cli_accepts([*words, "--help"])  # the path and options exist
    assert ok, f"`{named}` is named in a message but the CLI refuses it: {why}"


def test_a_command_that_does_not_exist_is_refused() -> None:
    assert cli_accepts(["version", "patch", "--help"])[0] is False
    assert cli_accepts(["check", "--only", "lint", "--help"])[0] is True
