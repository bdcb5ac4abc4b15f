"""Tags, pushes and release commits against a real bare remote."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shipit import git
from shipit.errors import PushRejectedError, TagExistsError


def test_annotated_tag_points_at_the_commit_locally_and_remotely(repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    assert git.local_tag_commit(repo.path, "v1.0.0") is None
    target = git.create_annotated_tag(repo.path, "v1.0.0", "Release v1.0.0\n\nnotes", head)
    assert target == head
    assert git.local_tag_commit(repo.path, "v1.0.0") == head  # peeled, not the tag object
    assert repo.git("rev-parse", "v1.0.0") != head  # annotated: a tag object of its own
    assert git.tag_is_annotated(repo.path, "v1.0.0")
    assert git.tag_message(repo.path, "v1.0.0") == "Release v1.0.0\n\nnotes"
    assert git.tags_at_head(repo.path) == ["v1.0.0"]

    assert git.remote_tag_commit(repo.path, "origin", "v1.0.0") is None
    git.push_ref(repo.path, "origin", "refs/tags/v1.0.0")
    assert git.remote_tag_commit(repo.path, "origin", "v1.0.0") == head
    assert git.remote_tags(repo.path, "origin") == {"v1.0.0": head}
    # the bare repository really holds the tag
    out = subprocess.run(
        ["git", "rev-parse", "v1.0.0^{commit}"], cwd=repo.remote, capture_output=True, text=True
    )
    assert out.stdout.strip() == head


def test_lightweight_remote_tag_is_found_too(repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    repo.git("tag", "light")
    repo.git("push", "-q", "origin", "refs/tags/light")
    assert git.remote_tag_commit(repo.path, "origin", "light") == head
    assert not git.tag_is_annotated(repo.path, "light")


def test_tag_on_an_older_commit(repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    repo.commit("b.txt", "b\n", "second")
    git.create_annotated_tag(repo.path, "v0.1.0", "old", first)
    assert git.local_tag_commit(repo.path, "v0.1.0") == first
    assert git.tags_at_head(repo.path) == []
    assert git.is_ancestor(repo.path, first, "HEAD")


def test_existing_tag_is_not_overwritten(repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    git.create_annotated_tag(repo.path, "v1.0.0", "one")
    repo.commit("c.txt", "c\n", "more")
    with pytest.raises(TagExistsError) as info:
        git.create_annotated_tag(repo.path, "v1.0.0", "two")
    assert first[:12] in (info.value.why or "")
    assert git.local_tag_commit(repo.path, "v1.0.0") == first


def test_delete_local_and_remote_tag(repo) -> None:
    git.create_annotated_tag(repo.path, "v1.0.0", "x")
    git.push_ref(repo.path, "origin", "refs/tags/v1.0.0")
    assert git.delete_remote_tag(repo.path, "origin", "v1.0.0") is True
    assert git.remote_tag_commit(repo.path, "origin", "v1.0.0") is None
    assert git.delete_remote_tag(repo.path, "origin", "v1.0.0") is False
    assert git.delete_local_tag(repo.path, "v1.0.0") is True
    assert git.local_tag_commit(repo.path, "v1.0.0") is None
    assert git.delete_local_tag(repo.path, "v1.0.0") is False


def test_push_rejected_when_the_remote_moved_on(repo, other_clone) -> None:
    other_clone.commit("theirs.txt", "t\n", "theirs")
    other_clone.git("push", "-q", "origin", "main")
    repo.commit("mine.txt", "m\n", "mine")
    with pytest.raises(PushRejectedError) as info:
        git.push_ref(repo.path, "origin", "refs/heads/main")
    assert "rejected" in info.value.what
    assert "git fetch origin" in (info.value.hint or "")


def test_remote_tag_pointing_elsewhere_is_visible(repo, other_clone) -> None:
    other = other_clone.commit("o.txt", "o\n", "other")
    other_clone.git("tag", "-a", "v2.0.0", "-m", "theirs")
    other_clone.git("push", "-q", "origin", "refs/tags/v2.0.0")
    git.create_annotated_tag(repo.path, "v2.0.0", "ours")
    ours = git.local_tag_commit(repo.path, "v2.0.0")
    theirs = git.remote_tag_commit(repo.path, "origin", "v2.0.0")
    assert theirs == other and ours != theirs
    with pytest.raises(PushRejectedError):
        git.push_ref(repo.path, "origin", "refs/tags/v2.0.0")


def test_last_release_tag_picks_the_highest_version(repo) -> None:
    for tag in ["v0.9.0", "v0.10.0", "v1.0.0-rc.1", "v1.0.0", "other-5.0.0", "vbogus", "v1.0"]:
        repo.git("tag", tag)
    assert git.last_release_tag(repo.path, "v{version}") == "v1.0.0"
    repo.git("tag", "v1.1.0-beta.2")
    assert git.last_release_tag(repo.path, "v{version}") == "v1.1.0-beta.2"
    repo.git("tag", "v1.1.0-beta.10")
    assert git.last_release_tag(repo.path, "v{version}") == "v1.1.0-beta.10"
    assert git.last_release_tag(repo.path, "other-{version}") == "other-5.0.0"
    assert git.last_release_tag(repo.path, "pkg@{version}") is None


def test_last_release_tag_merged_ignores_other_branches(repo) -> None:
    repo.git("tag", "v1.0.0")
    repo.git("switch", "-q", "-c", "side")
    repo.commit("s.txt", "s\n", "side")
    repo.git("tag", "v9.0.0")
    repo.git("switch", "-q", "main")
    assert git.last_release_tag(repo.path) == "v9.0.0"
    assert git.last_release_tag(repo.path, merged="HEAD") == "v1.0.0"


def test_tag_format_without_placeholder_is_an_error(repo) -> None:
    with pytest.raises(git.GitError) as info:
        git.last_release_tag(repo.path, "release")
    assert "{version}" in info.value.what


def test_commit_files_commits_only_the_named_files(repo) -> None:
    (repo.path / "package.json").write_text('{"version": "1.0.0"}\n')
    (repo.path / "README.md").write_text("unrelated edit\n")
    before = repo.git("rev-parse", "HEAD")
    sha = git.commit_files(repo.path, ["package.json"], "chore(release): v1.0.0")
    assert sha == repo.git("rev-parse", "HEAD") and sha != before
    assert repo.git("show", "--name-only", "--format=%s", "HEAD").splitlines() == [
        "chore(release): v1.0.0",
        "",
        "package.json",
    ]
    assert git.is_clean(repo.path) == (False, ["README.md"])


def test_commit_files_refuses_an_empty_commit(repo) -> None:
    with pytest.raises(git.GitError) as info:
        git.commit_files(repo.path, ["README.md"], "nothing")
    assert "nothing to commit in README.md" in info.value.what


def test_commit_files_in_an_empty_repository(repo_factory) -> None:
    r = repo_factory(commit=False, remote=False)
    (r.path / "a.txt").write_text("a\n")
    sha = git.commit_files(r.path, ["a.txt"], "first")
    assert git.head_commit(r.path) == sha


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg not installed")
def test_signed_tag_verifies(repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Test <test@example.com>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "GNUPGHOME": str(home)},
    )
    repo.git("config", "user.signingkey", "test@example.com")
    git.create_annotated_tag(repo.path, "v1.0.0", "signed", sign=True)
    ok, output = git.verify_tag_signature(repo.path, "v1.0.0")
    assert ok, output
    git.create_annotated_tag(repo.path, "v1.0.1", "unsigned")
    ok, _ = git.verify_tag_signature(repo.path, "v1.0.1")
    assert not ok
