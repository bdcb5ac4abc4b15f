"""Helpers for the publisher tests: real projects in real git repositories, released step by
step through the real orchestrator and journal against the sandbox's registries."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shipit.config import RetryConfig, load
from shipit.engine.events import Event, StepEvent
from shipit.engine.journal import Journal
from shipit.engine.orchestrator import Orchestrator, RunOutcome
from shipit.engine.plan import build_plan
from shipit.engine.step import Context, make_context, tag_for
from shipit.project.detect import detect
from shipit.project.versions import to_semver
from shipit.sandbox.faults import clear_faults
from shipit.sandbox.git_remote import GitRepo
from shipit.workspace import release_dir

# fast waits, but enough attempts for "two 503s then success"
FAST_RETRY = RetryConfig(attempts=5, initial_wait=0.05, max_wait=0.2, max_total=120)


@dataclass
class Run:
    """One orchestrator run: outcome, journal, the events it emitted, and how long it took."""

    outcome: RunOutcome
    journal: Journal
    events: list[Event]
    elapsed: float
    ctx: Context

    def state(self, step_id: str) -> str:
        return str(self.journal.step(step_id).state)

    def attempts(self, step_id: str) -> int:
        return self.journal.step(step_id).attempts

    def evidence(self, step_id: str) -> dict[str, Any]:
        return dict(self.journal.step(step_id).evidence)

    def error(self, step_id: str) -> dict[str, Any]:
        error = self.journal.step(step_id).error
        return error.model_dump() if error is not None else {}

    def step_events(self, step_id: str, kind: str | None = None) -> list[StepEvent]:
        return [
            e
            for e in self.events
            if isinstance(e, StepEvent)
            and e.step_id == step_id
            and (kind is None or e.kind == kind)
        ]


@dataclass
class Project:
    """A project in a git work clone, released with the engine against ``env``."""

    repo: GitRepo
    env: dict[str, str]
    retry: RetryConfig = field(default_factory=lambda: FAST_RETRY)

    @property
    def root(self) -> Path:
        return self.repo.path

    def commit(self, files: Mapping[str, str], message: str = "change") -> None:
        self.repo.commit(message, dict(files))

    def release(
        self,
        only: Sequence[str],
        *,
        fresh: bool = False,
        resume: Journal | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Run:
        """Run the steps of ``only``. ``fresh``: forget any journal (as if it was lost)."""
        environment = {**self.env, **(env or {})}
        config = load(self.root).config
        project = detect(self.root, config, environment)
        assert project.version, "the test project states no version"
        version = to_semver(project.version)
        tag = tag_for(config, project, version)
        if fresh:
            for old in release_dir(self.root, tag).glob("journal*.json"):
                old.unlink()
        journal = resume or Journal.new(
            release_dir(self.root, tag),
            version=version,
            tag=tag,
            commit=self.repo.head(),
            config_digest=config.digest(),
        )
        ctx = make_context(
            root=self.root,
            config=config,
            project=project,
            version=version,
            commit=self.repo.head(),
            env=environment,
            evidence_of=journal.evidence_of,
        )
        plan = build_plan(ctx, only=list(only), gated=False)  # the steps alone, no gate
        assert plan.ids, f"no steps for {only}: targets {project.targets}"
        if resume is None:
            journal.begin([(p.id, bool(p.step.reversible)) for p in plan.steps])
        events: list[Event] = []
        orchestrator = Orchestrator(plan, journal, retry=self.retry, listeners=[events.append])
        start = time.monotonic()
        outcome = orchestrator.run()
        return Run(outcome, journal, events, time.monotonic() - start, ctx)


# ---------------------------------------------------------------- project files


def npm_files(name: str, version: str, body: str = "module.exports = 1;\n") -> dict[str, str]:
    manifest = {"name": name, "version": version, "license": "MIT", "main": "index.js"}
    return {"package.json": json.dumps(manifest, indent=2) + "\n", "index.js": body}


def jsr_files(
    name: str, version: str, body: str = "export const x: number = 1;\n"
) -> dict[str, str]:
    manifest = {"name": name, "version": version, "license": "MIT", "exports": "./mod.ts"}
    return {"deno.json": json.dumps(manifest, indent=2) + "\n", "mod.ts": body}


def pypi_files(name: str, version: str, body: str = "VALUE = 1\n") -> dict[str, str]:
    module = name.replace("-", "_")
    pyproject = (
        "[build-system]\n"
        'requires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        f'name = "{name}"\n'
        f'version = "{version}"\n'
        'description = "a sandbox package"\n'
        'license = {text = "MIT"}\n'
        'requires-python = ">=3.9"\n'
    )
    return {"pyproject.toml": pyproject, f"src/{module}/__init__.py": body}


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def project(git_repo: GitRepo, sandbox_env: dict[str, str]) -> Project:
    """A fresh git project whose environment points at the sandbox (no files yet)."""
    env = dict(os.environ)
    env.update(sandbox_env)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return Project(git_repo, env)


@pytest.fixture
def jsr_faults(jsr_server: Any) -> Iterator[Callable[[], None]]:
    """Clears the JSR server's fault rules after the test (the server is shared)."""
    yield lambda: clear_faults(jsr_server.url)
    clear_faults(jsr_server.url)


def secrets_absent(texts: Sequence[str], *secrets: str) -> bool:
    return not any(s and s in t for s in secrets for t in texts)


def release_log_texts(run: Run) -> list[str]:
    """Every file shipit wrote under the release directory (journal, events, logs)."""
    out = []
    for path in run.ctx.release_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".log", ".txt"):
            out.append(path.read_text(encoding="utf-8", errors="replace"))
    return out
