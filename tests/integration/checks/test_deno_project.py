"""Every check on a real Deno project: passes when good, fails precisely when broken."""

from __future__ import annotations

from shipit.checks.base import Status

from .conftest import DENO_MOD, ExampleFactory


def test_good_deno_project_passes_every_check(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    report = ex.report()
    by = {r.name: r for r in report.results}
    assert {n: str(r.status) for n, r in by.items()} == {
        "git": "passed",
        "versions": "passed",
        "typecheck": "passed",
        "lint": "passed",
        "test": "passed",
        "security": "skipped",
        "secrets": "passed",
        "registry": "passed",
    }, {n: r.summary for n, r in by.items()}
    assert report.ok
    assert "no vulnerability scanner" in by["security"].summary
    assert "jsr: token accepted" in by["registry"].summary
    assert "github: token may push" in by["registry"].summary
    assert by["test"].summary == "tests passed"


def test_type_error_names_file_and_line(deno_project: ExampleFactory) -> None:
    ex = deno_project(mod_DOT_ts=DENO_MOD + 'export const count: number = "three";\n')
    r = ex.check("typecheck")
    assert r.status is Status.FAILED
    assert r.summary.startswith("1 type error")
    [f] = r.findings
    assert f.message == "TS2322: Type 'string' is not assignable to type 'number'."
    assert (f.file, f.line) == ("mod.ts", 8)
    assert f.hint and "shipit check --only typecheck" in f.hint
    assert r.log_path == ex.path / ".shipit" / "checks" / "typecheck.log"
    assert "TS2322" in r.log_path.read_text()


def test_lint_error_names_rule_file_line_and_deno_hint(deno_project: ExampleFactory) -> None:
    ex = deno_project(
        util_DOT_ts="export function f(): number {\n  const unused = 1;\n  return 2;\n}\n"
    )
    r = ex.check("lint")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "no-unused-vars: `unused` is never used"
    assert (f.file, f.line) == ("util.ts", 2)
    assert f.hint and "prefix it with an underscore" in f.hint


def test_failing_test_is_named(deno_project: ExampleFactory) -> None:
    ex = deno_project(
        more_test_DOT_ts='Deno.test("numbers are hard", () => {\n'
        '  if (0.1 + 0.2 !== 0.3) throw new Error("floating point");\n});\n'
    )
    r = ex.check("test")
    assert r.status is Status.FAILED
    assert r.summary.startswith("1 failing test")
    [f] = r.findings
    assert f.message == "test failed: numbers are hard (Error: floating point)"
    assert (f.file, f.line) == ("more_test.ts", 2)  # where it threw
    assert r.log_path is not None and "numbers are hard" in r.log_path.read_text()


def test_coverage_bar(deno_project: ExampleFactory) -> None:
    uncovered = "".join(
        f"export function f{i}(x: number): number {{\n  const y = x * {i};\n  return y;\n}}\n"
        for i in range(6)
    )
    ex = deno_project(
        shipit_toml="[checks.test]\nmin-coverage = 80\n", mod_DOT_ts=DENO_MOD + uncovered
    )
    r = ex.check("test")
    assert r.status is Status.FAILED, r.summary
    [f] = r.findings
    measured = f.message.split(" ")[2]  # "line coverage 47.8% (11/23 lines) is below ..."
    assert float(measured.rstrip("%")) < 80
    assert r.summary == f"coverage {measured} is below the bar of 80%"
    assert f.message.endswith("is below min-coverage 80%")
    assert f.file == ".shipit/checks/coverage/deno.lcov"
    assert f.hint and "min-coverage" in f.hint

    ex.commit("lower the bar", {"shipit.toml": "[checks.test]\nmin-coverage = 20\n"})
    ok = ex.check("test")
    assert ok.status is Status.PASSED, ok.summary
    assert ok.summary == f"tests passed, coverage {measured} (bar 20%)"
