"""SIGKILL of the real `shipit release` at every step boundary and mid-step, then
`shipit resume` completes with every side effect exactly once; and a release whose journal
was deleted finishes from the probes alone."""

from __future__ import annotations

import json
import shutil
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from releasehelp import Project, make_project

from shipit.sandbox.git_remote import GitRepo

STEPS = ["command:pre", "git:commit", "git:tag", "git:push", "command:post"]
POINTS = ["before", "during", "after"]


@pytest.fixture
def project(git_repo: GitRepo, tmp_path: Path) -> Project:
    return make_project(git_repo, tmp_path)


def assert_released_exactly_once(project: Project) -> None:
    head = project.repo.head()
    assert project.git("log", "-1", "--format=%s").strip() == "chore(release): v1.3.0"
    assert project.git("rev-parse", "HEAD~1").strip() == project.base  # one release commit
    assert json.loads((project.path / "package.json").read_text())["version"] == "1.3.0"
    refs = project.remote_refs()
    assert refs["refs/heads/main"] == head
    assert project.remote_tags() == ["refs/tags/v1.3.0"]  # one tag, on the release commit
    assert refs["refs/tags/v1.3.0^{}"] == head
    assert project.local_tags() == ["v1.3.0"]
    assert project.effect_lines() == ["pre", "post"]  # each command ran once
    assert project.git("status", "--porcelain") == ""


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("step", STEPS)
def test_kill_then_resume_finishes_exactly_once(project: Project, step: str, point: str) -> None:
    killed = project.shipit(
        "release",
        "--yes",
        "--skip-checks",
        "--version",
        "1.3.0",
        SHIPIT_TEST_FAULT=f"kill@{step}:{point}",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"SHIPIT_TEST_FAULT: kill at {step}:{point}" in killed.stderr
    journal = project.journal("v1.3.0")
    assert journal["state"] == "releasing"  # as the kill left it
    resumed = project.shipit("resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert_released_exactly_once(project)
    assert project.journal("v1.3.0")["state"] == "released"


@pytest.mark.slow
def test_lost_journal_release_again_finishes_from_probes(project: Project) -> None:
    killed = project.shipit(
        "release",
        "--yes",
        "--skip-checks",
        "--version",
        "1.3.0",
        SHIPIT_TEST_FAULT="kill@command:post:before",
    )
    assert killed.returncode == -signal.SIGKILL
    shutil.rmtree(project.path / ".shipit")
    again = project.shipit("release", "--yes", "--skip-checks", "--version", "1.3.0")
    assert again.returncode == 0, again.stderr
    for step in ("command:pre", "git:commit", "git:tag", "git:push"):
        assert f"{step}: already done" in again.stderr
    assert "command:post: done" in again.stderr
    assert_released_exactly_once(project)


@pytest.mark.slow
def test_lost_journal_mid_commit_release_again_commits_once(project: Project) -> None:
    killed = project.shipit(
        "release",
        "--yes",
        "--skip-checks",
        "--version",
        "1.3.0",
        SHIPIT_TEST_FAULT="kill@git:commit:during",  # version written, not committed
    )
    assert killed.returncode == -signal.SIGKILL
    shutil.rmtree(project.path / ".shipit")
    again = project.shipit("release", "--yes", "--skip-checks", "--version", "1.3.0")
    assert again.returncode == 0, again.stderr
    assert_released_exactly_once(project)
