"""Coverage report parsers: lcov (deno, c8), coverage.py JSON, istanbul coverage-summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipit.checks.coverage import (
    CoverageReportError,
    find_report,
    parse_lcov,
    parse_text,
    read_report,
)

DENO_LCOV = """SF:/tmp/p/mod.ts
FN:1,add
FNDA:2,add
FNF:1
FNH:1
DA:1,2
DA:2,0
LH:1
LF:2
end_of_record
SF:/tmp/p/util.ts
DA:1,1
DA:2,1
DA:3,1
DA:4,0
LH:3
LF:4
end_of_record
"""


def test_lcov_sums_lines_over_all_files() -> None:
    cov = parse_lcov(DENO_LCOV)
    assert (cov.covered, cov.total) == (4, 6)
    assert cov.percent == pytest.approx(66.666, abs=0.01)
    assert cov.describe() == "66.7% (4/6 lines)"


def test_lcov_without_totals_counts_da_lines() -> None:
    text = "SF:a.js\nDA:1,1\nDA:2,0\nDA:3,5\nDA:4,0\nend_of_record\n"
    cov = parse_lcov(text)
    assert (cov.covered, cov.total, cov.percent) == (2, 4, 50.0)


def test_lcov_without_records_is_an_error() -> None:
    with pytest.raises(CoverageReportError, match="no lcov records"):
        parse_lcov("TN:\nSF:a.js\n")


def test_coverage_py_json_uses_percent_covered() -> None:
    data = {
        "meta": {"version": "7.6.1"},
        "totals": {"covered_lines": 9, "num_statements": 12, "percent_covered": 75.0},
    }
    cov = parse_text(json.dumps(data))
    assert (cov.percent, cov.covered, cov.total, cov.source) == (75.0, 9, 12, "coverage.py")


def test_istanbul_summary_uses_total_lines_pct() -> None:
    data = {
        "total": {
            "lines": {"total": 40, "covered": 30, "skipped": 0, "pct": 75},
            "statements": {"total": 41, "covered": 30, "skipped": 0, "pct": 73.17},
        },
        "/p/index.js": {"lines": {"total": 40, "covered": 30, "skipped": 0, "pct": 75}},
    }
    cov = parse_text(json.dumps(data))
    assert (cov.percent, cov.covered, cov.total, cov.source) == (75.0, 30, 40, "istanbul")


def test_istanbul_summary_with_no_lines_counts_as_full() -> None:
    data = {"total": {"lines": {"total": 0, "covered": 0, "skipped": 0, "pct": "Unknown"}}}
    assert parse_text(json.dumps(data)).percent == 100.0


def test_unknown_json_is_named_in_the_error() -> None:
    with pytest.raises(CoverageReportError, match=r"neither coverage\.py JSON nor an istanbul"):
        parse_text('{"files": {}}', "report.json")


def test_read_report_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(CoverageReportError, match="cannot read"):
        read_report(tmp_path / "nope.info")
    (tmp_path / "empty.info").write_text("")
    with pytest.raises(CoverageReportError, match="is empty"):
        read_report(tmp_path / "empty.info")


def test_find_report_prefers_the_summary(tmp_path: Path) -> None:
    assert find_report(tmp_path) is None
    (tmp_path / "coverage").mkdir()
    (tmp_path / "coverage" / "lcov.info").write_text(DENO_LCOV)
    assert find_report(tmp_path) == tmp_path / "coverage" / "lcov.info"
    (tmp_path / "coverage" / "coverage-summary.json").write_text("{}")
    assert find_report(tmp_path) == tmp_path / "coverage" / "coverage-summary.json"
