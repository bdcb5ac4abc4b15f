"""The release flow through the real CLI: the lock before the checks, `plan`'s exit code.

A project in a real git repository with a real bare remote; user command steps stand in
for publishers (tests/e2e/releasehelp.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from releasehelp import Project, make_project

from shipit.sandbox.git_remote import GitRepo


@pytest.fixture
def project(git_repo: GitRepo, tmp_path: Path) -> Project:
    return make_project(git_repo, tmp_path)


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_release_finds_the_lock_before_running_any_check(
    project: Project, tmp_path: Path
) -> None:
    ran = tmp_path / "checks-ran"
    toml = project.path / "shipit.toml"
    toml.write_text(
        toml.read_text() + f"\n[checks.test]\ncommand = \"sh -c 'echo test >> {ran}'\"\n"
    )
    project.git("commit", "-qam", "a test command that leaves a trace")
    project.git("push", "-q")
    mark = tmp_path / "paused"
    first = project.popen(
        "release",
        "--yes",
        SHIPIT_TEST_FAULT="pause@git:tag:before",
        SHIPIT_TEST_FAULT_MARK=str(mark),
    )
    try:
        wait_for(mark)
        assert ran.read_text().splitlines() == ["test"]  # the first release ran its checks
        second = project.shipit("release", "--yes")
        assert second.returncode == 1, second.stderr
        assert "another shipit release is running" in second.stderr
        assert f"PID {first.pid}" in second.stderr
        assert ran.read_text().splitlines() == ["test"]  # the second ran no check at all
        Path(str(mark) + ".go").write_text("")
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
    assert project.remote_tags() == ["refs/tags/v1.2.3"]


def test_plan_exits_1_on_a_conflict_like_dry_run_and_0_when_all_is_to_do(
    project: Project,
) -> None:
    fine = project.shipit("plan")
    assert fine.returncode == 0, fine.stderr
    fine_json = project.shipit("--json", "plan")
    assert fine_json.returncode == 0, fine_json.stderr
    project.repo.commit("something else")
    project.git("tag", "-a", "v1.2.3", "-m", "someone else's", "HEAD")
    project.git("reset", "--quiet", "--hard", project.base)
    planned = project.shipit("plan")
    assert planned.returncode == 1, planned.stdout + planned.stderr
    assert "conflict" in planned.stdout and "points at" in planned.stdout
    as_json = project.shipit("--json", "plan")
    assert as_json.returncode == 1
    states = {s["id"]: s["state"] for s in json.loads(as_json.stdout)["steps"]}
    assert states["git:tag"] == "conflict"
    dry = project.shipit("release", "--dry-run")
    assert dry.returncode == 1, dry.stderr


def test_a_bare_tag_is_not_a_release(git_repo: GitRepo) -> None:
    git_repo.commit(
        "no target",
        {
            "package.json": '{\n  "name": "demo",\n  "version": "1.2.3"\n}\n',
            "shipit.toml": "[npm]\nenabled = false\n",
        },
    )
    git_repo.push()
    result = subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(git_repo.path), "release", "--yes"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "nothing to publish: npm, JSR, PyPI and GitHub are all off" in result.stderr
    assert "`[npm] enabled = true`" in result.stderr
    assert "npm: switched off in config" in result.stderr  # why each one is off
    assert git_repo.git("ls-remote", "--tags", "origin") == ""
    assert not (git_repo.path / ".shipit" / "releases").exists()
    planned = subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(git_repo.path), "plan"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    assert planned.returncode == 1  # the gate is blocked
    assert "blocked   gate:release" in planned.stdout


def test_rollback_after_version_restores_the_files_and_removes_the_commit(
    project: Project, tmp_path: Path
) -> None:
    mark = tmp_path / "paused"
    running = project.popen(
        "release",
        "--yes",
        "--skip-checks",
        "--version",
        "1.3.0",
        SHIPIT_TEST_FAULT="pause@git:push:before",
        SHIPIT_TEST_FAULT_MARK=str(mark),
    )
    try:
        wait_for(mark)
        assert json.loads((project.path / "package.json").read_text())["version"] == "1.3.0"
        running.send_signal(signal.SIGTERM)
        Path(str(mark) + ".go").write_text("")
        _, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 130, err
    assert project.repo.head() != project.base  # the release commit, local only
    rolled = project.shipit("rollback", "--yes")
    assert "git:commit: undone: removed release commit" in rolled.stderr, rolled.stderr
    assert project.repo.head() == project.base
    assert json.loads((project.path / "package.json").read_text())["version"] == "1.2.3"
    assert project.git("status", "--porcelain") == ""
    assert project.local_tags() == [] and project.remote_tags() == []
