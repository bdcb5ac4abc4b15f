"""The orchestrator with fake steps: probe-first, parallelism, needs, failure, retry, rollback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import stamina
from enginefakes import FakeStep, context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipit.engine.events import Event, ReleaseEvent, StepEvent
from shipit.engine.journal import Journal, load
from shipit.engine.orchestrator import Orchestrator, RunOutcome
from shipit.engine.plan import plan_from_steps
from shipit.engine.step import Probe, Undo
from shipit.errors import OutcomeUnknown, PermanentError, TransientError
from tests.journals import written_journal


@pytest.fixture(autouse=True)
def _instant_retries() -> object:
    with stamina.set_testing(True, attempts=3):
        yield None


def run(
    tmp_path: Path, steps: list[tuple[str, FakeStep]], **kw: object
) -> tuple[RunOutcome, Journal, list[Event]]:
    ctx = context(tmp_path)
    plan = plan_from_steps(ctx, steps)
    journal = written_journal(
        ctx.release_dir,
        version=ctx.version,
        tag=ctx.tag,
        commit=ctx.commit,
        config_digest="x",
        steps=[(p.id, p.step.reversible) for p in plan.steps],
    )
    events: list[Event] = []
    listeners = [*kw.pop("listeners", []), events.append]  # type: ignore[misc]
    orch = Orchestrator(plan, journal, listeners=listeners, **kw)  # type: ignore[arg-type]
    return orch.run(), journal, events


def test_release_runs_every_step_once_and_records_it(tmp_path: Path) -> None:
    a, b = FakeStep("a"), FakeStep("b", needs=("a",))
    outcome, journal, events = run(tmp_path, [("build", a), ("build", b)])
    assert outcome.state == "released" and outcome.exit_code() == 0
    starts = sorted((t, i) for i, w, t in a.log + b.log if w == "start")
    assert [i for _, i in starts] == ["a", "b"]
    assert a.world == {"a"} and b.world == {"b"}
    on_disk = load(journal.release_dir)
    assert on_disk.state == "released"
    assert {k: v.state for k, v in on_disk.steps().items()} == {"a": "done", "b": "done"}
    assert on_disk.evidence_of("b") == {"id": "b"}
    assert any(isinstance(e, ReleaseEvent) and e.kind == "succeeded" for e in events)


def test_probe_done_skips_run(tmp_path: Path) -> None:
    a = FakeStep("a", world={"a"})
    outcome, journal, _ = run(tmp_path, [("tag", a)])
    assert outcome.state == "released"
    assert [what for _, what, _ in a.log] == ["probe"]
    assert journal.step_state("a") == "already-done"


def test_independent_steps_run_in_parallel(tmp_path: Path) -> None:
    barrier = threading.Barrier(3, timeout=5)
    steps = [
        ("publish", FakeStep(name, on_run=barrier.wait))
        for name in ("npm:publish", "jsr:publish", "pypi:publish")
    ]
    outcome, _, _ = run(tmp_path, steps)  # a sequential walk would break the barrier
    assert outcome.state == "released"


def test_conflict_stops_and_starts_nothing_after(tmp_path: Path) -> None:
    tag = FakeStep("git:tag", conflict=True)
    push = FakeStep("git:push")
    outcome, journal, events = run(tmp_path, [("tag", tag), ("push", push)])
    assert outcome.state == "failed" and outcome.exit_code() == 1
    assert push.log == []
    assert outcome.not_started == ["git:push"]
    assert journal.step_state("git:tag") == "conflict"
    assert load(journal.release_dir).document().failed_step == "git:tag"
    failed = [e for e in events if isinstance(e, StepEvent) and e.kind == "conflict"]
    assert failed and failed[0].hint == "fix it by hand"


def test_permanent_failure_lets_running_finish_and_starts_nothing_new(tmp_path: Path) -> None:
    slow = FakeStep("jsr:publish", duration=0.3)
    bad = FakeStep("npm:publish", fail_with=[PermanentError("token refused", hint="set it")])
    later = FakeStep("github:draft")
    outcome, journal, _ = run(tmp_path, [("publish", slow), ("publish", bad), ("github", later)])
    assert outcome.state == "failed"
    assert outcome.exit_code(journal) == 3  # jsr got published: incomplete, resumable
    assert journal.step_state("jsr:publish") == "done"
    assert journal.step_state("npm:publish") == "failed"
    assert (error := journal.step("npm:publish").error) is not None and error.hint == "set it"
    assert later.log == []


def test_failure_with_nothing_done_exits_1(tmp_path: Path) -> None:
    bad = FakeStep("a", fail_with=[PermanentError("no")])
    outcome, journal, _ = run(tmp_path, [("build", bad)])
    assert outcome.exit_code(journal) == 1


def test_transient_failure_is_retried(tmp_path: Path) -> None:
    flaky = FakeStep("a", fail_with=[TransientError("503", retry_after=7)])
    outcome, journal, events = run(tmp_path, [("publish", flaky)])
    assert outcome.state == "released"
    assert journal.step("a").attempts == 2
    assert [w for _, w, _ in flaky.log].count("start") == 2
    assert any(isinstance(e, StepEvent) and e.kind == "retrying" for e in events)


def test_transient_failures_give_up_after_the_configured_attempts(tmp_path: Path) -> None:
    flaky = FakeStep("a", fail_with=[TransientError("503")] * 5)
    outcome, journal, _ = run(tmp_path, [("publish", flaky)])
    assert outcome.state == "failed"
    assert (error := journal.step("a").error) is not None and error.code == "transient"
    assert [w for _, w, _ in flaky.log].count("start") == 3  # stamina testing: 3 attempts


def test_outcome_unknown_probes_before_retrying(tmp_path: Path) -> None:
    lost = OutcomeUnknown("connection dropped after upload")
    lost.happened = True  # type: ignore[attr-defined]  # the upload did go through
    step = FakeStep("npm:publish", fail_with=[lost])
    outcome, journal, _ = run(tmp_path, [("publish", step)])
    assert outcome.state == "released"
    assert [w for _, w, _ in step.log] == ["probe", "start", "probe"]  # never sent twice
    assert "found done by a probe" in (journal.step("npm:publish").note or "")


def test_stop_request_interrupts_cleanly(tmp_path: Path) -> None:
    holder: list[Orchestrator] = []
    first = FakeStep("a", on_run=lambda: holder[0].request_stop())
    second = FakeStep("b")
    ctx = context(tmp_path)
    plan = plan_from_steps(ctx, [("build", first), ("tag", second)])
    journal = written_journal(
        ctx.release_dir,
        version="1.2.3",
        tag="v1.2.3",
        commit="0" * 40,
        config_digest="x",
        steps=[("a", True), ("b", True)],
    )
    orch = Orchestrator(plan, journal)
    holder.append(orch)
    outcome = orch.run()
    assert outcome.state == "interrupted" and outcome.exit_code() == 130
    assert second.log == []
    assert load(journal.release_dir).state == "interrupted"
    assert load(journal.release_dir).step_state("b") == "pending"


def test_rollback_undoes_in_reverse_and_reports_irreversible(tmp_path: Path) -> None:
    order: list[str] = []
    tag = FakeStep("git:tag", on_run=lambda: None)
    npm = FakeStep(
        "npm:publish",
        undo_result=Undo.irreversible("published over 72 hours ago", "npm deprecate x@1 'msg'"),
    )
    bad = FakeStep("jsr:publish", fail_with=[PermanentError("no")])
    ctx = context(tmp_path)
    plan = plan_from_steps(ctx, [("tag", tag), ("publish", npm), ("publish", bad)])
    journal = written_journal(
        ctx.release_dir,
        version="1.2.3",
        tag="v1.2.3",
        commit="0" * 40,
        config_digest="x",
        steps=[(p.id, True) for p in plan.steps],
    )
    orch = Orchestrator(
        plan,
        journal,
        listeners=[
            lambda e: (
                order.append(e.step_id)
                if isinstance(e, StepEvent) and e.kind == "undoing"
                else None
            )
        ],
    )
    orch.run()
    result = orch.rollback()
    assert order == ["npm:publish", "git:tag"]  # reverse plan order, failed step untouched
    assert result.state == "partly-rolled-back" and result.exit_code() == 1
    assert [o.hint for o in result.remaining] == ["npm deprecate x@1 'msg'"]
    assert tag.world == set()
    on_disk = load(journal.release_dir)
    assert on_disk.state == "partly-rolled-back"
    assert on_disk.step_state("git:tag") == "undone"
    assert on_disk.step_state("npm:publish") == "irreversible"


@st.composite
def dags(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...], str]]:
    n = draw(st.integers(min_value=1, max_value=8))
    phases = ["build", "verify", "tag", "publish"]
    indexes = sorted(draw(st.lists(st.integers(0, len(phases) - 1), min_size=n, max_size=n)))
    out: list[tuple[str, tuple[str, ...], str]] = []
    for i in range(n):  # needs only on steps listed earlier (earlier or the same phase)
        earlier = [f"s{j}" for j in range(i)]
        needs = tuple(draw(st.lists(st.sampled_from(earlier), unique=True))) if earlier else ()
        out.append((f"s{i}", needs, phases[indexes[i]]))
    return out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dags())
def test_every_step_starts_after_all_its_needs_finished(
    tmp_path_factory: pytest.TempPathFactory, dag: list[tuple[str, tuple[str, ...], str]]
) -> None:
    tmp = tmp_path_factory.mktemp("dag")
    log: list[tuple[str, str, float]] = []
    lock = threading.Lock()
    steps = [
        (phase, FakeStep(i, needs=needs, log=log, lock=lock, duration=0.002))
        for i, needs, phase in dag
    ]
    outcome, _, _ = run(tmp, steps)
    assert outcome.state == "released"
    plan = plan_from_steps(context(tmp), steps)
    started = {i: t for i, w, t in log if w == "start"}
    ended = {i: t for i, w, t in log if w == "end"}
    assert set(started) == {i for i, _, _ in dag}
    for planned in plan.steps:
        for need in planned.needs:
            assert ended[need] <= started[planned.id], (need, planned.id)


def test_listener_errors_never_break_a_release(tmp_path: Path) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    outcome, journal, events = run(tmp_path, [("build", FakeStep("a"))], listeners=[broken])
    assert outcome.state == "released"
    assert journal.step_state("a") == "done"
    assert any(isinstance(e, StepEvent) and e.kind == "done" for e in events)


def _gated(failing: FakeStep | None = None) -> list[tuple[str, FakeStep]]:
    """A release-shaped plan: commit, checks beside a build, the gate, a tag and a publish."""
    return [
        ("commit", FakeStep("git:commit")),
        ("checks", failing or FakeStep("checks")),
        ("build", FakeStep("npm:pack", duration=0.2)),
        ("gate", FakeStep("gate:release")),
        ("tag", FakeStep("git:tag")),
        ("publish", FakeStep("npm:publish")),
    ]


def test_a_failure_before_anything_visible_discards_the_local_work(tmp_path: Path) -> None:
    steps = _gated(FakeStep("checks", fail_with=[PermanentError("a test failed")]))
    outcome, journal, _ = run(tmp_path, steps)
    assert outcome.state == "failed" and outcome.exit_code(journal) == 1
    assert not outcome.visible_done
    assert [o.id for o in outcome.discarded] == ["npm:pack", "git:commit"]  # newest first
    world = {i for _, s in steps for i in s.world}
    assert world == set()  # the build that ran beside the checks was undone too
    on_disk = load(journal.release_dir)
    assert on_disk.state == "rolled-back"  # over: the next `release` starts afresh
    states = {k: v.state for k, v in on_disk.steps().items()}
    assert states["git:commit"] == "undone" and states["npm:pack"] == "undone"
    assert states["git:tag"] == "pending" and states["npm:publish"] == "pending"


def test_a_failure_after_something_visible_keeps_everything_for_resume(tmp_path: Path) -> None:
    steps = _gated()
    steps[-1] = ("publish", FakeStep("npm:publish", fail_with=[PermanentError("403")]))
    outcome, journal, _ = run(tmp_path, steps)
    assert outcome.state == "failed" and outcome.exit_code(journal) == 3
    assert outcome.visible_done and outcome.discarded == []
    assert load(journal.release_dir).state == "failed"
    assert {i for _, s in steps for i in s.world} == {
        "git:commit",
        "checks",
        "npm:pack",
        "gate:release",
        "git:tag",
    }


def test_a_blocked_probe_fails_the_step_without_running_it(tmp_path: Path) -> None:
    class Blocked(FakeStep):
        def probe(self, ctx: object) -> Probe:  # type: ignore[override]
            return Probe.blocked("the tree is dirty", "git stash -u")

    gate = Blocked("gate:release")
    steps = _gated()
    steps[3] = ("gate", gate)
    outcome, journal, _ = run(tmp_path, steps)
    assert outcome.failed[0].id == "gate:release" and outcome.failed[0].hint == "git stash -u"
    assert gate.world == set() and not any(w == "start" for _, w, _ in gate.log)
    assert outcome.exit_code(journal) == 1


def test_the_gate_probes_every_visible_step_at_once_and_each_uses_its_answer(
    tmp_path: Path,
) -> None:
    steps = _gated()
    steps.append(("publish", FakeStep("jsr:publish", needs=("git:tag",))))  # waits on a visible
    outcome, _journal, events = run(tmp_path, steps)
    assert outcome.state == "released"
    probes = {s.id: [w for _, w, _ in s.log].count("probe") for _, s in steps}
    assert probes["npm:publish"] == 1  # at the gate, used when it ran
    assert probes["git:tag"] == 1
    assert probes["jsr:publish"] == 2  # its gate answer may be stale: probed again
    assert probes["npm:pack"] == 1  # local steps are probed when they run, as before
    ahead = [e for e in events if isinstance(e, StepEvent) and e.message == "probed at the gate"]
    assert {e.step_id for e in ahead} == {"git:tag", "npm:publish", "jsr:publish"}


def test_a_conflict_found_at_the_gate_stops_before_anything_visible(tmp_path: Path) -> None:
    steps = _gated()
    steps[-1] = ("publish", FakeStep("npm:publish", conflict=True))
    outcome, journal, _ = run(tmp_path, steps)
    assert outcome.state == "failed" and outcome.exit_code(journal) == 1
    assert outcome.failed[0].id == "gate:release"
    assert "npm:publish would conflict" in outcome.failed[0].message
    assert outcome.failed[0].hint == "fix it by hand"
    tag = next(s for _, s in steps if s.id == "git:tag")
    assert tag.world == set()  # nothing after the gate ran
    on_disk = load(journal.release_dir)
    assert on_disk.step("npm:publish").state == "conflict"
    assert on_disk.state == "rolled-back"  # the local work was discarded
