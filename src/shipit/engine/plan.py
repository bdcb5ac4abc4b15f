"""The release plan: one explicit, ordered pipeline of step kinds, turned into a step graph.

Reading ``PIPELINE`` tells the whole release, safest first: everything that can fail without
a visible side effect (build, verify) runs before anything the world can see (commit, tag,
push, publish, GitHub, notify). Each entry is a phase and a step factory ``(ctx) -> list[Step]``;
a factory returns no steps when its target is off in the detected project.
Every step implicitly needs all steps of earlier phases; declared ``needs`` order steps inside
a phase. User command steps (``[[commands]]``) run in their own phase right after ``after``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

from shipit.config import Config
from shipit.engine.documents import (
    PlanDocument,
    PlanRelease,
    PlanStep,
    PlanStepState,
    PlanTarget,
)
from shipit.engine.states import StepState
from shipit.engine.step import Context, Step, StepFactory
from shipit.errors import PlanInvalid
from shipit.steps import binaries, checksums, command, git_tag, github, jsr, notify, npm, pypi


class Phase(StrEnum):
    BUILD = "build"
    VERIFY = "verify"
    COMMIT = "commit"
    TAG = "tag"
    PUSH = "push"
    PUBLISH = "publish"
    GITHUB = "github"
    NOTIFY = "notify"


PIPELINE: tuple[tuple[Phase, StepFactory], ...] = (
    (Phase.BUILD, npm.pack_steps),  # npm:pack: the tarball npm will publish
    (Phase.BUILD, pypi.build_steps),  # pypi:build: sdist and wheel
    (Phase.BUILD, binaries.build_steps),  # binaries:build:<target>, one per target
    (Phase.VERIFY, binaries.verify_steps),  # binaries:verify:<target>: format and smoke run
    (Phase.VERIFY, checksums.checksum_steps),  # checksums (SHA256SUMS), checksums:sign
    (Phase.COMMIT, git_tag.commit_steps),  # git:commit, only when versions need syncing
    (Phase.TAG, git_tag.tag_steps),  # git:tag
    (Phase.PUSH, git_tag.push_steps),  # git:push: the branch and the tag
    (Phase.PUBLISH, npm.publish_steps),  # npm:publish    } independent,
    (Phase.PUBLISH, jsr.publish_steps),  # jsr:publish    } run in
    (Phase.PUBLISH, pypi.publish_steps),  # pypi:publish   } parallel
    (Phase.GITHUB, github.draft_steps),  # github:draft: the release, still a draft
    (Phase.GITHUB, github.asset_steps),  # github:asset:<name>: binaries, sums, extra assets
    (Phase.GITHUB, github.publish_steps),  # github:publish: the draft goes public
    (Phase.NOTIFY, notify.notify_steps),  # notify: the "succeeded" message
)


def phases() -> list[Phase]:
    """The pipeline's phases in order."""
    return list(dict.fromkeys(phase for phase, _ in PIPELINE))


@dataclass(frozen=True)
class PlannedStep:
    step: Step
    phase: str
    needs: tuple[str, ...]  # effective needs: declared (present in the plan) + earlier phases

    @property
    def id(self) -> str:
        return self.step.id


@dataclass
class Plan:
    """The ordered steps of one release, with their effective needs."""

    ctx: Context
    steps: list[PlannedStep] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.steps]

    def get(self, step_id: str) -> PlannedStep:
        for planned in self.steps:
            if planned.id == step_id:
                return planned
        raise KeyError(step_id)

    def __contains__(self, step_id: object) -> bool:
        return any(p.id == step_id for p in self.steps)

    def document(
        self,
        states: Mapping[str, PlanStepState] | None = None,
        notes: Mapping[str, tuple[str | None, str | None]] | None = None,
        *,
        dry_run: bool = False,
    ) -> PlanDocument:
        """The ``shipit plan --json`` document: ``states`` from live probes or the journal
        (pending when absent), ``notes`` each probe's (why, hint)."""
        ctx = self.ctx
        steps = []
        for planned in self.steps:
            why, hint = (notes or {}).get(planned.id, (None, None))
            steps.append(
                PlanStep(
                    id=planned.id,
                    phase=planned.phase,
                    needs=list(planned.needs),
                    state=(states or {}).get(planned.id, StepState.PENDING),
                    reversible=bool(planned.step.reversible),
                    description=describe(planned.step, ctx),
                    why=why,
                    hint=hint,
                )
            )
        return PlanDocument(
            release=PlanRelease(
                version=ctx.version,
                tag=ctx.tag,
                commit=ctx.commit,
                tag_source=ctx.project.tags.source,
            ),
            dry_run=dry_run,
            targets=[
                PlanTarget(name=t.name, enabled=t.enabled, reason=t.reason, package=t.package)
                for t in ctx.project.targets.values()
            ],
            steps=steps,
        )


def describe(step: Step, ctx: Context) -> str:
    try:
        return step.describe(ctx)
    except Exception as exc:  # a broken describe must not hide the plan
        return f"{step.id} (cannot describe: {exc})"


def pipeline(config: Config) -> list[tuple[str, StepFactory]]:
    """PIPELINE with a user-command phase after each phase a ``[[commands]]`` entry follows."""
    out: list[tuple[str, StepFactory]] = []
    after = {c.after for c in config.commands}
    for index, (phase, factory) in enumerate(PIPELINE):
        out.append((phase, factory))
        last_of_phase = index + 1 == len(PIPELINE) or PIPELINE[index + 1][0] != phase
        if last_of_phase and phase in after:
            out.append((f"after-{phase}", partial(command.command_steps, after=phase)))
    return out


def build_plan(ctx: Context, *, only: Sequence[str] | None = None) -> Plan:
    """Build the plan for ``ctx``; ``only`` keeps the steps whose id starts with a prefix."""
    collected = [(phase, step) for phase, factory in pipeline(ctx.config) for step in factory(ctx)]
    if only is not None:
        collected = [
            (phase, s)
            for phase, s in collected
            if any(s.id == p or s.id.startswith(p + ":") for p in only)
        ]
    return plan_from_steps(ctx, collected)


def plan_from_steps(ctx: Context, collected: Sequence[tuple[str, Step]]) -> Plan:
    """Compute effective needs, refusing duplicate ids and cycles."""
    ids = [s.id for _, s in collected]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlanInvalid(
            f"the release plan has duplicate step ids: {', '.join(duplicates)}",
            why="two step factories (or [[commands]] entries) produced the same id",
            hint="give every [[commands]] entry its own `id` in shipit.toml",
        )
    present = set(ids)
    order = []
    for phase, _ in collected:
        if phase not in order:
            order.append(phase)
    by_phase: dict[str, list[str]] = {}
    for phase, step in collected:
        by_phase.setdefault(phase, []).append(step.id)
    planned: list[PlannedStep] = []
    for phase, step in collected:
        earlier = [i for p in order[: order.index(phase)] for i in by_phase[p]]
        declared = [n for n in step.needs if n in present and n not in earlier]
        planned.append(PlannedStep(step, phase, tuple(earlier + declared)))
    _check_cycles(planned)
    return Plan(ctx, planned)


def _check_cycles(planned: Sequence[PlannedStep]) -> None:
    needs = {p.id: set(p.needs) for p in planned}
    remaining = dict(needs)
    done: set[str] = set()
    while remaining:
        ready = [i for i, n in remaining.items() if n <= done]
        if not ready:
            raise PlanInvalid(
                "the release plan has a cycle",
                why="these steps wait for each other: " + ", ".join(sorted(remaining)),
                hint="remove the circular `needs` between these steps",
            )
        for i in ready:
            done.add(i)
            del remaining[i]
