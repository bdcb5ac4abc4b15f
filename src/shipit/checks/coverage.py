"""Read line coverage from the reports test tools write: lcov, coverage.py JSON, istanbul.

``read_report(path)`` picks the parser from the file's name or content and returns the
measured line coverage in percent; a report it cannot read raises ``CoverageReportError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class CoverageReportError(Exception):
    """The report is missing, empty or not in a format we read."""


@dataclass(frozen=True)
class Coverage:
    percent: float
    covered: int | None = None
    total: int | None = None
    source: str = ""

    def describe(self) -> str:
        counts = f" ({self.covered}/{self.total} lines)" if self.total is not None else ""
        return f"{self.percent:.1f}%{counts}"


def parse_lcov(text: str) -> Coverage:
    """Sum ``LH``/``LF`` over all records (``DA`` lines when a record has no totals)."""
    total = covered = 0
    rec_lf: int | None = None
    rec_lh: int | None = None
    da_total = da_hit = 0
    records = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("LF:"):
            rec_lf = int(line[3:])
        elif line.startswith("LH:"):
            rec_lh = int(line[3:])
        elif line.startswith("DA:"):
            parts = line[3:].split(",")
            if len(parts) >= 2:
                da_total += 1
                try:
                    hits = int(float(parts[1]))
                except ValueError:
                    hits = 0
                da_hit += 1 if hits > 0 else 0
        elif line == "end_of_record":
            records += 1
            total += rec_lf if rec_lf is not None else da_total
            covered += rec_lh if rec_lh is not None else da_hit
            rec_lf = rec_lh = None
            da_total = da_hit = 0
    if records == 0:
        raise CoverageReportError("no lcov records (no `end_of_record` line)")
    percent = 100.0 if total == 0 else covered * 100.0 / total
    return Coverage(percent, covered, total, "lcov")


def parse_coverage_py(data: dict[str, Any]) -> Coverage:
    """coverage.py ``coverage json``: ``totals.percent_covered``."""
    totals = data.get("totals")
    if not isinstance(totals, dict) or "percent_covered" not in totals:
        raise CoverageReportError("no `totals.percent_covered` in the coverage.py JSON report")
    return Coverage(
        float(totals["percent_covered"]),
        totals.get("covered_lines"),
        totals.get("num_statements"),
        "coverage.py",
    )


def parse_istanbul_summary(data: dict[str, Any]) -> Coverage:
    """istanbul/nyc/jest/c8 ``coverage-summary.json``: ``total.lines.pct``."""
    lines = data.get("total", {}).get("lines") if isinstance(data.get("total"), dict) else None
    if not isinstance(lines, dict) or "pct" not in lines:
        raise CoverageReportError("no `total.lines.pct` in the coverage-summary.json report")
    pct = lines["pct"]
    total = lines.get("total")
    percent = 100.0 if pct == "Unknown" or total == 0 else float(pct)
    return Coverage(percent, lines.get("covered"), total, "istanbul")


def parse_text(text: str, name: str = "") -> Coverage:
    """Any of the three formats, told apart by content."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CoverageReportError(f"{name or 'report'} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CoverageReportError(f"{name or 'report'} is not a JSON object")
        if "totals" in data:
            return parse_coverage_py(data)
        if "total" in data:
            return parse_istanbul_summary(data)
        raise CoverageReportError(
            f"{name or 'report'} is neither coverage.py JSON nor an istanbul summary"
        )
    return parse_lcov(text)


def read_report(path: Path) -> Coverage:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CoverageReportError(f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        raise CoverageReportError(f"{path} is empty")
    return parse_text(text, path.name)


#: Where test tools write their reports by default, relative to the package directory.
KNOWN_REPORTS = (
    "coverage/coverage-summary.json",
    "coverage/lcov.info",
    "coverage.json",
    "coverage/coverage.json",
    "lcov.info",
)


def find_report(directory: Path, newer_than: float | None = None) -> Path | None:
    """The first known report under ``directory`` (written after ``newer_than`` if given)."""
    for rel in KNOWN_REPORTS:
        path = directory / rel
        if path.is_file() and (newer_than is None or path.stat().st_mtime >= newer_than - 1):
            return path
    return None
