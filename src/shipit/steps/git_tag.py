"""The git steps of a release: release commit (versions synced), annotated tag, push.

``git:commit`` exists only when a manifest does not state the release version yet; it writes
the version into every source and commits exactly those files (``chore(release): v1.2.3``).
``git:tag`` creates the annotated (or signed) tag on the intended commit: the release commit
when one was made, else the planned HEAD. A tag that already points there is DONE; a tag that
points elsewhere is a CONFLICT, never moved. ``git:push`` pushes the branch (when the commit is
not on the remote branch yet) and ``refs/tags/<tag>`` in one atomic push; its probe asks
``git ls-remote``. Undo deletes the tag locally and on the remote.

Every read and write goes through the run's git snapshot (``ctx.repo``): the probes reuse what
the checks read (one ``ls-remote`` for the remote's branches and tags), and each write records
what it changed instead of asking git again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipit import git
from shipit.engine.step import (
    Context,
    Evidence,
    Probe,
    Progress,
    Step,
    Undo,
    checkpoint,
)
from shipit.errors import (
    GitError,
    PermanentError,
    PushRejectedError,
    RemoteUnreachableError,
    TagExistsError,
    TransientError,
)
from shipit.project.model import Project, VersionSource
from shipit.project.versions import same_version

COMMIT = "git:commit"
TAG = "git:tag"
PUSH = "git:push"


# ---------------------------------------------------------------- helpers


def _fmt(template: str, ctx: Context) -> str:
    return template.format(tag=ctx.tag, version=ctx.version)


def commit_message(ctx: Context) -> str:
    return _fmt(ctx.config.release.commit_message, ctx)


def tag_message(ctx: Context) -> str:
    return _fmt(ctx.config.release.tag_message, ctx)


def remote_of(ctx: Context) -> str:
    return ctx.config.release.remote


def intended_commit(ctx: Context) -> str:
    """The commit the tag must point at: the release commit if one was made, else HEAD."""
    made = ctx.evidence_of(COMMIT).get("commit")
    return made if isinstance(made, str) and made else ctx.commit


def _same(a: str | None, b: str) -> bool:
    return a is not None and same_version(a, b)


def fresh_project(ctx: Context) -> Project:
    """The project as it is on disk now (the plan's snapshot may predate a version write)."""
    from shipit.project.detect import detect

    return detect(ctx.root, ctx.config, ctx.env, ctx.repo)


def stale_sources(ctx: Context) -> list[VersionSource]:
    """Version sources that do not state the release version yet (read from disk now)."""
    project = fresh_project(ctx) if ctx.project.sources else ctx.project
    return [s for s in project.sources if not _same(s.version, ctx.version)]


def _remote_tag(ctx: Context) -> str | None:
    try:
        return ctx.repo.remote_tag_commit(remote_of(ctx), ctx.tag)
    except RemoteUnreachableError as exc:
        raise TransientError(exc.what, why=exc.why, hint=exc.hint) from None


def _branch(ctx: Context) -> str:
    branch = ctx.config.release.branch or ctx.repo.branch()
    if not branch:
        raise PermanentError(
            "HEAD is detached: no branch to push the release commit to",
            hint="switch to the release branch (git switch main) or set release.branch",
        )
    return branch


def _on_remote_branch(ctx: Context, commit: str, branch: str) -> bool:
    try:
        tip = ctx.repo.remote_branch_commit(remote_of(ctx), branch)
    except RemoteUnreachableError as exc:
        raise TransientError(exc.what, why=exc.why, hint=exc.hint) from None
    if tip is None:
        return False
    if tip == commit:
        return True
    return ctx.repo.is_ancestor(commit, tip)  # False too when the tip is not here


def sync_versions(ctx: Context) -> list[Path]:
    """Write the release version into every stale source; return the files changed."""
    from shipit.project.sync import set_version

    _, changes = set_version(fresh_project(ctx), ctx.version)
    if changes:
        ctx.repo.files_changed()
    return [Path(c.file) for c in changes]


# ---------------------------------------------------------------- git:commit


@dataclass
class CommitStep:
    id: str = COMMIT
    needs: tuple[str, ...] = ()
    reversible: bool = True

    def describe(self, ctx: Context) -> str:
        files = ", ".join(str(s.file) for s in stale_sources(ctx)) or "the version files"
        return (
            f"write version {ctx.version} into {files} and commit them\n"
            f"git commit -m {commit_message(ctx)!r} -- {files}"
        )

    def probe(self, ctx: Context) -> Probe:
        head = ctx.repo.head()
        made = ctx.evidence_of(COMMIT).get("commit")
        if isinstance(made, str) and head and (made == head or ctx.repo.is_ancestor(made, head)):
            return Probe.already_done({"commit": made}, why=f"release commit {made[:12]} exists")
        stale = stale_sources(ctx)
        if head and not stale and head_is_release_commit(ctx):
            return Probe.already_done({"commit": head}, why=f"release commit {head[:12]} is HEAD")
        if not stale and not _uncommitted_sources(ctx):
            return Probe.already_done({"commit": head or ctx.commit}, why="versions already agree")
        return Probe.todo(
            f"{len(stale)} file(s) do not say {ctx.version} yet"
            if stale
            else "the version files are written but not committed"
        )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        edited = [str(f) for f in _uncommitted_sources(ctx)]  # by the user (`version set`)
        sync_versions(ctx)
        checkpoint(self.id)
        files = _uncommitted_sources(ctx)  # also those written by an interrupted run
        head = ctx.repo.head()
        if not files:
            return {"commit": head or ctx.commit, "files": [], "note": "nothing to commit"}
        progress.status(f"committing {', '.join(map(str, files))}")
        commit = ctx.repo.commit_files(files, commit_message(ctx))
        return {
            "commit": commit,
            "parent": head,
            "files": [str(f) for f in files],
            "edited": edited,
        }

    def undo(self, ctx: Context) -> Undo:
        made = ctx.evidence_of(COMMIT).get("commit")
        if not isinstance(made, str) or made == ctx.commit:
            return Undo.nothing("no release commit was made")
        branch = ctx.repo.branch() or "HEAD"
        if _on_remote_branch(ctx, made, _branch(ctx)):
            return Undo.irreversible(
                f"the release commit {made[:12]} is already on the remote branch",
                hint=f"revert it if you must: git revert {made[:12]} && git push",
            )
        if ctx.repo.head() != made:
            return Undo.irreversible(
                f"HEAD moved past the release commit {made[:12]}",
                hint=f"drop it by hand if you must: git rebase -i {made[:12]}~1",
            )
        edited = ctx.evidence_of(COMMIT).get("edited") or []
        kept = {f: (ctx.root / f).read_bytes() for f in edited if (ctx.root / f).is_file()}
        try:
            ctx.repo.reset_keep(f"{made}~1")
        except GitError as exc:
            raise PermanentError(
                f"cannot remove the release commit from {branch}",
                why=exc.why,
                hint=f"git reset --keep {made[:12]}~1",
            ) from None
        for name, content in kept.items():  # the user's own edits stay, uncommitted
            (ctx.root / name).write_bytes(content)
        if kept:
            ctx.repo.files_changed()
        restored = "the version files are as before" + (
            f" ({', '.join(kept)} keep your uncommitted edit)" if kept else ""
        )
        return Undo.undone(f"removed release commit {made[:12]} from {branch}; {restored}")


def head_is_release_commit(ctx: Context) -> bool:
    """HEAD is this release's commit (its message), e.g. after a crash or a lost journal."""
    return ctx.repo.commit_message("HEAD") == commit_message(ctx)


def _uncommitted_sources(ctx: Context) -> list[Path]:
    """Version files with uncommitted changes."""
    files = [str(s.file) for s in fresh_project(ctx).sources] if ctx.project.sources else []
    if not files:
        return []
    changed = set(ctx.repo.changed_paths(files))
    return [Path(f) for f in files if (ctx.root / f).resolve() in changed]


def commit_steps(ctx: Context) -> list[Step]:
    """``git:commit`` when a version source disagrees with the release version (or HEAD is
    already this release's commit: the step then probes DONE and gives the tag its commit)."""
    if (
        ctx.evidence_of(COMMIT)
        or stale_sources(ctx)
        or _uncommitted_sources(ctx)  # written by a run killed before it committed
        or head_is_release_commit(ctx)
    ):
        return [CommitStep()]
    return []


# ---------------------------------------------------------------- git:tag


@dataclass
class TagStep:
    id: str = TAG
    needs: tuple[str, ...] = (COMMIT,)
    reversible: bool = True

    def describe(self, ctx: Context) -> str:
        flag = "-s" if ctx.config.release.sign_tags else "-a"
        return (
            f"create the {'signed' if flag == '-s' else 'annotated'} tag {ctx.tag} on "
            f"the release commit\ngit tag {flag} {ctx.tag} -m {tag_message(ctx)!r} <commit>"
        )

    def probe(self, ctx: Context) -> Probe:
        intended = intended_commit(ctx)
        local = ctx.repo.local_tag_commit(ctx.tag)
        remote = _remote_tag(ctx)
        for where, found in (("locally", local), (f"on `{remote_of(ctx)}`", remote)):
            if found is not None and found != intended:
                return Probe.conflict(
                    f"tag {ctx.tag} already exists {where} and points at {found[:12]}, "
                    f"not at the release commit {intended[:12]}",
                    hint=f"inspect it with `git show {ctx.tag}`; if it is stale delete it "
                    f"(git tag -d {ctx.tag}; git push {remote_of(ctx)} :refs/tags/{ctx.tag}) "
                    "or release another version",
                )
        if local is not None:
            self._verify(ctx)
            return Probe.already_done(
                {"tag": ctx.tag, "commit": local}, why=f"tag {ctx.tag} is at {local[:12]}"
            )
        if remote is not None:
            return Probe.todo(f"tag {ctx.tag} exists on the remote only: fetch it")
        return Probe.todo(f"no tag {ctx.tag} yet")

    def _verify(self, ctx: Context) -> None:
        if not ctx.config.release.sign_tags:
            return
        ok, output = git.verify_tag_signature(ctx.root, ctx.tag)
        if not ok:
            raise PermanentError(
                f"the signature of tag {ctx.tag} does not verify",
                why=output[-500:],
                hint="check gpg's trust of your key (gpg --list-keys), or delete the tag "
                f"(git tag -d {ctx.tag}) and run `shipit resume`",
            )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        intended = intended_commit(ctx)
        remote = _remote_tag(ctx)
        if remote is not None:
            try:
                ctx.repo.fetch_tag(remote_of(ctx), ctx.tag)
            except GitError as exc:
                raise TransientError(f"cannot fetch tag {ctx.tag}", why=exc.why) from None
            return {"tag": ctx.tag, "commit": remote, "fetched": True}
        progress.status(f"tagging {intended[:12]} as {ctx.tag}")
        try:
            target = ctx.repo.create_tag(
                ctx.tag, tag_message(ctx), intended, sign=ctx.config.release.sign_tags
            )
        except TagExistsError:
            target = ctx.repo.local_tag_commit(ctx.tag) or ""
        checkpoint(self.id)
        if target != intended:
            raise PermanentError(
                f"tag {ctx.tag} points at {target[:12]}, not at {intended[:12]}",
                hint=f"delete it (git tag -d {ctx.tag}) and run `shipit resume`",
            )
        self._verify(ctx)
        return {"tag": ctx.tag, "commit": target, "signed": ctx.config.release.sign_tags}

    def undo(self, ctx: Context) -> Undo:
        intended = intended_commit(ctx)
        done: list[str] = []
        try:
            remote = _remote_tag(ctx)
            if remote is not None and remote == intended:
                ctx.repo.delete_remote_tag(remote_of(ctx), ctx.tag)
                done.append(f"on `{remote_of(ctx)}`")
        except GitError as exc:
            raise TransientError(exc.what, why=exc.why) from None
        local = ctx.repo.local_tag_commit(ctx.tag)
        if local is not None and local == intended:
            ctx.repo.delete_local_tag(ctx.tag)
            done.append("locally")
        if not done:
            return Undo.nothing(f"tag {ctx.tag} was not there")
        return Undo.undone(f"deleted tag {ctx.tag} " + " and ".join(done))


def tag_steps(ctx: Context) -> list[Step]:
    return [TagStep()]


# ---------------------------------------------------------------- git:push


@dataclass
class PushStep:
    id: str = PUSH
    needs: tuple[str, ...] = (TAG,)
    reversible: bool = True

    def describe(self, ctx: Context) -> str:
        remote = remote_of(ctx)
        lines = [f"push the release to `{remote}`"]
        if commit_steps(ctx):
            lines.append(f"git push {remote} <release commit>:refs/heads/{_branch_or(ctx)}")
        lines.append(f"git push {remote} refs/tags/{ctx.tag}")
        return "\n".join(lines)

    def probe(self, ctx: Context) -> Probe:
        intended = intended_commit(ctx)
        remote = _remote_tag(ctx)
        if remote is not None and remote != intended:
            return Probe.conflict(
                f"tag {ctx.tag} on `{remote_of(ctx)}` points at {remote[:12]}, not at "
                f"{intended[:12]}",
                hint=f"inspect it: git ls-remote --tags {remote_of(ctx)} {ctx.tag}; "
                "release another version or delete the stale tag",
            )
        branch_needed = self._branch_needed(ctx, intended)
        if remote is None:
            return Probe.todo(f"tag {ctx.tag} is not on `{remote_of(ctx)}` yet")
        if branch_needed:
            return Probe.todo(f"the release commit is not on `{remote_of(ctx)}` yet")
        return Probe.already_done(
            {"remote": remote_of(ctx), "tag": ctx.tag, "commit": remote},
            why=f"tag {ctx.tag} is on `{remote_of(ctx)}`",
        )

    def _branch_needed(self, ctx: Context, intended: str) -> bool:
        made = ctx.evidence_of(COMMIT).get("commit")
        head = ctx.repo.head()
        if not (isinstance(made, str) and made == intended) and head != intended:
            return False
        branch = ctx.config.release.branch or ctx.repo.branch()
        if not branch:
            return False
        return not _on_remote_branch(ctx, intended, branch)

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        intended = intended_commit(ctx)
        remote = remote_of(ctx)
        evidence: Evidence = {"remote": remote, "tag": ctx.tag, "commit": intended}
        refspecs: list[str] = []
        shown: list[str] = []
        if self._branch_needed(ctx, intended):
            branch = _branch(ctx)
            refspecs.append(f"{intended}:refs/heads/{branch}")
            shown.append(f"{intended[:12]} to {remote}/{branch}")
            evidence["branch"] = branch
        if _remote_tag(ctx) is None:
            refspecs.append(f"refs/tags/{ctx.tag}")
            shown.append(f"tag {ctx.tag}")
        checkpoint(self.id)
        if refspecs:
            progress.status(f"pushing {' and '.join(shown)} to {remote}")
            _push(ctx, refspecs)
        return evidence

    def undo(self, ctx: Context) -> Undo:
        intended = intended_commit(ctx)
        remote = _remote_tag(ctx)
        if remote is None:
            return Undo.nothing(f"tag {ctx.tag} is not on `{remote_of(ctx)}`")
        if remote != intended:
            return Undo.irreversible(
                f"tag {ctx.tag} on `{remote_of(ctx)}` points at {remote[:12]}, not at our "
                "release commit: left alone",
                hint=f"git ls-remote --tags {remote_of(ctx)} {ctx.tag}",
            )
        try:
            ctx.repo.delete_remote_tag(remote_of(ctx), ctx.tag)
        except RemoteUnreachableError as exc:
            raise TransientError(exc.what, why=exc.why) from None
        return Undo.undone(f"deleted tag {ctx.tag} on `{remote_of(ctx)}`")


def _branch_or(ctx: Context) -> str:
    return ctx.config.release.branch or ctx.repo.branch() or "<branch>"


def _push(ctx: Context, refspecs: list[str]) -> None:
    """One push of the branch and/or the tag, atomic where the remote can."""
    try:
        ctx.repo.push(remote_of(ctx), refspecs)
    except RemoteUnreachableError as exc:
        raise TransientError(exc.what, why=exc.why, hint=exc.hint) from None
    except PushRejectedError as exc:
        raise PermanentError(exc.what, why=exc.why, hint=exc.hint) from None


def push_steps(ctx: Context) -> list[Step]:
    return [PushStep()]
