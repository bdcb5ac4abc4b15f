"""The git functions steps, checks and the rehearsal use: file lists, changed paths, commit
facts, reset, tag fetch, clones and config, against real repositories and a bare remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipit import git
from shipit.errors import GitError, NotARepoError, RemoteUnreachableError


def test_list_files_is_what_git_would_not_ignore_relative_to_the_directory(repo) -> None:
    pkg = repo.path / "pkg"
    (pkg / "src").mkdir(parents=True)
    (pkg / "src" / "mod.ts").write_text("export {}\n")
    (pkg / "deno.json").write_text("{}\n")
    (pkg / "secret.env").write_text("X=1\n")
    (repo.path / ".gitignore").write_text("*.env\n")
    repo.git("add", "pkg/deno.json", ".gitignore")
    repo.git("commit", "-q", "-m", "pkg")
    # tracked and untracked count, ignored files do not, paths are relative to the directory
    assert git.list_files(pkg) == ["deno.json", "src/mod.ts"]
    (pkg / "deno.json").unlink()  # tracked but deleted: not a file any more
    assert git.list_files(pkg) == ["src/mod.ts"]


def test_list_files_outside_a_repository_is_none(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    assert git.list_files(tmp_path) is None
    assert git.list_files(tmp_path / "missing") is None


def test_changed_paths_are_absolute_and_limited_to_the_directory(repo) -> None:
    sub = repo.path / "sub"
    sub.mkdir()
    (sub / "tracked.txt").write_text("1\n")
    repo.git("add", "sub/tracked.txt")
    repo.git("commit", "-q", "-m", "sub")
    assert git.changed_paths(sub) == []
    (sub / "tracked.txt").write_text("2\n")
    (sub / "new dir").mkdir()
    (sub / "new dir" / "untracked file.txt").write_text("u\n")  # spaces: no quoting games
    (repo.path / "outside.txt").write_text("o\n")
    assert sorted(git.changed_paths(sub)) == [
        (sub / "new dir" / "untracked file.txt").resolve(),
        (sub / "tracked.txt").resolve(),
    ]
    # a pathspec relative to the directory narrows it further
    assert git.changed_paths(sub, ["tracked.txt"]) == [(sub / "tracked.txt").resolve()]
    # status_changes keeps git's form: relative to the top of the work tree
    assert sorted(git.status_changes(repo.path)) == [
        "outside.txt",
        "sub/new dir/untracked file.txt",
        "sub/tracked.txt",
    ]


def test_a_renamed_file_counts_once_under_its_new_name(repo) -> None:
    repo.git("mv", "README.md", "READ.md")
    assert git.changed_paths(repo.path) == [(repo.path / "READ.md").resolve()]


def test_changed_paths_outside_a_repository_is_a_precise_error(tmp_path: Path) -> None:
    with pytest.raises(NotARepoError):
        git.changed_paths(tmp_path)


def test_commit_message_and_time(repo) -> None:
    repo.commit("b.txt", "b\n", "chore(release): v1.2.3\n\nbody line")
    assert git.commit_message(repo.path) == "chore(release): v1.2.3\n\nbody line"
    assert git.commit_message(repo.path, "HEAD~1") == "initial commit"
    expected = int(repo.git("show", "-s", "--format=%ct", "HEAD"))
    assert git.commit_time(repo.path, "HEAD") == expected
    # a name that is no commit is None, also one that looks like an option
    assert git.commit_message(repo.path, "no-such-rev") is None
    assert git.commit_time(repo.path, "--all") is None


def test_reset_keep_moves_the_branch_and_keeps_other_changes(repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit("release.txt", "1.0.0\n", "release")
    (repo.path / "README.md").write_text("local edit\n")  # not touched by the reset
    git.reset_keep(repo.path, "HEAD~1")
    assert repo.git("rev-parse", "HEAD") == base
    assert (repo.path / "README.md").read_text() == "local edit\n"
    assert not (repo.path / "release.txt").exists()


def test_reset_keep_refuses_to_lose_a_change(repo) -> None:
    repo.commit("release.txt", "1.0.0\n", "release")
    (repo.path / "release.txt").write_text("edited after the commit\n")
    with pytest.raises(GitError) as info:
        git.reset_keep(repo.path, "HEAD~1")
    assert "cannot reset" in info.value.what
    assert (repo.path / "release.txt").read_text() == "edited after the commit\n"


def test_fetch_tag_brings_the_remote_tag_home(repo, other_clone) -> None:
    head = other_clone.git("rev-parse", "HEAD")
    other_clone.git("tag", "-a", "v2.0.0", "-m", "v2.0.0")
    other_clone.git("push", "-q", "origin", "refs/tags/v2.0.0")
    assert git.local_tag_commit(repo.path, "v2.0.0") is None
    git.fetch_tag(repo.path, "origin", "v2.0.0")
    assert git.local_tag_commit(repo.path, "v2.0.0") == head
    with pytest.raises(RemoteUnreachableError):  # git cannot tell "absent" from "unreadable"
        git.fetch_tag(repo.path, "origin", "v9.9.9")


def test_clone_to_a_new_remote_with_upstream_and_tags(repo, tmp_path: Path) -> None:
    head = repo.git("rev-parse", "HEAD")
    repo.git("tag", "v0.1.0")
    target = tmp_path / "sandbox.git"
    subprocess.run(["git", "init", "-q", "--bare", str(target)], check=True)
    work = tmp_path / "clone"
    git.clone(repo.path, work, branch="main")
    git.checkout_branch(work, "main", head)
    git.set_remote_url(work, "origin", str(target))
    assert git.remote_url(work, "origin") == str(target)
    assert git.config_value(work, "shipit.test") is None
    git.set_config(work, "shipit.test", "a value")
    assert git.config_value(work, "shipit.test") == "a value"
    git.push_ref(work, "origin", "main:refs/heads/main", set_upstream=True)
    assert git.upstream(work) == "origin/main"
    git.push_ref(work, "origin", "refs/tags/*:refs/tags/*")
    assert git.remote_tags(work, "origin") == {"v0.1.0": head}


def test_clone_of_something_that_is_no_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError) as info:
        git.clone(tmp_path / "plain", tmp_path / "clone")
    assert "cannot clone" in info.value.what
    assert info.value.hint is not None and "git -C" in info.value.hint
