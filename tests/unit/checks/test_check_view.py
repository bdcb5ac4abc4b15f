"""The check view: plain lines in CI, the live table, and the findings summary."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from shipit.checks.base import CheckResult, Finding, Status
from shipit.redact import register
from shipit.ui.check_view import LiveView, PlainView, render_summary

ROOT = Path("/tmp/proj")
FAILED = CheckResult(
    "typecheck",
    Status.FAILED,
    "1 type error from `deno check ./mod.ts`",
    (Finding("TS2322: bad", "mod.ts", 8, "fix the type error shown"),),
    duration_s=1.25,
    log_path=ROOT / ".shipit" / "checks" / "typecheck.log",
)
PASSED = CheckResult("lint", Status.PASSED, "no lint problems", duration_s=0.2)
SKIPPED = CheckResult("security", Status.SKIPPED, "no scanner")


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, no_color=True, force_terminal=False), buf


def test_plain_view_prints_one_line_per_finished_check() -> None:
    c, buf = console()
    with PlainView(c) as view:
        view.started("lint")
        view.finished(PASSED)
        view.finished(FAILED)
    assert buf.getvalue().splitlines() == [
        "PASSED  lint         0.2s  no lint problems",
        "FAILED  typecheck    1.2s  1 type error from `deno check ./mod.ts`",
    ]


def test_summary_lists_findings_fixes_logs_and_totals() -> None:
    c, buf = console()
    render_summary(c, [PASSED, FAILED, SKIPPED], 3.42, ROOT, disabled=["registry"])
    text = buf.getvalue()
    assert "✗ typecheck failed: 1 type error from `deno check ./mod.ts`" in text
    assert "  mod.ts:8: TS2322: bad\n    fix: fix the type error shown" in text
    assert "full output: .shipit/checks/typecheck.log" in text
    assert "lint" not in text.split("not ready")[0].replace("typecheck", "")
    assert text.rstrip().endswith(
        "not ready to release — 1 passed, 1 failed, 1 skipped, 1 disabled (registry) in 3.4s"
    )


def test_summary_of_a_clean_run() -> None:
    c, buf = console()
    render_summary(c, [PASSED, SKIPPED], 1.0, ROOT)
    assert buf.getvalue().strip() == "ready to release — 1 passed, 1 skipped in 1.0s"


def test_secrets_are_masked_in_the_summary() -> None:
    register("s3cr3t-value-for-view")
    c, buf = console()
    bad = CheckResult(
        "registry", Status.FAILED, "x", (Finding("token s3cr3t-value-for-view rejected"),)
    )
    render_summary(c, [bad], 1.0, ROOT)
    assert "s3cr3t-value-for-view" not in buf.getvalue()
    assert "token *** rejected" in buf.getvalue()


def test_live_view_shows_running_and_finished_checks() -> None:
    c, buf = console()
    view = LiveView(c, ["lint", "typecheck", "test"])
    view.started("typecheck")
    view.finished(PASSED)
    c.print(view._render())
    lines = buf.getvalue().splitlines()
    assert any("lint" in ln and "passed: no lint problems" in ln for ln in lines)
    assert any("typecheck" in ln and "running" in ln for ln in lines)
    assert any("test" in ln and "starting" in ln for ln in lines)
