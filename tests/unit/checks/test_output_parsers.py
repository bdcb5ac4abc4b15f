"""Reading real tool output. The files in ``outputs/`` were captured from the real tools on
this machine (deno 2.9, tsc 5.9, eslint 9, xo 0.60, ava 6, vitest 3, node 20's test runner,
ruff, mypy, pytest), with the project directory renamed to /home/dev/proj. Formats that cannot
run here (jest, deno's lockfile errors) are reproduced from their documented shape."""

from __future__ import annotations

from pathlib import Path

from shipit.checks import output
from shipit.checks.base import Finding, Kind

ROOT = Path("/home/dev/proj")
OUTPUTS = Path(__file__).parent / "outputs"


def read(name: str) -> str:
    return (OUTPUTS / name).read_text(encoding="utf-8")


def parse(name_or_text: str) -> list[Finding]:
    text = read(name_or_text) if (OUTPUTS / name_or_text).is_file() else name_or_text
    parsed = output.parse(text, ROOT)
    assert parsed.structured, parsed.findings
    return parsed.findings


def where(findings: list[Finding]) -> list[tuple[str | None, int | None, str | None]]:
    return [(f.file, f.line, f.kind) for f in findings]


def test_deno_check_one_finding_per_error_with_its_location() -> None:
    found = parse("deno-check.txt")
    assert [f.message for f in found] == [
        "TS2322: Type 'string' is not assignable to type 'number'.",
        "TS2322: Type 'number' is not assignable to type 'string'.",
    ]
    assert where(found) == [("mod.ts", 4, Kind.TYPE), ("mod.ts", 5, Kind.TYPE)]


def test_deno_lint_pretty_output_with_rule_location_and_hint() -> None:
    found = parse("deno-lint.txt")
    assert [f.message.split(":")[0] for f in found] == [
        "no-slow-types",
        "no-unused-vars",
        "no-explicit-any",
    ]
    assert where(found)[1] == ("mod.ts", 2, Kind.LINT)
    assert found[1].hint == "If this is intentional, prefix it with an underscore like `_unused`"


def test_deno_fmt_check_names_each_unformatted_file() -> None:
    found = parse("deno-fmt.txt")
    assert where(found) == [("mod.ts", 5, Kind.FORMAT), ("deno.json", 1, Kind.FORMAT)]
    assert found[0].hint == "run `deno fmt`"


def test_deno_test_failures_located_where_they_threw() -> None:
    found = parse("deno-test.txt")
    assert [f.message for f in found] == [
        "test failed: add adds (Error: add is wrong)",
        "test failed: reads (NotFound: No such file or directory (os error 2): readfile "
        "'/nonexistent/x')",
    ]
    assert where(found) == [("mod_test.ts", 3, Kind.TEST), ("mod_test.ts", 9, Kind.TEST)]


def test_deno_config_error_is_one_error_naming_the_config() -> None:
    [f] = parse("deno-test-permissions.txt")
    assert f.kind == Kind.ERROR and f.file == "deno.json" and f.line is None
    assert f.message.startswith("Test permissions were found in the config file.")


def test_deno_network_error_is_a_dependency_problem_not_a_type_error() -> None:
    [f] = parse("deno-check-network.txt")
    assert f.kind == Kind.DEPENDENCY
    assert f.message.startswith("JSR package manifest for '@std/assert' failed to load.")
    assert (f.file, f.line) == ("mod.ts", 1)
    [g] = parse("deno-check-locked-network.txt")
    assert g.kind == Kind.DEPENDENCY


def test_deno_lockfile_out_of_date_is_a_dependency_problem() -> None:
    text = (
        "error: The lockfile is out of date. Run `deno install --frozen=false`, or rerun with "
        '`--frozen=false` to update it.\nchanges:\n 5 | -    "jsr:@std/assert@1": "1.0.12"\n'
        ' 5 | +    "jsr:@std/assert@1": "1.0.13"\n'
    )
    [f] = parse(text)
    assert f.kind == Kind.DEPENDENCY and f.message.startswith("The lockfile is out of date.")


def test_tsc() -> None:
    found = parse("tsc.txt")
    assert where(found) == [("a.ts", 1, Kind.TYPE), ("a.ts", 3, Kind.TYPE)]
    assert found[0].message == "TS2322: Type 'string' is not assignable to type 'number'."


def test_eslint_stylish_keeps_file_and_line() -> None:
    found = parse("eslint.txt")
    assert where(found) == [("src/index.js", 2, Kind.LINT), ("src/index.js", 3, Kind.LINT)]
    assert found[0].message == "no-unused-vars: 'unused' is assigned a value but never used"


def test_xo_problem_is_a_lint_problem_with_its_file() -> None:
    [f] = parse("xo.txt")
    assert (f.file, f.line, f.kind) == ("index.js", 2, Kind.LINT)
    assert f.message.startswith("no-unused-vars: unused is assigned a value but never used.")


def test_npm_test_running_xo_then_ava() -> None:
    [lint] = parse("npm-test-xo.txt")  # xo failed first: a lint problem, not a failing test
    assert (lint.file, lint.line, lint.kind) == ("index.js", 2, Kind.LINT)
    [failing] = parse("npm-test-ava.txt")
    assert (failing.file, failing.line, failing.kind) == ("test.js", 5, Kind.TEST)
    assert failing.message == "test failed: adds (Difference (- actual, + expected):)"


def test_ruff_concise_and_full_formats() -> None:
    [full] = parse("ruff-full.txt")
    assert (full.file, full.line, full.kind) == ("src/pk/__init__.py", 1, Kind.LINT)
    assert full.message == "F401: `os` imported but unused"
    [concise] = parse("src/pk/__init__.py:1:8: F401 [*] `os` imported but unused\nFound 1 error.")
    assert (concise.file, concise.line, concise.message) == (
        "src/pk/__init__.py",
        1,
        "F401: `os` imported but unused",
    )


def test_mypy_notes_belong_to_their_error() -> None:
    text = read("mypy.txt") + (
        'src/pk/__init__.py:9: error: Argument 1 to "g" has incompatible type "str"; '
        'expected "int"  [arg-type]\nsrc/pk/__init__.py:9: note: This is likely because "g" '
        "has no annotations\n"
    )
    found = parse(text)
    assert where(found) == [
        ("src/pk/__init__.py", 5, Kind.TYPE),
        ("src/pk/__init__.py", 9, Kind.TYPE),
    ]


def test_pyright() -> None:
    [f] = parse(
        '  /home/dev/proj/src/a.py:3:5 - error: "x" is not defined (reportUndefinedVariable)'
    )
    assert (f.file, f.line, f.kind) == ("src/a.py", 3, Kind.TYPE)


def test_pytest_failure_located_at_its_assertion() -> None:
    [f] = parse("pytest.txt")
    assert f.message == "test failed: tests/test_a.py::test_f (assert 1 == 2)"
    assert (f.file, f.line, f.kind) == ("tests/test_a.py", 5, Kind.TEST)


def test_node_test_tap_and_spec() -> None:
    [tap] = parse("node-test.txt")
    assert tap.message == "test failed: adds (Expected values to be strictly equal:)"
    assert (tap.file, tap.line, tap.kind) == ("test/a.test.js", 4, Kind.TEST)
    [spec] = parse("node-test-spec.txt")
    assert (spec.file, spec.line, spec.kind) == ("test/a.test.js", 4, Kind.TEST)
    assert spec.message.startswith("test failed: adds (AssertionError [ERR_ASSERTION]")


def test_vitest_failure_at_the_first_frame() -> None:
    [f] = parse("vitest-assert.txt")
    assert (
        f.message
        == "test failed: add > adds (AssertionError: expected 3 to be 4 // Object.is equality)"
    )
    assert (f.file, f.line, f.kind) == ("test/add.test.js", 6, Kind.TEST)
    [g] = parse("vitest.txt")  # thrown inside the library: located there
    assert (g.file, g.line) == ("src/index.js", 3)


def test_jest_documented_format() -> None:
    text = """FAIL test/sum.test.js
  sum
    ✕ adds (3 ms)

  ● sum \u203a adds

    expect(received).toBe(expected) // Object.is equality

    Expected: 4
    Received: 3

      4 | describe("sum", () => {
      5 |   test("adds", () => {
    > 6 |     expect(sum(1, 2)).toBe(4);
        |                       ^
      7 |   });

      at Object.toBe (test/sum.test.js:6:23)

Test Suites: 1 failed, 1 total
Tests:       1 failed, 1 total
"""
    [f] = parse(text)
    assert (
        f.message
        == "test failed: sum \u203a adds (expect(received).toBe(expected) // Object.is equality)"
    )
    assert (f.file, f.line, f.kind) == ("test/sum.test.js", 6, Kind.TEST)


def test_missing_node_package_is_a_dependency_problem() -> None:
    text = (
        "node:internal/modules/esm/resolve:854\n  throw new ERR_MODULE_NOT_FOUND(packageName, "
        "fileURLToPath(base), null);\n\nError [ERR_MODULE_NOT_FOUND]: Cannot find package 'ava' "
        "imported from /home/dev/proj/test.js\n"
    )
    [f] = parse(text)
    assert f.kind == Kind.DEPENDENCY and "ava" in f.message


def test_unrecognised_output_is_shown_verbatim_never_labelled() -> None:
    text = "\n> pkg@1.0.0 test\n> ./run-tests.sh\n\nsomething odd happened\nexit status 3\n"
    parsed = output.parse(text, ROOT)
    assert not parsed.structured
    assert [(f.message, f.kind) for f in parsed.findings] == [
        ("something odd happened", Kind.OUTPUT),
        ("exit status 3", Kind.OUTPUT),
    ]


def test_deno_lint_json_of_a_configured_command() -> None:
    text = (
        '{"version":1,"diagnostics":[{"filename":"file:///home/dev/proj/mod.ts","range":'
        '{"start":{"line":2,"col":8},"end":{"line":2,"col":14}},"message":"`unused` is never '
        'used","code":"no-unused-vars","hint":"prefix it"}],"errors":[]}'
    )
    parsed = output.parse(text, ROOT, "deno-lint-json")
    [f] = parsed.findings
    assert (f.file, f.line, f.kind, f.hint) == ("mod.ts", 2, Kind.LINT, "prefix it")
