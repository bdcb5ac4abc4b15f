"""Relevant-line extraction from real tool output: deno, tsc, mypy, ruff, pytest, node."""

from __future__ import annotations

from pathlib import Path

from shipit.checks import output

ROOT = Path("/tmp/p")

DENO_CHECK = """Check mod.ts
TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.
const x: number = "s";
      ^
    at file:///tmp/p/bad.ts:1:7

error: Type checking failed.
"""

DENO_TEST = """running 2 tests from ./mod_test.ts
adds ... ok (752µs)
fails here ... FAILED (1ms)

 ERRORS

fails here => ./mod_test.ts:3:6
error: Error: expected 4
    at file:///tmp/p/mod_test.ts:3:60

 FAILURES

fails here => ./mod_test.ts:3:6

FAILED | 1 passed | 1 failed (12ms)
"""


def test_deno_check() -> None:
    [f] = output.deno_check(DENO_CHECK, ROOT)
    assert f.message == "TS2322: Type 'string' is not assignable to type 'number'."
    assert (f.file, f.line) == ("bad.ts", 1)


def test_deno_test_names_the_failing_test_and_its_error() -> None:
    [f] = output.deno_test(DENO_TEST, ROOT)
    assert f.message == "test failed: fails here (Error: expected 4)"
    assert (f.file, f.line) == ("mod_test.ts", 3)


def test_tsc_both_formats() -> None:
    text = (
        "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
        "src/b.ts:10:1 - error TS2304: Cannot find name 'foo'.\n"
    )
    got = [(f.file, f.line, f.message.split(":")[0]) for f in output.tsc(text, ROOT)]
    assert got == [("src/a.ts", 3, "TS2322"), ("src/b.ts", 10, "TS2304")]


def test_mypy_and_pyright() -> None:
    text = (
        'src/pkg/__init__.py:4: error: Incompatible return value type (got "str", expected '
        '"int")  [return-value]\nFound 1 error in 1 file (checked 2 source files)\n'
        "  /tmp/p/src/x.py:2:5 - error: Cannot access attribute\n"
    )
    got = [(f.file, f.line) for f in output.mypy(text, ROOT)]
    assert got == [("src/pkg/__init__.py", 4), ("src/x.py", 2)]


def test_ruff_concise() -> None:
    text = "src/pkg/__init__.py:1:8: F401 [*] `os` imported but unused\nFound 1 error.\n"
    [f] = output.ruff(text, ROOT)
    assert (f.file, f.line, f.message) == (
        "src/pkg/__init__.py",
        1,
        "F401: [*] `os` imported but unused",
    )


def test_pytest_short_summary() -> None:
    text = (
        "F.                                                      [100%]\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_calc.py::test_add - assert 3 == 4\n"
        "1 failed, 1 passed in 0.05s\n"
    )
    [f] = output.pytest(text, ROOT)
    assert f.message == "test failed: tests/test_calc.py::test_add (assert 3 == 4)"
    assert f.file == "tests/test_calc.py"


def test_node_test_tap() -> None:
    text = (
        "TAP version 13\n# Subtest: adds\nok 1 - adds\n# Subtest: subtracts\nnot ok 2 - subtracts\n"
    )
    assert [f.message for f in output.node_test(text, ROOT)] == ["test failed: subtracts"]


def test_generic_keeps_error_lines_only() -> None:
    text = "building\ncompiling 3 files\nerror: something broke\nwarning: meh\n"
    assert [f.message for f in output.generic(text, ROOT)] == ["error: something broke"]


def test_parse_falls_back_to_generic() -> None:
    found = output.parse("tsc", "strange output\nexit 3", ROOT)
    assert [f.message for f in found] == ["strange output", "exit 3"]
