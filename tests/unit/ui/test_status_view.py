"""The status dashboard says, for each situation, what a person should type next."""

from __future__ import annotations

from rich.console import Console

from shipit.commands.status import next_steps
from shipit.live_versions import LiveVersion
from shipit.redact import register
from shipit.ui.status_view import (
    GitInfo,
    ProjectInfo,
    ReleaseInfo,
    SourceInfo,
    StatusReport,
    StepInfo,
    render,
)

PROJECT = ProjectInfo(
    name="demo",
    root="/p",
    version="1.2.0",
    consistent=True,
    sources=[SourceInfo("deno.json", "deno.json", "1.2.0")],
    targets={"npm": "demo"},
)
GIT = GitInfo("main", "a" * 40, True, "v1.1.0", None)


def _release(state: str, running: bool = False, steps: list[StepInfo] | None = None) -> ReleaseInfo:
    return ReleaseInfo(
        tag="v1.2.0",
        version="1.2.0",
        state=state,
        started_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:01:00Z",
        directory="/p/.shipit/releases/v1.2.0",
        running=running,
        holder="pid 42 on host, `shipit release` since 2026-01-01T00:00:00Z" if running else None,
        steps=steps or [],
    )


def _commands(release: ReleaseInfo | None, live: list[LiveVersion] | None = None) -> list[str]:
    return [n.command for n in next_steps(PROJECT, GIT, release, live or [])]


def test_next_steps_for_each_situation() -> None:
    assert _commands(None) == ["shipit check", "shipit release"]
    failed = _release(
        "failed",
        steps=[
            StepInfo("git:tag", "done", 1, 0.2, []),
            StepInfo("npm:publish", "failed", 3, 4.0, [], "E401", "set NPM_TOKEN"),
        ],
    )
    assert _commands(failed) == ["shipit resume", "shipit rollback"]
    why = next_steps(PROJECT, GIT, failed, [])[0].why
    assert "1 step(s) left, npm:publish failed (first: set NPM_TOKEN)" in why
    assert _commands(_release("interrupted")) == ["shipit resume", "shipit rollback"]
    assert _commands(_release("releasing", running=True)) == ["shipit status --watch"]
    assert _commands(_release("released")) == ["shipit version set <next>"]
    assert _commands(_release("rolled-back")) == ["shipit release"]
    # no journal, but the tag exists and every registry has the version: already released
    live = [LiveVersion("npm", "demo", "http://r/", latest="1.2.0", has_current=True)]
    tagged = GitInfo("main", "a" * 40, True, "v1.2.0", None)
    assert [n.command for n in next_steps(PROJECT, tagged, None, live)] == [
        "shipit version set <next>"
    ]
    inconsistent = ProjectInfo("demo", "/p", "1.2.0", False, [], {})
    assert next_steps(inconsistent, GIT, None, [])[0].command == "shipit version sync"
    broken = ProjectInfo(None, "/p", None, False, [], {}, error="deno.json is not valid JSON")
    assert next_steps(broken, GIT, None, [])[0].command == "shipit version"


def test_dashboard_render_shows_steps_errors_and_masks_secrets() -> None:
    register("sekret-in-evidence-123")
    report = StatusReport(
        project=PROJECT,
        git=GIT,
        live=[
            LiveVersion(
                "npm", "demo", "http://r/", latest="1.1.0", current="1.2.0", has_current=False
            ),
            LiveVersion("pypi", "demo", "http://p/", error="cannot connect to http://p/"),
        ],
        release=_release(
            "failed",
            steps=[
                StepInfo(
                    "npm:publish",
                    "failed",
                    2,
                    61.0,
                    ["http://r/?t=sekret-in-evidence-123"],
                    "E401",
                    "set NPM_TOKEN",
                ),
                StepInfo("notify", "pending", 0, None, []),
            ],
        ),
        next=next_steps(PROJECT, GIT, _release("failed"), []),
    )
    console = Console(record=True, width=120)
    console.print(render(report))
    screen = console.export_text()
    assert "shipit status: demo" in screen
    assert "1.2.0 not yet" in screen and "cannot connect to http://p/" in screen
    assert "Release v1.2.0 failed" in screen
    assert "✗ failed" in screen and "1m01s" in screen and "next: set NPM_TOKEN" in screen
    assert "sekret-in-evidence-123" not in screen and "http://r/?t=***" in screen
    assert "→ shipit resume" in screen
    assert report.to_json()["release"]["steps"][0]["attempts"] == 2


def test_dashboard_on_narrow_terminals_folds_long_ids_and_urls_without_cutting() -> None:
    url = "http://127.0.0.1:42137/shipit-sandbox/project/releases/download/v1.2.0/app.tar.gz"
    step = "github:asset:hello-1.2.0-aarch64-macos.tar.gz"
    report = StatusReport(
        project=PROJECT,
        git=GIT,
        live=[LiveVersion("github", "shipit-sandbox/project", url, latest="v1.2.0")],
        release=_release("released", steps=[StepInfo(step, "done", 1, 0.2, [url])]),
        next=[],
    )
    for width in (80, 60):
        console = Console(record=True, width=width)
        console.print(render(report))
        screen = console.export_text()
        assert max(len(line) for line in screen.splitlines()) <= width
        # every character of the step id and the URL is on screen, folded over lines
        rows = [line.split("│") for line in screen.splitlines() if line.count("│") == 4]
        first = "".join(r[0].strip() for r in rows)
        last = "".join(r[4].strip() for r in rows)
        assert step in first, screen
        assert url in last, screen


def test_a_tag_driven_project_is_told_to_name_its_next_version() -> None:
    """Its version lives in the tags: `version set` writes nothing; the release names it."""
    tagged = ProjectInfo("demo", "/p", "1.2.0", True, [], {"jsr": "@d/demo"}, tag_driven=True)
    released = next_steps(tagged, GIT, _release("released"), [])
    assert [n.command for n in released] == ["shipit release --version <next>"]
    fresh = ProjectInfo("demo", "/p", None, True, [], {"jsr": "@d/demo"}, tag_driven=True)
    assert [n.command for n in next_steps(fresh, GIT, None, [])] == [
        "shipit release --version 0.1.0"
    ]
