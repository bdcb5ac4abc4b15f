"""The git check on real repositories with a bare origin: branch, tree, upstream, behind, tags."""

from __future__ import annotations

from pathlib import Path

from shipit.checks.base import Status
from shipit.sandbox.git_remote import clone

from .conftest import ExampleFactory


def test_clean_repo_on_main_passes(deno_project: ExampleFactory) -> None:
    r = deno_project().check("git")
    assert r.status is Status.PASSED, r.findings
    assert r.summary == "on main, clean, up to date with origin/main"


def test_dirty_tree_names_the_changes(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    (ex.path / "mod.ts").write_text("export const changed = 1;\n")
    (ex.path / "notes.txt").write_text("todo\n")
    r = ex.check("git")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "the work tree has 2 uncommitted change(s): mod.ts, notes.txt"
    assert f.hint == "commit or stash them: git add -A && git commit, or git stash -u"


def test_check_logs_never_dirty_the_tree(deno_project: ExampleFactory) -> None:
    ex = deno_project(mod_DOT_ts='export const n: number = "x";\n')
    assert ex.check("typecheck").status is Status.FAILED  # writes .shipit/checks/typecheck.log
    assert (ex.path / ".shipit" / "checks" / "typecheck.log").is_file()
    assert ex.check("git").status is Status.PASSED


def test_wrong_branch(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    ex.repo.git("switch", "--quiet", "-c", "feature")
    ex.repo.git("push", "--quiet", "--set-upstream", "origin", "feature")
    r = ex.check("git")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "on branch `feature`, not the release branch `main`"
    assert f.hint == 'git switch main  (or set release.branch = "feature")'


def test_configured_release_branch(deno_project: ExampleFactory) -> None:
    ex = deno_project(shipit_toml='[release]\nbranch = "stable"\n')
    r = ex.check("git")
    assert r.status is Status.FAILED
    assert r.findings[0].message == "on branch `main`, not the release branch `stable`"


def test_no_upstream(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    ex.repo.git("switch", "--quiet", "-c", "local-only")
    r = ex.check("git")
    msgs = [f.message for f in r.findings]
    assert "branch `local-only` has no upstream" in msgs
    hint = next(f.hint for f in r.findings if f.message == "branch `local-only` has no upstream")
    assert hint == "git push --set-upstream origin local-only"


def test_behind_remote_after_fetch(deno_project: ExampleFactory, tmp_path: Path) -> None:
    ex = deno_project()
    other = clone(ex.repo.remote, tmp_path / "colleague")
    (other / "CHANGELOG.md").write_text("# changes\n")
    from shipit.sandbox.git_remote import git

    git("add", "CHANGELOG.md", cwd=other)
    git("commit", "--quiet", "-m", "colleague's change", cwd=other)
    git("push", "--quiet", "origin", "main", cwd=other)
    r = ex.check("git")  # must fetch to notice
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "branch `main` is 1 commit(s) behind origin/main"
    assert f.hint == "git pull --rebase origin main"


def test_tag_at_head_means_resumable(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    ex.repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")
    ex.repo.git("push", "--quiet", "origin", "refs/tags/v1.0.0")
    r = ex.check("git")
    assert r.status is Status.PASSED
    assert "tag v1.0.0 already points at HEAD: the release can be resumed" in r.summary


def test_tag_on_another_commit_fails(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    ex.repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")
    ex.repo.git("push", "--quiet", "origin", "refs/tags/v1.0.0")
    old = ex.repo.head()
    ex.commit("more work", {"more.ts": "export const more = 1;\n"})
    r = ex.check("git")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message.startswith(f"tag v1.0.0 already exists on the remote and points at {old[:12]}")
    assert f.hint == "release a new version: `shipit release --version 1.0.1`"


def test_detached_at_the_pushed_release_tag_is_a_tag_triggered_release(
    deno_project: ExampleFactory,
) -> None:
    # what actions/checkout leaves for a workflow started by pushing the release tag
    ex = deno_project()
    ex.repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")
    ex.repo.git("push", "--quiet", "origin", "refs/tags/v1.0.0")
    ex.repo.git("checkout", "--quiet", "--detach", "v1.0.0")
    r = ex.check("git")
    assert r.status is Status.PASSED, r.findings
    assert r.summary.startswith("at tag v1.0.0 as pushed to origin (a tag-triggered release)")


def test_detached_elsewhere_still_fails(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    ex.repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")  # local only: not pushed
    ex.repo.git("checkout", "--quiet", "--detach", "v1.0.0")
    r = ex.check("git")
    assert r.status is Status.FAILED
    assert r.findings[0].message.startswith("HEAD is detached")
