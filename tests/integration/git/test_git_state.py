"""git state against real repositories: branch, cleanliness, upstream, ahead/behind, errors."""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path

import pytest

from shipit import git
from shipit.errors import (
    DetachedHeadError,
    NoCommitsError,
    NoRemoteError,
    NotARepoError,
    NoUpstreamError,
    RemoteAuthError,
    RemoteUnreachableError,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_not_a_repo_is_a_precise_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert not git.is_repo(plain)
    with pytest.raises(NotARepoError) as info:
        git.repo_root(plain)
    err = info.value
    assert str(plain) in err.what
    assert err.hint is not None and "git init" in err.hint
    with pytest.raises(NotARepoError):
        git.state(plain)
    # outside a repository that is the error, not "no commits" or "detached HEAD"
    with pytest.raises(NotARepoError):
        git.require_head(plain)
    with pytest.raises(NotARepoError):
        git.require_branch(plain)


def test_repo_root_from_a_subdirectory(repo) -> None:
    sub = repo.path / "a" / "b"
    sub.mkdir(parents=True)
    assert git.is_repo(sub)
    assert git.repo_root(sub) == repo.path.resolve()


def test_repository_without_commits(repo_factory) -> None:
    r = repo_factory(commit=False, remote=False)
    assert git.head_commit(r.path) is None
    assert git.current_branch(r.path) == "main"  # unborn branch still has a name
    assert git.tags_at_head(r.path) == []
    assert git.last_release_tag(r.path) is None
    with pytest.raises(NoCommitsError) as info:
        git.require_head(r.path)
    assert "no commits" in info.value.what
    assert info.value.hint is not None and "git commit" in info.value.hint
    st = git.state(r.path)
    assert not st.has_commits
    codes = [p.code for p in st.problems()]
    assert codes == ["git-no-commits", "git-no-remote"]


def test_detached_head(repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "--detach")
    assert git.current_branch(repo.path) is None
    assert git.head_commit(repo.path) == head
    with pytest.raises(DetachedHeadError) as info:
        git.require_branch(repo.path)
    assert head[:12] in (info.value.why or "")
    assert "git switch" in (info.value.hint or "")
    st = git.state(repo.path)
    assert st.detached and st.upstream is None
    assert [p.code for p in st.problems()] == ["git-detached-head"]


def test_no_remote(repo_factory) -> None:
    r = repo_factory(remote=False)
    assert git.remote_url(r.path, "origin") is None
    with pytest.raises(NoRemoteError) as info:
        git.fetch(r.path, "origin", timeout=10)
    assert "origin" in info.value.what
    assert "git remote add origin" in (info.value.hint or "")
    with pytest.raises(NoRemoteError):
        git.remote_tag_commit(r.path, "origin", "v1.0.0")
    st = git.state(r.path, fetch_remote=True)
    assert [p.code for p in st.problems()] == ["git-no-remote"]


def test_remote_with_another_name_is_named_in_the_message(repo) -> None:
    with pytest.raises(NoRemoteError) as info:
        git.require_remote(repo.path, "upstream")
    assert "origin" in (info.value.why or "")


def test_unreachable_remote(repo, tmp_path: Path) -> None:
    repo.git("remote", "set-url", "origin", str(tmp_path / "gone.git"))
    with pytest.raises(RemoteUnreachableError) as info:
        git.fetch(repo.path, "origin", timeout=10)
    assert "gone.git" in info.value.what
    assert "git fetch origin" in (info.value.hint or "")
    port = _closed_port()
    repo.git("remote", "set-url", "origin", f"http://127.0.0.1:{port}/x.git")
    with pytest.raises(RemoteUnreachableError):
        git.remote_tag_commit(repo.path, "origin", "v1.0.0", timeout=10)
    st = git.state(repo.path, fetch_remote=True, fetch_timeout=10)
    assert not st.fetched and st.fetch_error
    assert "git-remote-unreachable" in [p.code for p in st.problems()]


def test_clean_counts_untracked_but_not_ignored(repo) -> None:
    assert git.is_clean(repo.path) == (True, [])
    (repo.path / ".gitignore").write_text("build/\n")
    repo.git("add", ".gitignore")
    repo.git("commit", "-q", "-m", "ignore")
    (repo.path / "build").mkdir()
    (repo.path / "build" / "out.bin").write_text("x")
    assert git.is_clean(repo.path) == (True, [])
    (repo.path / "new dir").mkdir()
    (repo.path / "new dir" / "untracked.txt").write_text("x")
    (repo.path / "README.md").write_text("changed\n")
    clean, changes = git.is_clean(repo.path)
    assert not clean
    assert sorted(changes) == ["README.md", "new dir/untracked.txt"]


def test_renamed_file_is_reported_once(repo) -> None:
    repo.git("mv", "README.md", "READ.md")
    assert git.is_clean(repo.path) == (False, ["READ.md"])


def test_add_exclude_makes_shipit_dir_invisible(repo) -> None:
    (repo.path / ".shipit").mkdir()
    (repo.path / ".shipit" / "journal.json").write_text("{}")
    assert not git.is_clean(repo.path)[0]
    assert git.add_exclude(repo.path, ".shipit/") is True
    assert git.add_exclude(repo.path, ".shipit/") is False
    assert git.is_clean(repo.path) == (True, [])
    text = (repo.path / ".git" / "info" / "exclude").read_text()
    assert text.count(".shipit/") == 1


def test_upstream_and_ahead_behind(repo, other_clone) -> None:
    assert git.upstream(repo.path) == "origin/main"
    assert git.ahead_behind(repo.path) == (0, 0)
    repo.commit("a.txt", "a\n", "local work")
    assert git.ahead_behind(repo.path) == (1, 0)
    other_clone.commit("b.txt", "b\n", "their work")
    other_clone.git("push", "-q", "origin", "main")
    assert git.ahead_behind(repo.path) == (1, 0)  # not fetched yet
    git.fetch(repo.path, "origin", timeout=30)
    assert git.ahead_behind(repo.path) == (1, 1)
    st = git.state(repo.path, fetch_remote=True)
    assert (st.ahead, st.behind, st.fetched) == (1, 1, True)


def test_branch_without_upstream(repo) -> None:
    repo.git("switch", "-q", "-c", "feature")
    assert git.current_branch(repo.path) == "feature"
    assert git.upstream(repo.path) is None
    with pytest.raises(NoUpstreamError) as info:
        git.ahead_behind(repo.path)
    assert "git push --set-upstream origin feature" in (info.value.hint or "")


def test_remote_default_branch(repo) -> None:
    assert git.remote_default_branch(repo.path, "origin") == "main"
    repo.git("remote", "set-head", "origin", "main")
    assert git.remote_default_branch(repo.path, "origin") == "main"


def test_state_snapshot_of_a_healthy_repo(repo) -> None:
    repo.git("tag", "-a", "v0.1.0", "-m", "Release v0.1.0")
    st = git.state(repo.path, fetch_remote=True, tag="v0.1.0")
    assert st.branch == "main" and st.head == repo.git("rev-parse", "HEAD")
    assert st.clean and st.upstream == "origin/main"
    assert st.tags_at_head == ("v0.1.0",)
    assert st.last_tag == "v0.1.0"
    assert st.tag is not None
    assert st.tag.local_commit == st.head
    assert st.tag.remote_checked and st.tag.remote_commit is None  # not pushed
    assert st.problems() == []
    assert st.remote_url == str(repo.remote)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/tool.git", "acme/tool"),
        ("https://github.com/acme/tool", "acme/tool"),
        ("https://x-access-token:abc@github.com/acme/tool.git", "acme/tool"),
        ("git@github.com:acme/my.tool.git", "acme/my.tool"),
        ("ssh://git@github.com/acme/tool.git", "acme/tool"),
        ("https://gitlab.com/acme/tool.git", None),
        ("/srv/git/tool.git", None),
        (None, None),
    ],
)
def test_github_repo_from_url(url: str | None, expected: str | None) -> None:
    assert git.github_repo_from_url(url) == expected


def test_fetch_never_replaces_a_local_tag(repo, other_clone) -> None:
    other = other_clone.commit("o.txt", "o\n", "theirs")
    other_clone.git("tag", "-a", "v1.0.0", "-m", "theirs")
    other_clone.git("push", "-q", "origin", "main", "refs/tags/v1.0.0")
    mine = repo.git("rev-parse", "HEAD")
    repo.git("tag", "-a", "v1.0.0", "-m", "mine")
    git.fetch(repo.path, "origin", timeout=30)
    assert git.local_tag_commit(repo.path, "v1.0.0") == mine
    assert git.remote_tag_commit(repo.path, "origin", "v1.0.0") == other
    assert git.ahead_behind(repo.path) == (0, 1)


class _Unauthorized(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_refused_credentials_are_not_reported_as_unreachable(repo) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        repo.git("remote", "set-url", "origin", f"http://127.0.0.1:{port}/acme/tool.git")
        with pytest.raises(RemoteAuthError) as info:
            git.fetch(repo.path, "origin", timeout=20)
        assert "refused the credentials" in info.value.what
        assert not isinstance(info.value, RemoteUnreachableError)
    finally:
        server.shutdown()
        server.server_close()
