"""The record of check durations: which check gets the CPU first on the next run."""

from __future__ import annotations

import json
from pathlib import Path

from shipit.checks import timings


def test_no_record_no_critical_check(tmp_path: Path) -> None:
    assert timings.critical(tmp_path, "check", ["a", "b"]) is None


def test_the_slowest_of_the_last_run_per_kind_of_run(tmp_path: Path) -> None:
    timings.record(tmp_path, "check", {"secrets": 3.5, "test": 1.2})
    timings.record(tmp_path, "release", {"secrets": 0.4, "test": 1.2})
    assert timings.critical(tmp_path, "check", ["test", "secrets"]) == "secrets"
    assert timings.critical(tmp_path, "release", ["test", "secrets"]) == "test"
    assert timings.critical(tmp_path, "check", ["test", "lint"]) is None  # lint never timed
    timings.record(tmp_path, "check", {"test": 9.0})  # a later run updates what it ran
    assert timings.critical(tmp_path, "check", ["test", "secrets"]) == "test"


def test_a_damaged_record_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / ".shipit" / timings.FILENAME
    path.parent.mkdir()
    for text in ("", "{not json", "[1, 2]", '{"check": {"test": "slow"}}'):
        path.write_text(text)
        assert timings.critical(tmp_path, "check", ["test"]) is None
    timings.record(tmp_path, "check", {"test": 1.0})
    assert json.loads(path.read_text()) == {"check": {"test": 1.0}}
