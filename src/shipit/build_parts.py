"""``shipit build``: build and verify some targets' binaries from the checkout into a directory
of parts, each with its part manifest (``shipit.parts``).

It reads the checkout (HEAD's commit, a clean tree) and never touches git refs, a registry or
GitHub. The targets are built by the release's own binary steps (``steps.binaries``: the
configured command or preset, the format/CPU check, the smoke run where the binary runs) in a
work directory under ``.shipit/builds/<tag>/``; each artifact is then copied into the output
directory, its copy's sha256 checked, and ``<target>.part.json`` written last, so a directory
with a manifest always has its files.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipit import __version__, git, parts, workspace
from shipit.config import Config
from shipit.engine.step import Context, Progress, make_context
from shipit.errors import GitError, ShipitError, UsageError
from shipit.project.model import Project
from shipit.steps import binaries


@dataclass(frozen=True)
class Built:
    """The outcome of one target: its manifest and where it was written, or the failure."""

    target: str
    manifest: parts.PartManifest | None = None
    path: Path | None = None
    error: ShipitError | None = None


def select_targets(
    config: Config, project: Project, wanted: Sequence[str], all_local: bool
) -> list[str]:
    """The targets to build: ``--target`` values (each configured), or all with ``--all-local``."""
    bins = config.binaries
    if project.target("binaries") is None or not bins.targets:
        raise UsageError(
            "this project builds no binaries",
            why="[binaries] is not enabled or lists no targets",
            hint="set `enabled = true` and `targets = [...]` in [binaries] (shipit.toml)",
        )
    if all_local:
        return list(bins.targets)
    if not wanted:
        raise UsageError(
            "which targets? pass --target T (repeatable) or --all-local",
            hint=f"shipit build --target {bins.targets[0]} --out shipit-parts",
        )
    unknown = [t for t in wanted if t not in bins.targets]
    if unknown:
        raise UsageError(
            f"not a configured target: {', '.join(unknown)}",
            why=f"[binaries] targets are: {', '.join(bins.targets)}",
            hint="use one of those, or add the target to [binaries] targets",
        )
    return list(dict.fromkeys(wanted))


def keep_out_of_git(root: Path, out: Path) -> None:
    """An output directory inside the work tree gets a ``.gitignore`` of ``*``: parts are never
    committed, and the tree stays clean for a release from this checkout."""
    top = git.repo_root(root)
    try:
        out.resolve().relative_to(top)
    except ValueError:
        return
    out.mkdir(parents=True, exist_ok=True)
    marker = out / ".gitignore"
    if not marker.exists():
        marker.write_text("# written by shipit build: parts are not committed\n*\n")


def require_clean(root: Path, out: Path) -> None:
    """Refuse a tree with uncommitted changes (the output directory itself excepted)."""
    top = git.repo_root(root)
    try:
        out_rel = out.resolve().relative_to(top).as_posix() + "/"
    except ValueError:
        out_rel = None
    changes = [
        c for c in git.status_changes(top) if not (out_rel and (c + "/").startswith(out_rel))
    ]
    if changes:
        shown = ", ".join(changes[:5]) + (
            f" and {len(changes) - 5} more" if len(changes) > 5 else ""
        )
        raise GitError(
            f"the work tree has {len(changes)} uncommitted change(s): {shown}",
            why="a part says which commit it was built from, so it must be built from exactly "
            "that commit",
            hint="commit or stash them (git stash -u), then build again",
        )


def context_for(
    root: Path,
    config: Config,
    project: Project,
    *,
    version: str,
    commit: str,
    targets: Sequence[str],
    env: Mapping[str, str],
    ci: bool,
) -> Context:
    """The release context restricted to ``targets``, working under ``.shipit/builds/<tag>``."""
    bins = config.binaries.model_copy(update={"targets": list(targets)})
    narrowed = config.model_copy(update={"binaries": bins})
    ctx = make_context(
        root=root,
        config=narrowed,
        project=project,
        version=version,
        commit=commit,
        env=env,
        ci=ci,
    )
    workspace.protect(root)
    return dataclasses.replace(ctx, release_dir=workspace.build_dir(root, ctx.tag))


def _how(ctx: Context, build: binaries.Build, evidence: Mapping[str, object]) -> parts.HowBuilt:
    argv, extra_env = binaries.command_argv(ctx, build)
    prefix = " ".join(f"{k}={v}" for k, v in extra_env.items())
    archs = evidence.get("archs")
    return parts.HowBuilt(
        command=(prefix + " " if prefix else "") + shlex.join(argv),
        preset=ctx.config.binaries.preset,
        host=parts.host(),
        format=str(evidence.get("format", "")),
        archs=[str(a) for a in archs] if isinstance(archs, list) else [],
        smoke=str(evidence.get("smoke", "")),
        built_at=parts.now_iso(),
        duration_s=round(float(str(evidence.get("duration_s", 0.0))), 3),
        ci=parts.ci_run(ctx.env),
    )


def build(ctx: Context, out: Path, progress_for: Callable[[str], Progress]) -> list[Built]:
    """Build and verify every target of ``ctx`` in parallel; write each good one into ``out``."""
    results = binaries.build_all(ctx, progress_for)
    by_target = {b.target: b for b in binaries.builds(ctx)}
    done: list[Built] = []
    for target, outcome in results.items():
        if isinstance(outcome, Exception):
            error = (
                outcome
                if isinstance(outcome, ShipitError)
                else ShipitError(
                    f"building {target} failed", why=f"{type(outcome).__name__}: {outcome}"
                )
            )
            done.append(Built(target, error=error))
            continue
        b = by_target[target]
        sha = str(outcome["sha256"])
        parts.copy_verified(b.artifact, out / b.artifact.name, sha)
        manifest = parts.PartManifest(
            format=parts.FORMAT,
            shipit=__version__,
            project=b.name,
            version=ctx.version,
            tag=ctx.tag,
            commit=ctx.commit,
            target=target,
            files=[
                parts.PartFile(name=b.artifact.name, size=int(str(outcome["size"])), sha256=sha)
            ],
            build=_how(ctx, b, outcome),
        )
        done.append(Built(target, manifest, parts.write(manifest, out)))
    return done
