"""The runner: checks run at once, heavy commands share the CPU slots, a crashing or
erroring check does not hide the others, results keep the catalogue's order."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from shipit.checks.base import CheckContext, CheckResult, Status, passed
from shipit.checks.runner import run_checks
from shipit.config import Config, Settings
from shipit.errors import ToolMissingError
from shipit.project.model import Project


def context(tmp_path: Path, parallel: int | None = None) -> CheckContext:
    config = Config.model_validate({"checks": {"parallel": parallel}} if parallel else {})
    return CheckContext(
        root=tmp_path,
        config=config,
        settings=Settings.from_env({}, config),
        project=Project(root=tmp_path, ecosystems=(), sources=(), canonical=None),
        env={},
        log_dir=tmp_path / ".shipit" / "checks",
    )


class Meeting:
    """Light checks that can only finish when all of them run at the same time."""

    heavy = False

    def __init__(self, name: str, barrier: threading.Barrier) -> None:
        self.name = name
        self.barrier = barrier

    def run(self, ctx: CheckContext) -> CheckResult:
        self.barrier.wait()  # raises BrokenBarrierError after its timeout if alone
        return passed(self.name, "met")


class Heavy:
    """A heavy check whose 'command' holds a CPU slot; records the most holders at once."""

    heavy = True
    lock = threading.Lock()
    holding = 0
    most = 0

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, ctx: CheckContext) -> CheckResult:
        with ctx.slot():
            with Heavy.lock:
                Heavy.holding += 1
                Heavy.most = max(Heavy.most, Heavy.holding)
            threading.Event().wait(0.2)
            with Heavy.lock:
                Heavy.holding -= 1
        return passed(self.name, "done")


class Broken:
    heavy = False

    def __init__(self, name: str, exc: Exception) -> None:
        self.name = name
        self.exc = exc

    def run(self, ctx: CheckContext) -> CheckResult:
        raise self.exc


def test_all_checks_run_at_the_same_time(tmp_path: Path) -> None:
    barrier = threading.Barrier(4, timeout=10)
    checks = [Meeting(f"c{i}", barrier) for i in range(4)]
    report = run_checks(checks, context(tmp_path))
    assert [r.status for r in report.results] == [Status.PASSED] * 4


def _most_at_once(tmp_path: Path, parallel: int) -> int:
    Heavy.most = Heavy.holding = 0
    report = run_checks([Heavy(f"h{i}") for i in range(4)], context(tmp_path, parallel))
    assert report.ok
    return Heavy.most


def test_heavy_commands_share_the_configured_slots(tmp_path: Path) -> None:
    assert _most_at_once(tmp_path, 1) == 1
    assert _most_at_once(tmp_path, 2) == 2


def test_every_result_is_reported_even_when_checks_break(tmp_path: Path) -> None:
    checks = [
        Broken("missing", ToolMissingError("`deno` is not installed", hint="pip install deno")),
        Broken("buggy", KeyError("oops")),
        Meeting("fine", threading.Barrier(1)),
    ]
    report = run_checks(checks, context(tmp_path))
    missing, buggy, fine = report.results
    assert (missing.status, missing.summary) == (Status.ERROR, "`deno` is not installed")
    assert missing.findings[0].hint == "pip install deno"
    assert buggy.status is Status.ERROR
    assert buggy.summary == "the check crashed: KeyError: 'oops'"
    assert buggy.log_path is not None and "KeyError" in buggy.log_path.read_text()
    assert fine.status is Status.PASSED
    assert not report.ok
    assert report.to_json()["ok"] is False


class Niceness:
    """A check whose command reports the CPU priority it was started with; ``took`` is the
    duration the runner records for it (the check waits that long)."""

    heavy = False

    def __init__(self, name: str, took: float) -> None:
        self.name = name
        self.took = took
        self.nice: int | None = None

    def run(self, ctx: CheckContext) -> CheckResult:
        from shipit import proc

        result = proc.run(  # reads its input first: written once the priority is set
            [sys.executable, "-c", "import os, sys; sys.stdin.read(); print(os.getpriority(0, 0))"],
            input="go",
        )
        self.nice = int(result.stdout) - os.getpriority(os.PRIO_PROCESS, 0)
        threading.Event().wait(self.took)
        return passed(self.name, "done")


def test_the_slowest_check_of_the_last_run_gets_the_cpu_first(tmp_path: Path) -> None:
    """With no record every command starts at the same priority; the next run starts the
    commands of every check but the one that took longest last time at a lower one."""
    slow, quick = Niceness("slow", 0.3), Niceness("quick", 0.0)
    run_checks([slow, quick], context(tmp_path))
    assert (slow.nice, quick.nice) == (0, 0)
    record = tmp_path / ".shipit" / "check-times.json"
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    run_checks([slow, quick], context(tmp_path))
    assert slow.nice == 0 and quick.nice is not None and quick.nice > 0
    # a check the record does not know may be the slowest: no priorities at all
    new = Niceness("new", 0.0)
    run_checks([slow, quick, new], context(tmp_path))
    assert (slow.nice, quick.nice, new.nice) == (0, 0, 0)
