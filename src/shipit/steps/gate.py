"""The release gate: ``gate:release``, which every visible step needs and no local step needs,
and the release invariants that hold before anything the world can see.

Release invariants are not optional checks: ``--skip-checks`` skips none of them, and every
release verifies them (``resume`` and the step-by-step commands included). Those that only read
this machine are verified twice: by ``verify_before`` when the release is planned, before a
journal is written or anything is built, and by ``gate:release`` itself, right before the
first visible step (after the speculative builds and the checks):

- the repository: HEAD on a branch (or, in a tag-triggered CI run, exactly at the release tag)
  and on ``release.branch`` when one is configured;
- the work tree: no uncommitted change and no untracked file that git does not ignore (the
  version files the release commit is about to commit excepted), so that what is built and
  published is exactly the tagged commit; the gate checks again that HEAD is the release
  commit and that no tracked file changed since;
- the tools each step runs (``Step.tools``: npm, deno, ``python -m build``, twine, the
  binaries' compiler, gpg/minisign);
- at least one publishing target (npm, JSR, PyPI, GitHub, or a ``[[commands]]`` step after
  the gate): a bare tag is not a release;
- the version files agree (unless ``--version``/``--bump`` writes one version everywhere).

With the quality checks on, the gate also runs the secrets check on the files the release
built (``secret_problems``: the npm tarball, the sdist and wheel, the binary archives), which
the ``checks`` step cannot see.

The invariants that need the network (not behind the remote, each registry's token, the
version not published yet) run in the ``checks`` step beside the builds
(``steps/preflight.py``); the gate needs that step, so it also waits for the quality checks'
verdict.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipit import git, proc
from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Tool, Undo
from shipit.errors import InvariantsFailed, VersionInconsistent
from shipit.git_snapshot import WorkTree
from shipit.project.sync import check_consistent
from shipit.steps.git_tag import COMMIT, intended_commit

GATE_ID = "gate:release"
#: steps that publish something (a [[commands]] step after the gate counts too)
PUBLISHERS = ("npm:publish", "jsr:publish", "pypi:publish", "github:publish")
MAX_LISTED = 5


@dataclass(frozen=True)
class Problem:
    """One invariant that does not hold: what, why, and the command that fixes it."""

    what: str
    hint: str
    why: str | None = None


def failure(problems: Sequence[Problem], *, when: str) -> InvariantsFailed:
    """One error naming every problem (never only the first)."""
    if len(problems) == 1:
        only = problems[0]
        return InvariantsFailed(f"{when}: {only.what}", why=only.why, hint=only.hint)
    lines: list[str] = []
    for problem in problems:
        lines.append(f"- {problem.what}" + (f" ({problem.why})" if problem.why else ""))
        lines.append(f"  fix: {problem.hint}")
    return InvariantsFailed(
        f"{when}: {len(problems)} release invariants do not hold",
        why="\n".join(lines),
        hint="fix each problem listed, then run the command again",
    )


# ---------------------------------------------------------------- the invariants


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:MAX_LISTED])
    more = len(paths) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def repository_problems(ctx: Context, tree: WorkTree) -> list[Problem]:
    """HEAD on a branch (the configured one), or exactly at the release tag."""
    head = tree.head or ""
    branch = tree.branch
    configured = ctx.config.release.branch
    if branch is None:
        if ctx.repo.local_tag_commit(ctx.tag) == head:
            return []  # a tag-triggered run: the checks step confirms the remote has the tag
        return [
            Problem(
                "HEAD is detached (no branch is checked out)",
                why=f"HEAD points directly at {head[:12]}; a release pushes its commit to a "
                "branch (only a tag-triggered CI run may start at the release tag itself)",
                hint=f"switch to the release branch: git switch {configured or 'main'}",
            )
        ]
    if configured and branch != configured:
        return [
            Problem(
                f"on branch `{branch}`, not the release branch `{configured}`",
                why="release.branch in the configuration names the branch releases come from",
                hint=f'git switch {configured}  (or set release.branch = "{branch}")',
            )
        ]
    return []


def tree_problems(tree: WorkTree, *, allowed: Iterable[str] = ()) -> list[Problem]:
    """No uncommitted change and no untracked file (ignored files do not count)."""
    allow = set(allowed)
    changes = [c for c in tree.changes if c not in allow]
    if not changes:
        return []
    return [
        Problem(
            f"the work tree has {len(changes)} uncommitted change(s): {_listed(changes)}",
            why="what is built and published must be exactly the tagged commit, and a package "
            "would take untracked files too",
            hint="commit or stash them: git add -A && git commit, or git stash -u",
        )
    ]


def version_only_changes(ctx: Context) -> list[str]:
    """Version files whose only uncommitted change is their version line (what `shipit
    version set` writes): the release commit commits exactly that."""
    changed = set(ctx.repo.work_tree().tracked_changes)
    found: list[str] = []
    for source in ctx.project.sources:
        name = str(source.file)
        if name not in changed or source.version is None:
            continue
        removed, added = git.changed_lines(ctx.root, name)
        if len(removed) == 1 and len(added) == 1 and source.version in added[0]:
            found.append(name)
    return found


def missing_tools(ctx: Context, steps: Iterable[Step]) -> list[Problem]:
    """Every tool a step of the plan runs, looked up once each."""
    needed: dict[str, tuple[Tool, list[str]]] = {}
    for step in steps:
        tools = getattr(step, "tools", None)
        if not callable(tools):
            continue
        for tool in tools(ctx):
            needed.setdefault(tool.name, (tool, []))[1].append(step.id)
    problems: list[Problem] = []
    for name, (tool, users) in needed.items():
        if tool.module is not None:
            present = importlib.util.find_spec(tool.module) is not None
        else:
            present = proc.which(tool.program or name, ctx.env) is not None
        if not present:
            problems.append(
                Problem(
                    f"`{name}` is not installed ({', '.join(users)} runs it)",
                    why="every tool a step needs is looked for before anything is published, "
                    "so a release never stops half-way for want of one",
                    hint=tool.hint,
                )
            )
    return problems


def target_problems(ctx: Context, steps: Iterable[Step]) -> list[Problem]:
    """At least one step publishes something: a bare tag is not a release."""
    ids = [s.id for s in steps]
    if any(i in PUBLISHERS for i in ids) or any(
        i.startswith("command:") and _after_gate(ctx, i) for i in ids
    ):
        return []
    reasons = "; ".join(
        f"{t.name}: {t.reason}"
        for t in ctx.project.targets.values()
        if t.name in ("npm", "jsr", "pypi", "github")
    )
    return [
        Problem(
            "nothing to publish: npm, JSR, PyPI and GitHub are all off",
            why="a release publishes something; a bare tag is not a release"
            + (f" ({reasons})" if reasons else ""),
            hint="turn a target on in shipit.toml, e.g. `[npm] enabled = true` (or add a "
            '[[commands]] step with after = "publish"); `shipit plan` shows why each is off',
        )
    ]


def _after_gate(ctx: Context, step_id: str) -> bool:
    name = step_id.removeprefix("command:")
    spec = next((c for c in ctx.config.commands if c.id == name), None)
    return spec is not None and spec.after not in ("build", "verify")


def version_problems(ctx: Context) -> list[Problem]:
    """Every version file states the same version."""
    try:
        check_consistent(ctx.project)
    except VersionInconsistent as exc:
        return [
            Problem(
                exc.what,
                why=exc.why,
                hint=f"shipit version sync (or `shipit release --version {ctx.version}` to "
                "write one version everywhere)",
            )
        ]
    return []


def verify_before(
    ctx: Context, steps: Sequence[Step], *, version_written: bool, whole: bool
) -> None:
    """The invariants this machine can tell, before a journal is written or anything built.

    ``version_written``: ``--version``/``--bump`` writes one version into every file, so
    files that disagree now are fine; ``whole``: the whole release (not a step-by-step
    command), which must publish something. Raises InvariantsFailed naming every problem.
    """
    problems = before_problems(ctx, steps, version_written=version_written, whole=whole)
    if problems:
        raise failure(problems, when="the release cannot start")


def before_problems(
    ctx: Context, steps: Sequence[Step], *, version_written: bool, whole: bool
) -> list[Problem]:
    """What ``verify_before`` would refuse (``plan`` and ``--dry-run`` show it as blocked)."""
    ctx.repo.require_head()
    tree = ctx.repo.work_tree()  # the run's snapshot: what the plan and the checks read
    commits = any(s.id == COMMIT for s in steps)
    allowed = version_only_changes(ctx) if commits else []
    problems = repository_problems(ctx, tree) + tree_problems(tree, allowed=allowed)
    problems += missing_tools(ctx, steps)
    if whole:
        problems += target_problems(ctx, steps)
    if not version_written:
        problems += version_problems(ctx)
    return problems


# ---------------------------------------------------------------- gate:release


def fresh_tree(ctx: Context) -> WorkTree:
    """The work tree as it is now: read again (one ``git status``), not the snapshot's
    earlier answer, since a file may have been edited while the release ran."""
    ctx.repo.files_changed()
    ctx.repo.require_head()
    return ctx.repo.work_tree()


def release_tree_problems(ctx: Context, tree: WorkTree) -> list[Problem]:
    """HEAD is the release commit and no tracked file differs from it."""
    intended = intended_commit(ctx)
    head = tree.head or ""
    if head != intended:
        return [
            Problem(
                f"HEAD moved during the release: it is {head[:12]}, the release commit is "
                f"{intended[:12]}",
                why="what was built and checked is the release commit; the tag must point at it",
                hint=f"git checkout {intended[:12]} (or undo the release: shipit rollback)",
            )
        ]
    changed = tree.tracked_changes
    if changed:
        return [
            Problem(
                f"{len(changed)} tracked file(s) changed since the release commit: "
                f"{_listed(changed)}",
                why="what is published must be exactly the tagged commit",
                hint="put them back (git stash), then `shipit resume`",
            )
        ]
    return []


def require_release_tree(ctx: Context, what: str) -> None:
    """Right before ``what`` is packaged from the work tree: HEAD is the release commit and no
    tracked file changed, so the bytes built are the tagged commit's (InvariantsFailed)."""
    if ctx.dry_run or not ctx.guard_tree:
        return
    problems = release_tree_problems(ctx, fresh_tree(ctx))
    if problems:
        raise failure(problems, when=f"{what} was not built")


def built_files(ctx: Context) -> dict[str, list[Path]]:
    """What this release built to publish, by target: the npm tarball, the sdist and wheel,
    the binaries (or their archives)."""
    from shipit.steps import binaries, npm, pypi  # they import this module

    built: dict[str, list[Path]] = {}
    if ctx.project.target("npm") is not None:
        tarball, _ = npm.local_tarball(ctx)
        built["npm"] = [tarball] if tarball is not None and tarball.is_file() else []
    if ctx.project.target("pypi") is not None:
        built["pypi"] = [f.path for f in pypi.local_files(ctx) if f.path.is_file()]
    built["binaries"] = [a for a in binaries.artifacts(ctx) if a.is_file()]
    return {target: files for target, files in built.items() if files}


def secret_problems(ctx: Context) -> tuple[list[Problem], list[str]]:
    """The secrets check on the files the release built (``scan_release_files``): the
    check itself scans what each target would publish before the build, and cannot see the
    binaries at all. A quality check: ``--skip-checks`` or ``[checks.secrets] enabled =
    false`` leaves it out. Returns the problems and the names of the files scanned."""
    if ctx.skip_checks or ctx.dry_run or not ctx.config.checks.secrets.enabled:
        return [], []
    from shipit.checks.secrets import scan_release_files

    problems: list[Problem] = []
    scanned: list[str] = []
    for target, files in built_files(ctx).items():
        scanned += [f.name for f in files]
        for finding in scan_release_files(files, ctx.root, ctx.config, target=target):
            problems.append(
                Problem(
                    finding.message,
                    why="the secrets check scans the built files before anything is published",
                    hint=finding.hint or "take the file out of the package, then `shipit resume`",
                )
            )
    return problems, scanned


class GateStep:
    """Nothing visible before it: the checks passed, everything is built and verified, and
    the tree is still exactly the release commit."""

    id = GATE_ID
    needs: tuple[str, ...] = ()
    reversible = True

    def describe(self, ctx: Context) -> str:
        quality = (
            "(the quality checks are skipped: --skip-checks)"
            if ctx.skip_checks
            else "and the quality checks passed"
        )
        return (
            f"nothing visible happens before this: the release invariants hold {quality}, "
            "every artifact is built and verified, HEAD is still the release commit and no "
            "tracked file changed"
        )

    def probe(self, ctx: Context) -> Probe:
        return Probe.todo("verified when the release reaches it (every run, resume included)")

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        tree = fresh_tree(ctx)
        problems = repository_problems(ctx, tree) + release_tree_problems(ctx, tree)
        progress.status("scanning the built files for secrets")
        secrets, scanned = secret_problems(ctx)
        problems += secrets
        if problems:
            raise failure(problems, when="stopped before anything visible")
        checks = ctx.evidence_of("checks")
        evidence: Evidence = {
            "commit": tree.head,
            "branch": tree.branch,
            "quality_checks": checks.get("quality", "skipped" if ctx.skip_checks else None),
        }
        if scanned:
            evidence["secrets_scanned"] = scanned
        return evidence

    def undo(self, ctx: Context) -> Undo:
        return Undo.nothing("the gate changes nothing")


def gate_steps(ctx: Context) -> list[Step]:
    return [GateStep()]
