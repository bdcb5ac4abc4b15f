"""The live release view shows a person what each step is doing, as rich draws it."""

from __future__ import annotations

import io

from rich.console import Console

from shipit.engine.events import ReleaseEvent, StepEvent
from shipit.redact import register
from shipit.ui.live import LiveView, release_view
from shipit.ui.plain import PlainReporter

STEPS = ["npm:pack", "git:tag", "npm:publish", "github:asset:tool-linux-x64", "notify"]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _screen(view: LiveView) -> str:
    console = Console(record=True, width=100)
    console.print(view.render())
    return console.export_text()


def test_live_view_shows_each_state_a_person_cares_about() -> None:
    clock = FakeClock(1000.0)
    view = LiveView(Console(record=True, width=100), STEPS, clock=clock)
    view(ReleaseEvent("started", tag="v1.2.0", version="1.2.0", at=990.0))
    view(StepEvent("already-done", "npm:pack", "tarball already built", at=991.0))
    view(StepEvent("running", "git:tag", at=992.0))
    view(StepEvent("done", "git:tag", "v1.2.0 -> 3f2a1bc", at=993.5))
    view(StepEvent("running", "github:asset:tool-linux-x64", at=995.0))
    view(
        StepEvent(
            "progress",
            "github:asset:tool-linux-x64",
            "uploading",
            completed=3 * 1024 * 1024,
            total=12 * 1024 * 1024,
            at=996.0,
        )
    )
    view(StepEvent("running", "npm:publish", at=997.0))
    view(
        StepEvent(
            "failed",
            "npm:publish",
            "npm rejected the token: E401",
            hint="set NPM_TOKEN, then run `shipit resume`",
            at=998.0,
        )
    )
    screen = _screen(view)
    lines = {
        line.split()[1]: line
        for line in screen.splitlines()
        if line.strip()[:1] != "R" and len(line.split()) > 1
    }

    assert "Releasing v1.2.0 (version 1.2.0)" in screen
    assert "already done" in lines["npm:pack"] and "tarball already built" in lines["npm:pack"]
    assert "done" in lines["git:tag"] and "1.5s" in lines["git:tag"]
    assert "v1.2.0 -> 3f2a1bc" in lines["git:tag"]
    upload = lines["github:asset:tool-linux-x64"]
    assert "running" in upload and "3.0 MiB/12.0 MiB" in upload and "5.0s" in upload
    assert "━" in upload  # the bar
    assert "failed" in lines["npm:publish"] and "E401" in lines["npm:publish"]
    assert "next: set NPM_TOKEN, then run `shipit resume`" in screen
    assert "waiting" in lines["notify"]
    assert "2/5 steps done · 1 running · 10.0s" in screen


def test_elapsed_time_advances_while_running() -> None:
    clock = FakeClock(100.0)
    view = LiveView(Console(record=True, width=100), ["pypi:publish"], clock=clock)
    view(StepEvent("running", "pypi:publish", at=100.0))
    assert "0.0s" in _screen(view)
    clock.now = 172.0
    assert "1m12s" in _screen(view)


def test_retry_and_outcome_are_visible() -> None:
    view = LiveView(Console(record=True, width=100), ["jsr:publish"], clock=FakeClock(50.0))
    view(ReleaseEvent("started", tag="v3.0.0", version="3.0.0", at=10.0))
    view(StepEvent("running", "jsr:publish", at=11.0))
    view(StepEvent("retrying", "jsr:publish", "HTTP 503; attempt 2 in 2.0s", attempt=1, at=12.0))
    screen = _screen(view)
    assert "retrying" in screen and "HTTP 503; attempt 2 in 2.0s" in screen
    view(StepEvent("done", "jsr:publish", at=15.0))
    view(ReleaseEvent("succeeded", tag="v3.0.0", version="3.0.0", at=16.0))
    screen = _screen(view)
    assert "release succeeded" in screen
    assert "1/1 steps done · 6.0s" in screen


def test_rollback_states() -> None:
    view = LiveView(
        Console(record=True, width=100), ["git:tag", "pypi:publish"], clock=FakeClock(9)
    )
    view(StepEvent("undoing", "git:tag", at=1.0))
    view(StepEvent("undone", "git:tag", "deleted tag v1.0.0", at=2.0))
    view(
        StepEvent(
            "irreversible",
            "pypi:publish",
            "files on PyPI cannot be deleted",
            hint="yank 1.0.0 on pypi.org",
            at=3.0,
        )
    )
    screen = _screen(view)
    assert "undone" in screen and "deleted tag v1.0.0" in screen
    assert "cannot undo" in screen and "next: yank 1.0.0 on pypi.org" in screen


def test_live_view_as_context_prints_final_state_on_plain_console() -> None:
    console = Console(record=True, width=100)
    with LiveView(console, ["git:push"]) as view:
        view(StepEvent("running", "git:push"))
        view(StepEvent("done", "git:push", "pushed v1.0.0"))
    assert "pushed v1.0.0" in console.export_text()


def test_secrets_never_reach_the_screen() -> None:
    register("tok-live-view-98765")
    view = LiveView(Console(record=True, width=100), ["npm:publish"], clock=FakeClock(5))
    view(StepEvent("failed", "npm:publish", "bad token tok-live-view-98765", at=1.0))
    screen = _screen(view)
    assert "tok-live-view-98765" not in screen and "bad token ***" in screen


def test_plain_output_off_a_terminal_one_line_per_transition() -> None:
    out = io.StringIO()
    view = release_view(Console(file=out), ["npm:publish", "notify"])
    with view:
        view(ReleaseEvent("started", tag="v1.0.0", version="1.0.0", at=0.0))
        view(StepEvent("waiting", "npm:publish", at=0.0))
        view(StepEvent("running", "npm:publish", at=1.0))
        view(StepEvent("progress", "npm:publish", completed=10, total=100, at=1.5))
        view(StepEvent("retrying", "npm:publish", "E503; attempt 2 in 1.0s", attempt=1, at=2.0))
        view(StepEvent("done", "npm:publish", "published", at=4.0))
        view(ReleaseEvent("failed", tag="v1.0.0", version="1.0.0", failed_step="notify"))
    lines = out.getvalue().splitlines()
    assert "\x1b[" not in out.getvalue()
    assert lines[0].startswith("release v1.0.0") and "started" in lines[0]
    assert lines[1] == "npm:publish: running"
    assert lines[2].startswith("npm:publish: retrying") and "E503; attempt 2 in 1.0s" in lines[2]
    assert lines[3] == "npm:publish: done (3.0s): published"
    assert "failed at notify" in lines[4]
    assert len(lines) == 5  # waiting and progress are not transitions


def test_release_view_is_plain_off_a_terminal_or_in_ci() -> None:
    assert isinstance(release_view(Console(file=io.StringIO())), PlainReporter)
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(release_view(terminal), LiveView)
    assert isinstance(release_view(terminal, ci=True), PlainReporter)
