"""Every ``shipit ...`` command that a message, hint or docstring in the source names is one the
real CLI accepts: each is parsed by the real command line with ``--help`` appended (which
parses the command path and its options, and runs nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shipit import cli

SRC = Path(cli.__file__).resolve().parent
_COMMAND = re.compile(r"(?<![\w/.-])shipit((?: (?:-[\w-]+|[a-z][\w-]*))+)")
_STOP = re.compile(r"[`'\")(\[\],;:!?]|\.(?:\s|$)")
GLOBAL_FLAGS = {"-v", "--verbose", "--json", "--no-color", "--ci"}
GLOBAL_WITH_VALUE = {"-C", "--directory", "--config"}
# options that take a value: one named last had its value cut off by the quoting around it
VALUE_OPTIONS = {"--only", "--skip", "--version", "--target", "--out", "--parts", "--interval"}


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
    for path in sorted(SRC.rglob("*.py")):
        for text in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            for m in _COMMAND.finditer(" ".join(text.split())):
                tail = _STOP.split(m.group(1))[0]
                words = tail.split()
                while words and words[-1] in VALUE_OPTIONS | GLOBAL_WITH_VALUE:
                    words.pop()
                first = next((w for w in words if not w.startswith("-")), "")
                if first in known or (words and words[0] in GLOBAL_FLAGS | GLOBAL_WITH_VALUE):
                    found.add("shipit " + " ".join(words))
    return found


def parses(words: list[str]) -> tuple[bool, str]:
    import contextlib
    import io

    command = cli.typer.main.get_command(cli.app)
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


@pytest.mark.parametrize("named", sorted(named_commands()))
def test_every_named_command_exists(named: str) -> None:
    words = named.split()[1:]
    # placeholders of f-strings and example values stand for an argument
    words = [w for w in words if w != "X"]
    ok, why = parses(words)
    assert ok, f"`{named}` is named in a message but the CLI refuses it: {why}"


def test_a_command_that_does_not_exist_is_refused() -> None:
    assert parses(["version", "patch"])[0] is False
    assert parses(["check", "--only", "lint"])[0] is True
