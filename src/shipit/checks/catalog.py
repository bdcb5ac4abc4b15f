"""Every check by name, in display order, and the shared context one run starts from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shipit.checks import presets
from shipit.checks.artifacts import PublishSets
from shipit.checks.base import Check, CheckContext, CheckResult, skipped
from shipit.checks.git_state import GitCheck
from shipit.checks.published import PublishedLookup
from shipit.checks.registry import RegistryCheck
from shipit.checks.secrets import SecretsCheck
from shipit.checks.security import SecurityCheck
from shipit.checks.tests import TestCheck
from shipit.checks.tooling import lint_check, typecheck_check
from shipit.checks.versions import VersionsCheck
from shipit.config import Config, Settings
from shipit.project import tags
from shipit.project.model import Project
from shipit.workspace import protect, release_dir

NAMES = ("git", "versions", "typecheck", "lint", "test", "security", "secrets", "registry")
#: What the checks that run no project command do (``shipit check --explain``).
BUILT_IN = {
    "git": "git status and git fetch: clean tree, on the release branch, not behind origin",
    "versions": "every manifest states the same version, valid for each target, not yet tagged",
    "secrets": "detect-secrets over exactly the files each target publishes",
    "registry": "each registry's token works and the version is not published yet",
}
LOG_DIR = Path(".shipit") / "checks"


class VersionsOrTags:
    """The ``versions`` check, or for a project whose version lives only in its git tags
    (deno.json without a version, hatch-vcs, setuptools-scm) and no ``--version`` given, a
    skip that says so: nothing in the files can disagree."""

    name = "versions"
    heavy = False

    def run(self, ctx: CheckContext) -> CheckResult:
        project = ctx.project
        if project.tag_driven and ctx.release_version is None:
            last = project.tags.latest_version
            shown = f" (last {project.tag_for(last)})" if last else ""
            return skipped(
                self.name,
                f"{project.tag_driven}{shown}: the release names the next version "
                "(`shipit release --version X.Y.Z`)",
            )
        return VersionsCheck().run(ctx)


def all_checks() -> list[Check]:
    return [
        GitCheck(),
        VersionsOrTags(),
        typecheck_check(),
        lint_check(),
        TestCheck(),
        SecurityCheck(),
        SecretsCheck(),
        RegistryCheck(),
    ]


def build_context(
    root: Path,
    config: Config,
    settings: Settings,
    project: Project,
    env: Mapping[str, str],
    *,
    log_dir: Path | None = None,
    release_version: str | None = None,
) -> CheckContext:
    """A run's context with the shared, cached publish-file sets and registry lookups.

    Also makes sure ``.shipit/`` (logs, coverage data) never counts as a change in the tree.
    """
    logs = log_dir or root / LOG_DIR
    protect(root)
    dist = None
    tag: str | None = None
    version = release_version or project.version
    if version:
        tag = tags.release_tag(config, project.tags, version)
        dist = release_dir(root, tag) / "dist"
    sets = PublishSets(
        root,
        env,
        dist_dir=dist,
        npm_build=config.npm.build_command,
        version=version,
        tag=tag,
        tag_version=project.tags.latest_version if project.tag_driven else None,
    )
    return CheckContext(
        root=root,
        config=config,
        settings=settings,
        project=project,
        env=env,
        log_dir=logs,
        publish_sets=sets,
        published=PublishedLookup(config, settings, sets, dist_dir=dist),
        release_version=release_version,
    )


def select(
    checks: list[Check], config: Config, only: list[str], skip: list[str]
) -> tuple[list[Check], list[str]]:
    """(checks to run, names disabled in config). Unknown names raise ValueError."""
    unknown = [n for n in [*only, *skip] if n not in NAMES]
    if unknown:
        raise ValueError(", ".join(unknown))
    chosen = [c for c in checks if (not only or c.name in only) and c.name not in skip]
    disabled = [c.name for c in chosen if not getattr(config.checks, c.name).enabled]
    return [c for c in chosen if c.name not in disabled], disabled


def explain(check: Check, ctx: CheckContext) -> presets.Plan:
    """What ``check`` will run and why: the preset's plan, or the built-in description."""
    planner = getattr(check, "plan", None)
    if callable(planner):
        planned = planner(ctx)
        assert isinstance(planned, presets.Plan)
        return planned
    from shipit.checks.command import Command

    what = BUILT_IN.get(check.name, check.name)
    return presets.Plan(check.name, [Command((), ctx.root, label="(built in)", why=what)])
