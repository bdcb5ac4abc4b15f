"""`shipit plan/release/resume/rollback/tag` end to end: the real CLI, a real git repository
and a real bare remote; user command steps stand in for publishers."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from releasehelp import POST_NEEDS_FLAG, Project, make_project

from shipit.engine.documents import PlanDocument
from shipit.sandbox.git_remote import GitRepo


@pytest.fixture
def project(git_repo: GitRepo, tmp_path: Path) -> Project:
    return make_project(git_repo, tmp_path)


@pytest.fixture
def flaky(git_repo: GitRepo, tmp_path: Path) -> Project:
    """A project whose `post` command fails until the flag file exists."""
    return make_project(git_repo, tmp_path, post=POST_NEEDS_FLAG)


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_plan_json_lists_every_step_with_its_live_state(project: Project) -> None:
    result = project.shipit("--json", "plan", "--version", "1.3.0")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert PlanDocument.model_validate(doc).format == "shipit-plan/1"  # the documented schema
    assert doc["release"] == {
        "version": "1.3.0",
        "tag": "v1.3.0",
        "commit": project.base,
        "tag_source": "the default: no release tags yet",  # tag-format unset, no tags to learn from
    }
    ids = [s["id"] for s in doc["steps"]]
    assert ids == [
        "git:commit",
        "checks",
        "command:pre",
        "gate:release",
        "git:tag",
        "git:push",
        "command:post",
    ]
    for step in doc["steps"]:
        assert set(step) >= {"id", "needs", "state", "reversible", "description"}
        assert step["state"] == "todo"
    assert next(s for s in doc["steps"] if s["id"] == "git:push")["needs"] == [
        "git:commit",
        "checks",
        "command:pre",
        "gate:release",
        "git:tag",
    ]
    assert next(s for s in doc["steps"] if s["id"] == "command:pre")["reversible"] is False
    assert {t["name"]: t["enabled"] for t in doc["targets"]}["npm"] is False


def test_release_tags_and_pushes_exactly_once(project: Project) -> None:
    result = project.shipit("release", "--yes", "--skip-checks")
    assert result.returncode == 0, result.stderr
    assert "released v1.2.3" in result.stderr
    refs = project.remote_refs()
    assert refs["refs/tags/v1.2.3^{}"] == project.base
    tag_object = refs["refs/tags/v1.2.3"]
    assert project.git("cat-file", "-t", "v1.2.3").strip() == "tag"  # annotated
    assert project.effect_lines() == ["pre", "post"]
    journal = project.journal("v1.2.3")
    assert journal["state"] == "released"
    assert {k: v["state"] for k, v in journal["steps"].items()} == {
        "checks": "done",
        "command:pre": "done",
        "gate:release": "done",
        "git:tag": "done",
        "git:push": "done",
        "command:post": "done",
    }
    assert (project.path / ".shipit" / "releases" / "v1.2.3" / "shipit.log").stat().st_size > 0
    # again: every probe says done, nothing is repeated (the invariants are verified again)
    again = project.shipit("release", "--yes", "--skip-checks")
    assert again.returncode == 0, again.stderr
    assert "2 step(s) done, 4 already done" in again.stderr
    assert project.remote_refs()["refs/tags/v1.2.3"] == tag_object
    assert project.effect_lines() == ["pre", "post"]
    status = project.git("status", "--porcelain")
    assert status == ""  # .shipit/ is excluded from git


def test_release_with_new_version_makes_one_release_commit(project: Project) -> None:
    result = project.shipit("release", "--yes", "--skip-checks", "--version", "1.3.0")
    assert result.returncode == 0, result.stderr
    head = project.repo.head()
    assert project.git("log", "-1", "--format=%s").strip() == "chore(release): v1.3.0"
    assert project.git("rev-parse", "HEAD~1").strip() == project.base
    assert json.loads((project.path / "package.json").read_text())["version"] == "1.3.0"
    refs = project.remote_refs()
    assert refs["refs/heads/main"] == head
    assert refs["refs/tags/v1.3.0^{}"] == head


def test_failed_release_then_resume(flaky: Project) -> None:
    failed = flaky.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3, failed.stderr  # the tag is out: incomplete, resumable
    assert "failed: command:post" in failed.stderr
    assert "shipit resume" in failed.stderr and "shipit rollback" in failed.stderr
    journal = flaky.journal("v1.2.3")
    assert journal["state"] == "failed"
    assert journal["steps"]["command:post"]["state"] == "failed"
    assert "exited with 1" in journal["steps"]["command:post"]["error"]["why"]
    assert flaky.remote_tags() == ["refs/tags/v1.2.3"]

    flaky.flag.write_text("fixed")
    resumed = flaky.shipit("resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "command:post: done" in resumed.stderr
    assert "git:tag: already done" in resumed.stderr
    assert flaky.effect_lines() == ["pre", "post"]
    assert flaky.remote_tags() == ["refs/tags/v1.2.3"]
    assert flaky.journal("v1.2.3")["state"] == "released"
    nothing = flaky.shipit("resume", "--yes")
    assert nothing.returncode == 2 and "is released" in nothing.stderr


def test_failed_release_then_rollback_removes_the_tag_everywhere(flaky: Project) -> None:
    failed = flaky.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3, failed.stderr
    assert flaky.local_tags() == ["v1.2.3"]
    rolled = flaky.shipit("rollback", "--yes")
    assert rolled.returncode == 1, rolled.stderr  # command:pre has no undo command
    assert flaky.local_tags() == []
    assert flaky.remote_tags() == []
    assert "command:pre: irreversible" in rolled.stderr
    assert "add `undo = " in rolled.stderr
    journal = flaky.journal("v1.2.3")
    assert journal["state"] == "partly-rolled-back"
    assert journal["steps"]["git:tag"]["state"] == "undone"
    assert journal["steps"]["git:push"]["state"] == "undone"
    again = flaky.shipit("rollback", "--yes")  # what is left still needs the user
    assert again.returncode == 1
    assert "command:pre: cannot be undone" in again.stderr
    assert flaky.journal("v1.2.3")["state"] == "partly-rolled-back"


def test_rollback_of_a_release_commit_already_pushed_says_how_to_revert(project: Project) -> None:
    done = project.shipit("release", "--yes", "--skip-checks", "--version", "1.3.0")
    assert done.returncode == 0, done.stderr
    rolled = project.shipit("rollback", "--yes")
    assert project.remote_tags() == [] and project.local_tags() == []
    assert project.effect_lines() == ["pre"]  # post's undo command ran
    assert "git revert" in rolled.stderr
    assert rolled.returncode == 1


def test_resume_refuses_when_head_moved(flaky: Project) -> None:
    failed = flaky.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3
    flaky.repo.commit("unrelated work")
    refused = flaky.shipit("resume", "--yes")
    assert refused.returncode == 2
    assert "HEAD moved" in refused.stderr
    assert "shipit rollback" in refused.stderr


def test_second_concurrent_release_is_refused_naming_the_pid(
    project: Project, tmp_path: Path
) -> None:
    mark = tmp_path / "paused"
    first = project.popen(
        "release",
        "--yes",
        "--skip-checks",
        SHIPIT_TEST_FAULT="pause@git:tag:before",
        SHIPIT_TEST_FAULT_MARK=str(mark),
    )
    try:
        wait_for(mark)
        second = project.shipit("release", "--yes", "--skip-checks")
        assert second.returncode == 1
        assert "another shipit release is running" in second.stderr
        assert f"PID {first.pid}" in second.stderr
        Path(str(mark) + ".go").write_text("")
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
    assert project.remote_tags() == ["refs/tags/v1.2.3"]


def test_sigterm_stops_cleanly_then_resume_finishes(project: Project, tmp_path: Path) -> None:
    mark = tmp_path / "paused"
    proc = project.popen(
        "release",
        "--yes",
        "--skip-checks",
        SHIPIT_TEST_FAULT="pause@git:push:before",
        SHIPIT_TEST_FAULT_MARK=str(mark),
    )
    try:
        wait_for(mark)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        Path(str(mark) + ".go").write_text("")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    journal = project.journal("v1.2.3")
    assert journal["state"] == "interrupted"
    assert journal["steps"]["git:push"]["state"] == "pending"
    assert project.remote_tags() == []
    resumed = project.shipit("resume", "--yes")  # the lock was released
    assert resumed.returncode == 0, resumed.stderr
    assert project.remote_tags() == ["refs/tags/v1.2.3"]


def snapshot(project: Project) -> dict[str, object]:
    files = {
        str(p.relative_to(project.path)): p.read_bytes()
        for p in sorted(project.path.rglob("*"))
        if p.is_file()
        and ".git/objects" not in str(p)
        and not p.name.endswith(".lock")
        and p.name != "index"
    }
    return {
        "remote": project.remote_refs(),
        "refs": project.git("for-each-ref"),
        "status": project.git("status", "--porcelain", "--ignored"),
        "files": files,
        "effects": project.effect_lines(),
    }


def test_dry_run_changes_nothing_anywhere(project: Project) -> None:
    before = snapshot(project)
    result = project.shipit("release", "--dry-run", "--version", "1.3.0")
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing was changed" in result.stderr
    assert "git:commit" in result.stderr and "git push origin" in result.stderr
    assert snapshot(project) == before
    assert not (project.path / ".shipit").exists()


def test_journal_is_written_when_the_release_starts_and_plan_only_reads_it(
    flaky: Project,
) -> None:
    journal_path = flaky.path / ".shipit" / "releases" / "v1.2.3" / "journal.json"
    refused = flaky.shipit("release", "--skip-checks")  # no --yes and no terminal to ask on
    assert refused.returncode == 2, refused.stderr
    assert "without confirmation" in refused.stderr
    assert not journal_path.exists()  # a plan shown and not confirmed leaves no journal
    failed = flaky.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3, failed.stderr
    written = journal_path.read_bytes()
    planned = flaky.shipit("--json", "plan")
    assert planned.returncode == 0, planned.stderr
    states = {s["id"]: s["state"] for s in json.loads(planned.stdout)["steps"]}
    assert states["git:tag"] == "already-done" and states["command:post"] == "todo"
    dry = flaky.shipit("release", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert journal_path.read_bytes() == written
    assert sorted(p.name for p in journal_path.parent.glob("journal*.json")) == ["journal.json"]


def test_tag_command_only_tags_and_pushes(project: Project) -> None:
    result = project.shipit("tag", "--yes")
    assert result.returncode == 0, result.stderr
    assert project.remote_tags() == ["refs/tags/v1.2.3"]
    assert project.effect_lines() == []  # the command steps are not part of `shipit tag`


def test_conflicting_tag_is_never_moved(project: Project) -> None:
    project.repo.commit("something else")
    project.git("tag", "-a", "v1.2.3", "-m", "someone else's", "HEAD")
    elsewhere = project.git("rev-parse", "v1.2.3^{commit}").strip()
    project.git("reset", "--quiet", "--hard", project.base)
    result = project.shipit("release", "--yes", "--skip-checks")
    assert result.returncode == 1, result.stderr
    # the release invariants find it before the tag step would (its probe: a CONFLICT)
    assert "tag v1.2.3 already exists locally and points at" in result.stderr
    assert "nothing was tagged, pushed or published" in result.stderr
    assert project.git("rev-parse", "v1.2.3^{commit}").strip() == elsewhere
    assert project.remote_tags() == []


def test_sigint_terminates_a_running_command_and_exits_130(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    pidfile = tmp_path / "child.pid"
    slow = make_project(git_repo, tmp_path, post='echo $$ > \\"$PIDFILE\\"; exec sleep 60')
    proc = slow.popen("release", "--yes", "--skip-checks", PIDFILE=str(pidfile))
    try:
        wait_for(pidfile)
        time.sleep(0.2)
        child = int(pidfile.read_text())
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 10  # did not wait for the 60 s sleep
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    journal = slow.journal("v1.2.3")
    assert journal["state"] == "interrupted"
    assert journal["steps"]["command:post"]["state"] == "pending"
    assert journal["steps"]["git:push"]["state"] == "done"
    assert not (slow.path / ".shipit" / "lock.json").exists()  # lock released


def test_resume_refuses_when_the_version_changed(flaky: Project) -> None:
    failed = flaky.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3
    manifest = flaky.path / "package.json"
    manifest.write_text(manifest.read_text().replace("1.2.3", "1.2.4"))
    refused = flaky.shipit("resume", "--yes")
    assert refused.returncode == 2, refused.stderr
    assert "the version changed" in refused.stderr
    assert "1.2.4" in refused.stderr


def test_step_by_step_tag_inside_a_failed_release_keeps_it_resumable(flaky: Project) -> None:
    failed = flaky.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3
    tagged = flaky.shipit("tag", "--yes")
    assert tagged.returncode == 0, tagged.stderr
    assert "git:tag: already done" in tagged.stderr
    journal = flaky.journal("v1.2.3")
    assert journal["state"] == "failed"  # command:post is still to do
    log = (flaky.path / ".shipit" / "releases" / "v1.2.3" / "shipit.log").read_text()
    assert "command:post: failed" in log and "git:tag: already-done" in log
    flaky.flag.write_text("fixed")
    assert flaky.shipit("resume", "--yes").returncode == 0
    assert flaky.effect_lines() == ["pre", "post"]


def test_second_ctrl_c_leaves_at_once_with_a_consistent_journal(
    project: Project, tmp_path: Path
) -> None:
    mark = tmp_path / "paused"  # the step hangs (paused) and ignores the first Ctrl-C
    proc = project.popen(
        "release",
        "--yes",
        "--skip-checks",
        SHIPIT_TEST_FAULT="pause@command:post:before",
        SHIPIT_TEST_FAULT_MARK=str(mark),
    )
    try:
        wait_for(mark)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None  # still waiting for the running step
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    journal = project.journal("v1.2.3")
    assert journal["state"] == "interrupted"
    assert journal["steps"]["command:post"]["state"] == "pending"
    resumed = project.shipit("resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert project.effect_lines() == ["pre", "post"]


def test_a_dirty_tree_releases_nothing(project: Project) -> None:
    (project.path / "stray.txt").write_text("uncommitted\n")
    result = project.shipit("release", "--yes")
    assert result.returncode == 1, result.stderr
    # a release invariant, refused before a journal is written or anything is built
    assert "the release cannot start: the work tree has 1 uncommitted change" in result.stderr
    assert "stray.txt" in result.stderr
    assert project.remote_tags() == [] and project.local_tags() == []
    assert project.effect_lines() == []
    assert not (project.path / ".shipit" / "releases").exists()


def test_checks_before_release_judge_the_version_given_with_flag(project: Project) -> None:
    first = project.shipit("release", "--yes", "--skip-checks")
    assert first.returncode == 0, first.stderr
    # the manifests still say 1.2.3, already tagged: with --version the checks judge 1.3.0
    result = project.shipit("release", "--yes", "--version", "1.3.0")
    assert result.returncode == 0, result.stdout + result.stderr
    # the release commit comes first: the checks read 1.3.0 from the manifests
    results = project.journal("v1.3.0")["steps"]["checks"]["evidence"]["results"]
    assert results["versions"] == "passed"
    assert project.remote_refs()["refs/tags/v1.3.0^{}"] == project.repo.head()
    # an older version given with the flag is refused by the same check
    again = project.shipit("release", "--yes", "--version", "1.2.3")
    assert again.returncode == 1
    assert "not greater than the last release v1.3.0" in again.stderr


def test_in_github_actions_a_release_writes_the_job_summary_and_error_annotations(
    flaky: Project, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    failed = flaky.shipit("release", "--yes", "--skip-checks", **actions)
    assert failed.returncode == 3, failed.stderr
    annotations = [line for line in failed.stdout.splitlines() if line.startswith("::error")]
    # properties are escaped as GitHub expects (":" -> %3A)
    assert annotations and "title=shipit%3A command%3Apost failed" in annotations[0]
    text = summary.read_text()
    assert "## ❌ shipit release v1.2.3: failed" in text
    assert "**Failed at `command:post`:**" in text
    flaky.flag.write_text("")
    resumed = flaky.shipit("resume", "--yes", **actions)
    assert resumed.returncode == 0, resumed.stderr
    assert "## 🚀 shipit release v1.2.3: succeeded" in summary.read_text()
