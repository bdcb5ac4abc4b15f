"""Helpers for the GitHub integration tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.config import Config, Settings
from shipit.engine.journal import Journal
from shipit.engine.orchestrator import Orchestrator, RunOutcome
from shipit.engine.plan import plan_from_steps
from shipit.engine.step import Context, Step
from shipit.project.detect import detect
from shipit.registries.github import GitHub
from shipit.sandbox.servers import TestServer
from shipit.steps import checksums, github

CHANGELOG = """# Changelog

## [Unreleased]

## [{version}] - 2026-11-24
### Added
- Binaries for five platforms.

## [0.1.0] - 2026-01-01
- First.
"""


@dataclass
class Release:
    ctx: Context
    journal: Journal

    def plan_steps(self) -> list[tuple[str, Step]]:
        steps: list[tuple[str, Step]] = []
        steps += [("verify", s) for s in checksums.checksum_steps(self.ctx)]
        steps += [("github", s) for s in github.draft_steps(self.ctx)]
        steps += [("github", s) for s in github.asset_steps(self.ctx)]
        steps += [("github", s) for s in github.publish_steps(self.ctx)]
        return steps

    def run(self) -> RunOutcome:
        plan = plan_from_steps(self.ctx, self.plan_steps())
        if not self.journal.written:
            self.journal.begin([(p.id, p.step.reversible) for p in plan.steps])
        return Orchestrator(plan, self.journal).run()

    def rollback(self) -> Any:
        plan = plan_from_steps(self.ctx, self.plan_steps())
        return Orchestrator(plan, self.journal).rollback()


def make_release(
    root: Path,
    server: TestServer,
    version: str,
    files: dict[str, bytes],
    *,
    token: str | None = None,
    github_cfg: dict[str, Any] | None = None,
    replace_assets: bool = False,
    changelog: bool = True,
) -> Release:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    if changelog:
        (root / "CHANGELOG.md").write_text(CHANGELOG.format(version=version))
    config = Config.model_validate(
        {"github": {"enabled": True, "extra-assets": list(files), **(github_cfg or {})}}
    )
    env = {
        "GITHUB_API_URL": server.url,
        "GITHUB_TOKEN": token if token is not None else server.token,
        "GITHUB_REPOSITORY": server.repo or "",
    }
    release_dir = root / ".shipit" / "releases" / f"v{version}"
    journal = Journal.new(
        release_dir, version=version, tag=f"v{version}", commit="0" * 40, config_digest="test"
    )
    ctx = Context(
        root=root,
        config=config,
        settings=Settings.from_env(env, config),
        project=detect(root, config, env),
        version=version,
        tag=f"v{version}",
        commit="0" * 40,
        release_dir=release_dir,
        env=env,
        replace_assets=replace_assets,
        evidence_of=journal.evidence_of,
    )
    return Release(ctx, journal)


def api(server: TestServer) -> GitHub:
    return GitHub(api_url=server.url, token=server.token, repository=server.repo or "")


def releases_for(server: TestServer, tag: str) -> list[dict[str, Any]]:
    with api(server) as gh:
        return [r for r in gh.list_releases() if r.get("tag_name") == tag]


def assets_of(server: TestServer, release_id: int) -> list[dict[str, Any]]:
    with api(server) as gh:
        return gh.list_assets(release_id)


def random_bytes(n: int) -> bytes:
    return os.urandom(n)
