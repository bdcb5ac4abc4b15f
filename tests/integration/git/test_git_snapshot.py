"""The run's git snapshot on real repositories: it answers what the one-question functions of
`shipit.git` answer, asks git each question once, and after shipit's own writes (tag, push,
commit) knows the new state without asking again, which a fresh read confirms."""

from __future__ import annotations

import logging
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipit import git as shipit_git
from shipit.errors import NotARepoError, PushRejectedError
from shipit.git_snapshot import Snapshot

Repo = Any  # the `repo` fixture of conftest.py: .path, .remote, .git(...), .commit(...)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def clone(repo: Repo, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(repo.remote), str(dest))
    git(dest, "config", "user.name", "Other")
    git(dest, "config", "user.email", "other@example.com")
    return dest


class Commands(logging.Handler):
    """The git commands shipit starts (the ``shipit.proc`` log), as ``git <subcommand>``."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("$ git "):
            self.seen.append(" ".join(message.split()[1:3]))

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.seen)


@pytest.fixture
def commands() -> Iterator[Commands]:
    handler = Commands()
    logger = logging.getLogger("shipit.proc")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def test_answers_what_the_single_questions_answer(repo: Repo) -> None:
    repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")
    repo.git("tag", "light")
    head = repo.commit("b.txt", "b\n", "second")
    repo.git("tag", "-a", "v1.1.0", "-m", "Release v1.1.0")
    repo.git("mv", "README.md", "READ.md")  # a rename: the new path is the change
    (repo.path / "new file.txt").write_text("untracked\n")
    (repo.path / "sub").mkdir()
    snap = Snapshot(repo.path / "sub")

    assert snap.top() == shipit_git.repo_root(repo.path)
    assert snap.head() == head == shipit_git.head_commit(repo.path)
    assert snap.branch() == "main" == shipit_git.current_branch(repo.path)
    assert snap.upstream() == "origin/main" == shipit_git.upstream(repo.path)
    assert (snap.work_tree().ahead, snap.work_tree().behind) == shipit_git.ahead_behind(repo.path)
    assert sorted(snap.changes()) == sorted(shipit_git.status_changes(repo.path))
    assert "READ.md" in snap.changes() and "new file.txt" in snap.changes()
    assert snap.list_tags() == sorted(shipit_git.list_tags(repo.path))
    for tag in ("v1.0.0", "light", "v1.1.0", "nope"):
        assert snap.local_tag_commit(tag) == shipit_git.local_tag_commit(repo.path, tag)
    assert snap.tags_at_head() == shipit_git.tags_at_head(repo.path) == ["v1.1.0"]
    assert snap.last_release_tag() == shipit_git.last_release_tag(repo.path) == "v1.1.0"
    assert snap.remote_url("origin") == shipit_git.remote_url(repo.path, "origin")
    assert snap.remote_url("upstream") is None


def test_remote_refs_come_from_one_ls_remote(repo: Repo, commands: Commands) -> None:
    repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")
    repo.git("push", "-q", "origin", "v1.0.0")
    snap = Snapshot(repo.path)
    head = repo.git("rev-parse", "HEAD")

    assert snap.remote_tag_commit("origin", "v1.0.0") == head  # peeled, not the tag object
    assert snap.remote_tag_commit("origin", "v1.0.0") == shipit_git.remote_tag_commit(
        repo.path, "origin", "v1.0.0"
    )
    assert snap.remote_tag_commit("origin", "v2.0.0") is None
    assert snap.remote_branch_commit("origin", "main") == head
    assert snap.remote_default_branch("origin") == "main"
    assert snap.head() == head and snap.local_tag_commit("v1.0.0") == head
    commands.seen.clear()
    for _ in range(3):
        snap.remote_tag_commit("origin", "v1.0.0")
        snap.remote_branch_commit("origin", "main")
        snap.head()
        snap.local_tag_commit("v1.0.0")
        snap.remote_url("origin")
    assert commands.seen == []  # everything was already known


def test_each_question_asks_git_once(repo: Repo, commands: Commands) -> None:
    snap = Snapshot(repo.path)
    for _ in range(3):
        shipit_git.state(
            repo.path, fetch_remote=True, tag="v1.0.0", snapshot=snap
        )  # what the git check reads
        snap.remote_default_branch("origin")
        snap.commit_message("HEAD")
    assert max(commands.counts.values()) == 1, commands.counts
    # the whole state of a repository, fetched (the status is read before the fetch, and
    # only ahead/behind counted again after it), with a release tag checked, and a message
    assert sorted(commands.counts) == [
        "git fetch",
        "git for-each-ref",
        "git log",
        "git ls-remote",
        "git remote",
        "git rev-list",
        "git rev-parse",
        "git status",
    ]


def test_a_tag_and_an_atomic_push_are_recorded_and_true(repo: Repo, commands: Commands) -> None:
    snap = Snapshot(repo.path)
    assert snap.remote_tag_commit("origin", "v1.1.0") is None
    head = repo.commit("c.txt", "c\n", "release commit")
    snap.forget(remote=False)  # committed behind its back: it must be told
    assert snap.head() == head
    assert snap.create_tag("v1.1.0", "Release v1.1.0", head) == head
    commands.seen.clear()
    snap.push("origin", [f"{head}:refs/heads/main", "refs/tags/v1.1.0"])
    assert commands.seen == ["git push"]  # one push for branch and tag
    assert snap.remote_tag_commit("origin", "v1.1.0") == head
    assert snap.remote_branch_commit("origin", "main") == head
    assert snap.local_tag_commit("v1.1.0") == head
    assert commands.seen == ["git push"]  # known without asking
    fresh = Snapshot(repo.path)
    assert fresh.remote_tag_commit("origin", "v1.1.0") == head
    assert fresh.remote_branch_commit("origin", "main") == head
    assert git(repo.remote, "cat-file", "-t", "refs/tags/v1.1.0") == "tag"  # annotated


def test_a_rejected_branch_push_pushes_no_tag_either(repo: Repo, tmp_path: Path) -> None:
    other = clone(repo, tmp_path / "other")
    (other / "theirs.txt").write_text("theirs\n")
    git(other, "add", "theirs.txt")
    git(other, "commit", "-q", "-m", "someone else's commit")
    git(other, "push", "-q", "origin", "main")
    head = repo.commit("ours.txt", "ours\n", "our release commit")
    snap = Snapshot(repo.path)
    snap.create_tag("v2.0.0", "Release v2.0.0", head)
    with pytest.raises(PushRejectedError) as rejected:
        snap.push("origin", [f"{head}:refs/heads/main", "refs/tags/v2.0.0"])
    assert "rejected the push" in rejected.value.what
    assert Snapshot(repo.path).remote_tag_commit("origin", "v2.0.0") is None  # all or none


def test_deleting_tags_is_recorded(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    snap = Snapshot(repo.path)
    snap.create_tag("v3.0.0", "Release v3.0.0", head)
    snap.push("origin", ["refs/tags/v3.0.0"])
    assert snap.delete_remote_tag("origin", "v3.0.0") is True
    assert snap.delete_local_tag("v3.0.0") is True
    assert snap.remote_tag_commit("origin", "v3.0.0") is None
    assert snap.local_tag_commit("v3.0.0") is None
    fresh = Snapshot(repo.path)
    assert fresh.remote_tag_commit("origin", "v3.0.0") is None
    assert fresh.local_tag_commit("v3.0.0") is None


def test_detached_head_and_a_gone_upstream(repo: Repo) -> None:
    repo.git("push", "-q", "origin", "main:side")
    repo.git("checkout", "-q", "-b", "side", "--track", "origin/side")
    repo.git("push", "-q", "origin", ":side")  # the upstream's branch is deleted (gone)
    repo.git("fetch", "-q", "--prune", "origin")
    assert Snapshot(repo.path).upstream() is None is shipit_git.upstream(repo.path)
    repo.git("checkout", "-q", "--detach", "HEAD")
    snap = Snapshot(repo.path)
    assert snap.branch() is None and snap.head() == repo.git("rev-parse", "HEAD")


def test_outside_a_repository(tmp_path: Path) -> None:
    snap = Snapshot(tmp_path)
    assert snap.is_repo() is False
    assert snap.head() is None and snap.branch() is None and snap.commit_message() is None
    with pytest.raises(NotARepoError):
        snap.top()
