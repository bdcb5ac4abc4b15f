"""CI mode: detection, GitHub Actions annotations and the job summary a person reads."""

from __future__ import annotations

import io
from pathlib import Path

from shipit.ci import GithubActionsReporter, annotation, ci_listeners, is_ci
from shipit.engine.events import ReleaseEvent, StepEvent
from shipit.redact import register


def test_ci_detection() -> None:
    assert is_ci({"CI": "true"})
    assert is_ci({"CI": "1"})
    assert is_ci({"GITHUB_ACTIONS": "true"})
    assert is_ci({}, flag=True)
    assert not is_ci({})
    assert not is_ci({"CI": "false"})


def test_annotation_escapes_like_the_actions_toolkit() -> None:
    line = annotation("error", "100% broken\nrun: shipit resume", "a: b, c")
    assert line == "::error title=a%3A b%2C c::100%25 broken%0Arun: shipit resume"


def _release(reporter: GithubActionsReporter) -> None:
    reporter(ReleaseEvent("started", tag="v1.2.0", version="1.2.0", at=100.0))
    reporter(StepEvent("already-done", "git:tag", "tag v1.2.0 already at 3f2a1bc", at=101.0))
    reporter(StepEvent("running", "npm:publish", at=101.0))
    reporter(StepEvent("retrying", "npm:publish", "E503", attempt=1, at=102.0))
    reporter(StepEvent("done", "npm:publish", at=105.5))
    reporter(StepEvent("running", "pypi:publish", at=101.0))
    reporter(
        StepEvent(
            "failed",
            "pypi:publish",
            "PyPI rejected the token: 403 Invalid or non-existent authentication",
            hint="set PYPI_TOKEN to a token for this project, then run `shipit resume`",
            at=103.0,
        )
    )
    reporter(
        ReleaseEvent(
            "failed",
            tag="v1.2.0",
            version="1.2.0",
            message="1 step failed",
            failed_step="pypi:publish",
            hint="shipit resume",
            at=106.0,
        )
    )


def test_failed_release_annotates_and_writes_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step output\n")
    out = io.StringIO()
    evidence = {
        "npm:publish": {
            "url": "http://127.0.0.1:4873/demo/-/demo-1.2.0.tgz",
            "upload_url": "http://127.0.0.1:9/uploads/releases/1/assets{?name,label}",
        }
    }
    [reporter] = ci_listeners(
        {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
        stream=out,
        step_ids=["git:tag", "npm:publish", "pypi:publish", "notify"],
        evidence_of=lambda sid: evidence.get(sid, {}),
    )
    assert isinstance(reporter, GithubActionsReporter)
    _release(reporter)

    printed = out.getvalue().splitlines()
    # one annotation for the failing step (the release failure names the same step)
    assert printed == [
        "::error title=shipit%3A pypi%3Apublish failed::PyPI rejected the token: 403 Invalid or "
        "non-existent authentication%0ANext: set PYPI_TOKEN to a token for this project, "
        "then run `shipit resume`"
    ]
    text = summary.read_text()
    assert text.startswith("# earlier step output\n")  # appended, never overwritten
    assert "## ❌ shipit release v1.2.0: failed" in text
    assert "Version `1.2.0`, tag `v1.2.0`. Took 6.0s." in text
    assert "**Failed at `pypi:publish`:** 1 step failed" in text
    assert "**Next:** shipit resume" in text
    assert "| `git:tag` | ☑️ already done |" in text
    assert (
        "| `npm:publish` | ✅ done | 2 | 4.5s | http://127.0.0.1:4873/demo/-/demo-1.2.0.tgz |"
        in text
    )
    assert "| `pypi:publish` | ❌ failed | 1 | 2.0s | PyPI rejected the token" in text
    assert "| `notify` | ⏸️ not started |" in text


def test_succeeded_release_summary_and_no_annotations(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    out = io.StringIO()
    reporter = GithubActionsReporter({"GITHUB_STEP_SUMMARY": str(summary)}, stream=out)
    reporter(ReleaseEvent("started", tag="v2.0.0", version="2.0.0", at=0.0))
    reporter(StepEvent("running", "github:publish", at=1.0))
    reporter(
        StepEvent("done", "github:publish", "http://127.0.0.1:9/o/r/releases/tag/v2.0.0", at=2.0)
    )
    reporter(ReleaseEvent("succeeded", tag="v2.0.0", version="2.0.0", at=3.0))
    assert out.getvalue() == ""
    text = summary.read_text()
    assert "## 🚀 shipit release v2.0.0: succeeded" in text
    assert "http://127.0.0.1:9/o/r/releases/tag/v2.0.0" in text


def test_secrets_are_redacted_in_annotations_and_summary(tmp_path: Path) -> None:
    register("ci-secret-token-4242")
    summary = tmp_path / "s.md"
    out = io.StringIO()
    reporter = GithubActionsReporter({"GITHUB_STEP_SUMMARY": str(summary)}, stream=out)
    reporter(ReleaseEvent("started", tag="v1.0.0", version="1.0.0"))
    reporter(StepEvent("failed", "npm:publish", "token ci-secret-token-4242 rejected"))
    reporter(ReleaseEvent("failed", tag="v1.0.0", version="1.0.0", failed_step="npm:publish"))
    assert "ci-secret-token-4242" not in out.getvalue()
    assert "ci-secret-token-4242" not in summary.read_text()
    assert "token *** rejected" in out.getvalue()


def test_interrupted_without_step_annotates_release(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = GithubActionsReporter({}, stream=out)
    reporter(ReleaseEvent("interrupted", tag="v1.0.0", version="1.0.0", hint="shipit resume"))
    assert out.getvalue().startswith("::error title=shipit%3A release v1.0.0 interrupted::")


def test_no_listeners_outside_github_actions() -> None:
    assert ci_listeners({"CI": "true"}) == []
