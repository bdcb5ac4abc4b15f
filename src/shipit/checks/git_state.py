"""The ``git`` check: release branch, clean tree, upstream, not behind, tag not yet used.

Fetches first (with ``checks.git.fetch-timeout``) so "behind" is current, then reads one
``shipit.git.state`` from the run's git snapshot (``project.repo``, which the release's probes
reuse). A release tag that already exists is fine only when it points at
HEAD: then the release can be resumed.
"""

from __future__ import annotations

from shipit import git
from shipit.checks.base import CheckContext, CheckResult, Finding, failed, passed
from shipit.errors import GitError
from shipit.project import tags
from shipit.project.republish import new_version_hint

NAME = "git"
MAX_LISTED = 5


def release_tag(ctx: CheckContext) -> str | None:
    """The tag this release makes; None when unknown (a tag-driven project whose next
    version the release names: the last tag is not this release's)."""
    version = ctx.version
    if ctx.project.tag_driven and ctx.release_version is None:
        return None
    if not version:
        return None
    return tags.release_tag(ctx.config, ctx.project.tags, version)


def release_branch(ctx: CheckContext, state: git.GitState) -> str:
    configured = ctx.config.release.branch
    if configured:
        return configured
    if state.fetched:
        try:
            found = ctx.project.repo.remote_default_branch(
                state.remote, ctx.config.checks.git.fetch_timeout
            )
        except GitError:
            found = None
        if found:
            return found
    return "main"


def behind_remote_branch(ctx: CheckContext, state: git.GitState, branch: str) -> Finding | None:
    """Without an upstream: the remote's copy of the release branch (fetched) must be in
    HEAD's history, else the push would be refused (or would drop someone's commits)."""
    tip = git.rev_parse(state.root, f"refs/remotes/{state.remote}/{branch}")
    if tip is None or state.head is None or git.is_ancestor(state.root, tip, state.head):
        return None
    return Finding(
        f"`{state.remote}/{branch}` has commits that HEAD does not have",
        hint=f"git pull --rebase {state.remote} {branch}",
    )


class GitCheck:
    """The ``git`` check. ``tree=False`` is the release invariant the ``checks`` step runs
    beside the builds: everything but the work tree (verified before and after them), and a
    branch without an upstream is compared with the remote's branch of the same name."""

    name = NAME
    heavy = False

    def __init__(self, *, tree: bool = True) -> None:
        self.tree = tree

    def run(self, ctx: CheckContext) -> CheckResult:
        remote = ctx.config.release.remote
        tag = release_tag(ctx)
        try:
            state = git.state(
                ctx.root,
                remote=remote,
                fetch_remote=True,
                fetch_timeout=min(ctx.config.checks.git.fetch_timeout, ctx.remaining()),
                tag=tag,
                tag_format=tags.effective_format(ctx.config, ctx.project.tags),
                snapshot=ctx.project.repo,
            )
        except GitError as exc:
            return failed(NAME, exc.what, [Finding(exc.what, hint=exc.hint)])
        findings = [
            Finding(p.what + (f" ({p.why})" if p.why else ""), hint=p.hint)
            for p in state.problems()
        ]
        notes: list[str] = []
        branch = release_branch(ctx, state)
        if state.branch is not None and state.branch != branch:
            findings.append(
                Finding(
                    f"on branch `{state.branch}`, not the release branch `{branch}`",
                    hint=f'git switch {branch}  (or set release.branch = "{state.branch}")',
                )
            )
        if self.tree and not state.clean:
            shown = ", ".join(state.changes[:MAX_LISTED])
            more = len(state.changes) - MAX_LISTED
            findings.append(
                Finding(
                    f"the work tree has {len(state.changes)} uncommitted change(s): {shown}"
                    + (f" and {more} more" if more > 0 else ""),
                    file=state.changes[0],
                    hint="commit or stash them: git add -A && git commit, or git stash -u",
                )
            )
        if state.branch is not None and state.head is not None and state.upstream is None:
            if self.tree:
                findings.append(
                    Finding(
                        f"branch `{state.branch}` has no upstream",
                        hint=f"git push --set-upstream {remote} {state.branch}",
                    )
                )
            else:
                diverged = behind_remote_branch(ctx, state, branch)
                if diverged is not None:
                    findings.append(diverged)
        if state.behind:
            findings.append(
                Finding(
                    f"branch `{state.branch}` is {state.behind} commit(s) behind {state.upstream}",
                    hint=f"git pull --rebase {remote} {state.branch}",
                )
            )
        if state.ahead:
            notes.append(f"{state.ahead} commit(s) not pushed yet (the release pushes them)")
        if state.tag is not None and state.head is not None:
            t = state.tag
            at = {c for c in (t.local_commit, t.remote_commit) if c}
            if at == {state.head}:
                notes.append(f"tag {t.name} already points at HEAD: the release can be resumed")
            elif at:
                where = (
                    "on the remote"
                    if t.remote_commit and t.remote_commit != state.head
                    else ("locally")
                )
                other = next(c for c in at if c != state.head)
                findings.append(
                    Finding(
                        f"tag {t.name} already exists {where} and points at {other[:12]}, "
                        f"not HEAD ({state.head[:12]})",
                        hint=new_version_hint(ctx.version),
                    )
                )
        if findings:
            return failed(NAME, findings[0].message, findings)
        if state.at_pushed_tag:
            where = f"at tag {tag} as pushed to {remote} (a tag-triggered release), clean"
            return passed(NAME, "; ".join([where, *notes]))
        where = f"on {state.branch}, clean, up to date with {state.upstream}"
        return passed(NAME, "; ".join([where, *notes]))
