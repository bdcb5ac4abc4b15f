"""The release plan: one explicit, ordered pipeline of step kinds, turned into a step graph.

Reading ``PIPELINE`` tells the whole release, safest first. First the local, reversible work:
the release commit (the version written into every manifest), then the ``checks`` step (the
release invariants, and the quality checks unless ``--skip-checks``) *beside* the builds and
their verification, which are speculative: they have no visible effect, start while the
checks run, and are discarded if the release fails before anything visible. ``gate:release``
waits for all of it and verifies the invariants once more; every step the world can see (tag
push, publish, GitHub, notify) comes after the gate. Each entry is a phase and a step factory
``(ctx) -> list[Step]``; a factory returns no steps when its target is off in the project.
Every step implicitly needs all steps of earlier phases (a speculative phase does not wait for
the checks); declared ``needs`` order steps inside a phase. User command steps
(``[[commands]]``) run in their own phase right after ``after``.
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
from shipit.steps import (
    binaries,
    checksums,
    command,
    gate,
    git_tag,
    github,
    jsr,
    notify,
    npm,
    preflight,
    pypi,
)


class Phase(StrEnum):
    COMMIT = "commit"
    CHECKS = "checks"
    BUILD = "build"
    VERIFY = "verify"
    GATE = "gate"
    TAG = "tag"
    PUSH = "push"
    PUBLISH = "publish"
    GITHUB = "github"
    NOTIFY = "notify"


PIPELINE: tuple[tuple[Phase, StepFactory], ...] = (
    (Phase.COMMIT, git_tag.commit_steps),  # git:commit: the version into every manifest, locally
    (Phase.CHECKS, preflight.checks_steps),  # checks: invariants (+ quality checks), beside:
    (Phase.BUILD, npm.pack_steps),  # npm:pack: the tarball npm will publish    } speculative:
    (Phase.BUILD, pypi.build_steps),  # pypi:build: sdist and wheel           } no visible
    (Phase.BUILD, binaries.build_steps),  # binaries:build:<target>             } effect, run
    (Phase.VERIFY, binaries.verify_steps),  # binaries:verify:<target>          } while the
    (Phase.VERIFY, checksums.checksum_steps),  # checksums, checksums:sign      } checks run
    (Phase.GATE, gate.gate_steps),  # gate:release: nothing visible happens before it
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

SPECULATIVE: frozenset[str] = frozenset({Phase.BUILD, Phase.VERIFY})
"""Phases that start while the checks run: they do not wait for the CHECKS phase."""


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

    @property
    def speculative(self) -> bool:
        """Whether it runs while the checks run (its work is discarded if they fail)."""
        return self.phase in SPECULATIVE


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

    @property
    def gate_id(self) -> str | None:
        """The gate's id when the plan has one."""
        return gate.GATE_ID if gate.GATE_ID in self else None

    @property
    def local_ids(self) -> set[str]:
        """The gate and the steps it waits for: no effect outside this machine, undone when
        the release fails before anything visible. Without a gate every step counts as
        visible (nothing is ever discarded)."""
        if gate.GATE_ID not in self:
            return set()
        return {gate.GATE_ID, *self.get(gate.GATE_ID).needs}

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
        local = self.local_ids
        for planned in self.steps:
            why, hint = (notes or {}).get(planned.id, (None, None))
            steps.append(
                PlanStep(
                    id=planned.id,
                    phase=planned.phase,
                    needs=list(planned.needs),
                    state=(states or {}).get(planned.id, StepState.PENDING),
                    reversible=bool(planned.step.reversible),
                    speculative=planned.speculative,
                    visible=planned.id not in local,
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


def build_plan(ctx: Context, *, only: Sequence[str] | None = None, gated: bool = True) -> Plan:
    """Build the plan for ``ctx``; ``only`` keeps the steps whose id starts with a prefix,
    and the ``checks`` step and the gate too when one of them is visible (``gated=False``
    leaves them out: for tests that drive publish steps on their own)."""
    collected = [(phase, step) for phase, factory in pipeline(ctx.config) for step in factory(ctx)]
    if only is not None:
        order = [phase for phase, _ in collected]
        gate_at = order.index(Phase.GATE) if Phase.GATE in order else len(order)
        chosen = [
            (index, phase, s)
            for index, (phase, s) in enumerate(collected)
            if any(s.id == p or s.id.startswith(p + ":") for p in only)
        ]
        if gated and any(index > gate_at for index, _, _ in chosen):  # visible: gate it
            kept = {s.id for _, _, s in chosen}
            keep = kept | {s.id for phase, s in collected if phase in (Phase.CHECKS, Phase.GATE)}
            chosen = [(i, p, s) for i, (p, s) in enumerate(collected) if s.id in keep]
            targets = tuple(t for t in preflight.PUBLISHING if any(i.startswith(t) for i in kept))
            chosen = [
                (i, p, preflight.ChecksStep(targets) if isinstance(s, preflight.ChecksStep) else s)
                for i, p, s in chosen
            ]
        collected = [(phase, s) for _, phase, s in chosen]
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
        earlier = [
            i
            for p in order[: order.index(phase)]
            if not (phase in SPECULATIVE and p == Phase.CHECKS)
            for i in by_phase[p]
        ]
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
