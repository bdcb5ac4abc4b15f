"""The git steps against a real repository and a real bare remote: commit, tag, push, undo,
conflicts (local and remote), a tag only on the remote, and signed tags with a real gpg key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shipit.config import Config
from shipit.engine.states import UndoState
from shipit.engine.step import Context, NullProgress, ProbeState, make_context
from shipit.errors import PermanentError
from shipit.project.detect import detect
from shipit.sandbox.git_remote import GitRepo
from shipit.steps.git_tag import CommitStep, PushStep, TagStep, commit_steps


def ctx_for(repo: GitRepo, version: str = "1.2.3", config: Config | None = None) -> Context:
    cfg = config or Config.model_validate({"npm": {"enabled": False}})
    env = dict(os.environ)
    return make_context(
        root=repo.path,
        config=cfg,
        project=detect(repo.path, cfg, env),
        version=version,
        commit=repo.head(),
        env=env,
    )


def remote_tag(repo: GitRepo, tag: str) -> str | None:
    out = subprocess.run(
        ["git", "ls-remote", str(repo.remote), f"refs/tags/{tag}^{{}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0] if out else None


def test_tag_then_push_then_undo(git_repo: GitRepo) -> None:
    ctx = ctx_for(git_repo)
    tag, push = TagStep(), PushStep()
    assert tag.probe(ctx).state == ProbeState.TODO
    evidence = tag.run(ctx, NullProgress())
    assert evidence["commit"] == git_repo.head()
    assert tag.probe(ctx).state == ProbeState.ALREADY_DONE
    assert push.probe(ctx).state == ProbeState.TODO
    push.run(ctx, NullProgress())
    assert remote_tag(git_repo, "v1.2.3") == git_repo.head()
    assert push.probe(ctx).state == ProbeState.ALREADY_DONE
    assert push.undo(ctx).state == UndoState.UNDONE
    assert remote_tag(git_repo, "v1.2.3") is None
    assert tag.undo(ctx).state == UndoState.UNDONE
    assert git_repo.git("tag", "--list").strip() == ""
    assert tag.undo(ctx).state == UndoState.NOTHING


def test_remote_tag_on_another_commit_is_a_conflict_and_left_alone(git_repo: GitRepo) -> None:
    base = git_repo.head()
    other = git_repo.commit("elsewhere")
    git_repo.git("tag", "-a", "v1.2.3", "-m", "theirs", other)
    git_repo.push("refs/tags/v1.2.3")
    git_repo.git("tag", "-d", "v1.2.3")
    git_repo.git("reset", "--quiet", "--hard", base)
    ctx = ctx_for(git_repo)
    probe = TagStep().probe(ctx)
    assert probe.state == ProbeState.CONFLICT
    assert "on `origin`" in (probe.why or "") and "git push origin :refs/tags/v1.2.3" in (
        probe.hint or ""
    )
    assert PushStep().undo(ctx).state == UndoState.IRREVERSIBLE  # never deletes theirs
    assert remote_tag(git_repo, "v1.2.3") == other


def test_tag_only_on_the_remote_is_fetched_not_recreated(git_repo: GitRepo) -> None:
    git_repo.git("tag", "-a", "v1.2.3", "-m", "made elsewhere")
    git_repo.push("refs/tags/v1.2.3")
    remote_object = git_repo.git("rev-parse", "refs/tags/v1.2.3").strip()
    git_repo.git("tag", "-d", "v1.2.3")
    ctx = ctx_for(git_repo)
    assert TagStep().probe(ctx).state == ProbeState.TODO
    evidence = TagStep().run(ctx, NullProgress())
    assert evidence["fetched"] is True
    assert git_repo.git("rev-parse", "refs/tags/v1.2.3").strip() == remote_object
    assert PushStep().probe(ctx).state == ProbeState.ALREADY_DONE


def test_release_commit_syncs_versions_and_push_sends_the_branch(git_repo: GitRepo) -> None:
    git_repo.commit("manifests", {"package.json": '{"name": "x", "version": "1.0.0"}\n'})
    git_repo.push()
    base = git_repo.head()
    ctx = ctx_for(git_repo, "2.0.0")
    assert [s.id for s in commit_steps(ctx)] == ["git:commit"]
    commit = CommitStep()
    evidence = commit.run(ctx, NullProgress())
    assert evidence["files"] == ["package.json"]
    assert git_repo.git("log", "-1", "--format=%s").strip() == "chore(release): v2.0.0"
    assert json.loads((git_repo.path / "package.json").read_text())["version"] == "2.0.0"
    after = make_context(
        root=ctx.root,
        config=ctx.config,
        project=ctx.project,
        version="2.0.0",
        commit=base,
        env=ctx.env,
        evidence_of=lambda s: evidence if s == "git:commit" else {},
    )
    assert commit.probe(after).state == ProbeState.ALREADY_DONE
    TagStep().run(after, NullProgress())
    assert PushStep().probe(after).state == ProbeState.TODO
    pushed = PushStep().run(after, NullProgress())
    assert pushed["branch"] == "main"
    assert git_repo.remote_head() == evidence["commit"]
    assert remote_tag(git_repo, "v2.0.0") == evidence["commit"]
    # pushed: the commit cannot be taken back, and shipit says how to revert it
    undo = commit.undo(after)
    assert undo.state == UndoState.IRREVERSIBLE and "git revert" in (undo.hint or "")


def test_unpushed_release_commit_is_undone(git_repo: GitRepo) -> None:
    git_repo.commit("manifests", {"package.json": '{"name": "x", "version": "1.0.0"}\n'})
    base = git_repo.head()
    ctx = ctx_for(git_repo, "1.1.0")
    evidence = CommitStep().run(ctx, NullProgress())
    after = make_context(
        root=ctx.root,
        config=ctx.config,
        project=ctx.project,
        version="1.1.0",
        commit=base,
        env=ctx.env,
        evidence_of=lambda s: evidence if s == "git:commit" else {},
    )
    assert CommitStep().undo(after).state == UndoState.UNDONE
    assert git_repo.head() == base
    assert json.loads((git_repo.path / "package.json").read_text())["version"] == "1.0.0"


@pytest.fixture
def gpg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_repo: GitRepo) -> str:
    if shutil.which("gpg") is None:
        pytest.fail("gpg is part of the test environment")
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
            "Rel Ease <rel@example.com>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--list-secret-keys", "--with-colons"], check=True, capture_output=True, text=True
    ).stdout
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))
    git_repo.git("config", "user.signingkey", fpr)
    return fpr


def test_signed_tag_is_created_and_verified(git_repo: GitRepo, gpg_home: str) -> None:
    config = Config.model_validate({"npm": {"enabled": False}, "release": {"sign-tags": True}})
    ctx = ctx_for(git_repo, config=config)
    evidence = TagStep().run(ctx, NullProgress())
    assert evidence["signed"] is True
    assert "BEGIN PGP SIGNATURE" in git_repo.git("cat-file", "-p", "v1.2.3")
    assert TagStep().probe(ctx).state == ProbeState.ALREADY_DONE


def test_unsigned_tag_fails_verification_when_signing_is_on(
    git_repo: GitRepo, gpg_home: str
) -> None:
    git_repo.git("tag", "-a", "v1.2.3", "-m", "not signed")
    config = Config.model_validate({"npm": {"enabled": False}, "release": {"sign-tags": True}})
    with pytest.raises(PermanentError) as err:
        TagStep().probe(ctx_for(git_repo, config=config))
    assert "does not verify" in err.value.what
