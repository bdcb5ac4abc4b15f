"""The orchestrator: walk the plan as a graph, probe before running, retry, record, roll back.

For every step whose needs are met (independent steps run in parallel on a thread pool): probe
first; ALREADY_DONE -> recorded as already done with its evidence; CONFLICT -> stop; TODO ->
run, retrying transient failures (after ``OutcomeUnknown`` it probes again before retrying, and
an ALREADY_DONE answer counts as success). On a permanent failure or conflict it lets running
steps finish, starts nothing new and marks the release failed. ``request_stop``
(SIGINT/SIGTERM) does the same, terminates child processes and leaves the release
``interrupted``. Every transition goes to the journal first, then to the listeners.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

from shipit import proc
from shipit.config import RetryConfig
from shipit.engine import faults
from shipit.engine.documents import StepRecord
from shipit.engine.events import Event, Listener, ReleaseEvent, StepEvent, StepEventKind
from shipit.engine.journal import Journal, error_record
from shipit.engine.plan import Plan, PlannedStep
from shipit.engine.retry import classify_exception, retrying
from shipit.engine.states import BLOCKING, COMPLETED, ReleaseState, StepState, UndoState
from shipit.engine.step import Context, Evidence, Probe, ProbeState
from shipit.errors import ErrorCode, ExitCode, OutcomeUnknown, PermanentError, StepFailure
from shipit.redact import redact

log = logging.getLogger("shipit.engine")
events_log = logging.getLogger("shipit.engine.events")


def _describe_event(event: Event) -> str:
    if isinstance(event, ReleaseEvent):
        text = f"release {event.tag}: {event.kind}"
        if event.failed_step:
            text += f" at {event.failed_step}"
    else:
        text = f"{event.step_id}: {event.kind}"
        if event.attempt:
            text += f" (attempt {event.attempt})"
    if event.message:
        text += f": {event.message}"
    if event.hint:
        text += f" (next: {event.hint})"
    return redact(text)


_LEVELS = {
    "retrying": logging.WARNING,
    "irreversible": logging.WARNING,
    "failed": logging.ERROR,
    "conflict": logging.ERROR,
    "interrupted": logging.ERROR,
}


def log_event(event: Event) -> None:
    """A release or step transition into the release log: retries at WARNING, failures at
    ERROR; progress stays out (a large upload would flood the log)."""
    if isinstance(event, StepEvent) and event.kind in ("progress", "waiting"):
        return
    events_log.log(_LEVELS.get(event.kind, logging.INFO), "%s", _describe_event(event))


@dataclass(frozen=True)
class StepOutcome:
    """One step's fate in this run; PENDING means it was interrupted (or never started)."""

    id: str
    state: StepState
    message: str = ""
    why: str | None = None
    hint: str | None = None
    evidence: Evidence = field(default_factory=dict)


@dataclass
class RunOutcome:
    """What a run did: the release state and each step's fate, for the final report."""

    state: ReleaseState  # RELEASED, FAILED or INTERRUPTED once the run is over
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    visible_done: bool = False  # a step after the gate is done (in this run or an earlier one)
    discarded: list[UndoOutcome] = field(default_factory=list)  # local work undone on failure

    @property
    def failed(self) -> list[StepOutcome]:
        return [o for o in self.outcomes.values() if o.state in BLOCKING]

    @property
    def completed(self) -> list[str]:
        return [i for i, o in self.outcomes.items() if o.state in COMPLETED]

    @property
    def ran(self) -> list[str]:
        return [i for i, o in self.outcomes.items() if o.state == StepState.DONE]

    def exit_code(self, journal: Journal | None = None) -> int:
        """0 released, 130 interrupted, 3 when something visible is out (resumable), 1 when
        nothing visible happened or a conflict stopped the release."""
        if self.state == ReleaseState.RELEASED:
            return int(ExitCode.OK)
        if self.state == ReleaseState.INTERRUPTED:
            return int(ExitCode.INTERRUPTED)
        if any(o.state == StepState.CONFLICT for o in self.failed):
            return int(ExitCode.FAILED)
        return int(ExitCode.INCOMPLETE if self.visible_done else ExitCode.FAILED)


@dataclass(frozen=True)
class UndoOutcome:
    id: str
    state: UndoState
    message: str
    hint: str | None = None


@dataclass
class RollbackOutcome:
    state: ReleaseState  # ROLLED_BACK or PARTLY_ROLLED_BACK
    outcomes: list[UndoOutcome] = field(default_factory=list)

    @property
    def remaining(self) -> list[UndoOutcome]:
        return [o for o in self.outcomes if o.state in (UndoState.IRREVERSIBLE, UndoState.FAILED)]

    def exit_code(self) -> int:
        return int(ExitCode.OK if self.state == ReleaseState.ROLLED_BACK else ExitCode.FAILED)


class _StepProgress:
    """Progress of one running step: to the listeners and to the release log."""

    def __init__(self, step_id: str, emit: Callable[[Event], None]) -> None:
        self.step_id = step_id
        self._emit = emit
        self._log = logging.getLogger(f"shipit.step.{step_id}")

    def status(self, message: str) -> None:
        self._log.info("%s", message)
        self._emit(StepEvent("progress", self.step_id, redact(message)))

    def advance(self, completed: int, total: int | None = None, label: str = "") -> None:
        self._emit(
            StepEvent("progress", self.step_id, redact(label), completed=completed, total=total)
        )

    def log(self, line: str) -> None:
        self._log.info("%s", line)


class Orchestrator:
    def __init__(
        self,
        plan: Plan,
        journal: Journal,
        *,
        retry: RetryConfig | None = None,
        listeners: Iterable[Listener] = (),
        max_workers: int = 4,
    ) -> None:
        self.plan = plan
        self.ctx: Context = plan.ctx
        self.journal = journal
        self.retry = retry or plan.ctx.config.retry
        self.listeners = list(listeners)
        self.max_workers = max_workers
        self._stop = threading.Event()
        self._ahead: dict[str, Probe] = {}  # probes made at the gate, used once by their step
        self._ahead_lock = threading.Lock()

    # ------------------------------------------------------------ events
    def emit(self, event: Event) -> None:
        log_event(event)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # a listener must never break a release
                log.exception("listener %r failed", listener)

    def _step_event(self, kind: StepEventKind, step_id: str, message: str = "", **kw: Any) -> None:
        self.emit(StepEvent(kind, step_id, redact(message), **kw))

    # ------------------------------------------------------------ stopping
    def request_stop(self) -> None:
        """Stop cleanly (signal handler): start nothing new, end child processes."""
        if self._stop.is_set():
            return
        self._stop.set()
        threading.Thread(target=proc.terminate_all, daemon=True).start()

    def force_stop(self) -> None:
        """A second Ctrl-C: record the interruption and leave now, without waiting for steps.

        The journal stays consistent (steps still running go back to pending: probed again
        on resume); the kernel releases the lock when the process ends.
        """
        try:
            proc.terminate_all(grace_s=1.0)
            self.journal.reset_running("interrupted (forced)")
            self.journal.set_state(ReleaseState.INTERRUPTED, reason="stopped by a second signal")
        finally:
            logging.shutdown()
            os._exit(int(ExitCode.INTERRUPTED))

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ------------------------------------------------------------ run
    def run(self) -> RunOutcome:
        """Walk the plan until every step is complete, one failed, or a stop was requested."""
        journal = self.journal
        journal.ensure_steps([(p.id, bool(p.step.reversible)) for p in self.plan.steps])
        reset = journal.reset_running("interrupted before it finished: probed again on resume")
        if reset:
            log.info("steps left running by an earlier process: %s", ", ".join(reset))
        before = journal.state
        journal.set_state(ReleaseState.RELEASING)
        self.emit(ReleaseEvent("started", self.ctx.tag, self.ctx.version))
        outcome = RunOutcome(ReleaseState.RELEASING)
        pending: list[PlannedStep] = list(self.plan.steps)
        completed: set[str] = set()
        blocked = False
        running: dict[Future[StepOutcome], str] = {}
        for planned in pending:
            self._step_event("waiting", planned.id)
        with ThreadPoolExecutor(
            max_workers=self.max_workers, thread_name_prefix="shipit-step"
        ) as pool:
            while pending or running:
                if not blocked and not self.stopping:
                    for planned in list(pending):
                        if set(planned.needs) <= completed:
                            pending.remove(planned)
                            running[pool.submit(self._execute, planned)] = planned.id
                if not running:
                    break
                finished, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    step_id = running.pop(future)
                    result = self._result_of(future, step_id)
                    outcome.outcomes[step_id] = result
                    if result.state in COMPLETED:
                        completed.add(step_id)
                    elif result.state in BLOCKING or result.state == StepState.PENDING:
                        blocked = True
        outcome.not_started = [p.id for p in pending]
        if self.stopping:
            outcome.state = ReleaseState.INTERRUPTED
            journal.reset_running("interrupted")
            journal.set_state(ReleaseState.INTERRUPTED, reason="stopped by a signal")
            self.emit(
                ReleaseEvent(
                    "interrupted",
                    self.ctx.tag,
                    self.ctx.version,
                    "stopped: nothing more was started",
                    hint="run `shipit resume` to continue or `shipit rollback` to undo",
                )
            )
        elif outcome.failed:
            first = outcome.failed[0]
            outcome.state = ReleaseState.FAILED
            journal.set_state(
                ReleaseState.FAILED,
                failed_step=first.id,
                error={"what": first.message, "why": first.why, "hint": first.hint},
            )
            self.emit(
                ReleaseEvent(
                    "failed",
                    self.ctx.tag,
                    self.ctx.version,
                    first.message,
                    failed_step=first.id,
                    hint=first.hint,
                )
            )
            outcome.visible_done = self._visible_done()
            if not outcome.visible_done and self.plan.local_ids:
                outcome.discarded = self._discard()
        else:
            outcome.state = ReleaseState.RELEASED
            others = [
                i
                for i, rec in journal.steps().items()
                if i not in self.plan and rec.state not in COMPLETED
            ]
            if others:  # a step-by-step command (`shipit tag`) inside a bigger release
                state = (
                    before
                    if before
                    in (ReleaseState.FAILED, ReleaseState.INTERRUPTED, ReleaseState.PLANNED)
                    else ReleaseState.INTERRUPTED
                )
                journal.set_state(state, note="steps still to do: " + ", ".join(others))
                outcome.not_started = others
            else:
                journal.set_state(ReleaseState.RELEASED)
                self.emit(ReleaseEvent("succeeded", self.ctx.tag, self.ctx.version))
        return outcome

    def _visible_done(self) -> bool:
        """Whether anything the world can see exists: a step after the gate is done, in
        this run or an earlier one (steps of the journal outside this plan count too)."""
        local = self.plan.local_ids
        return any(
            record.state in COMPLETED
            for step_id, record in self.journal.steps().items()
            if step_id not in local
        )

    def _discard(self) -> list[UndoOutcome]:
        """A release that failed before anything visible leaves nothing behind: its local
        work (the release commit, the speculative artifacts) is undone, newest first, and
        the release is over (a new `shipit release` starts afresh)."""
        local = [p.id for p in self.plan.steps if p.id in self.plan.local_ids]
        self.journal.set_state(ReleaseState.ROLLING_BACK, reason="failed before anything visible")
        undone = self._undo_steps(local, self.journal.steps())
        remaining = [o for o in undone if o.state in (UndoState.IRREVERSIBLE, UndoState.FAILED)]
        state = ReleaseState.PARTLY_ROLLED_BACK if remaining else ReleaseState.ROLLED_BACK
        self.journal.set_state(
            state, reason="failed before anything visible: the local work was discarded"
        )
        return undone

    def _result_of(self, future: Future[StepOutcome], step_id: str) -> StepOutcome:
        try:
            return future.result()
        except BaseException as exc:  # _execute guards; this is a last resort
            record = error_record(exc)
            self.journal.update_step(step_id, state=StepState.FAILED, error=record)
            return StepOutcome(step_id, StepState.FAILED, str(record["what"]))

    def _probe(self, planned: PlannedStep) -> Probe:
        step = planned.step
        return retrying(self.retry, lambda _n: step.probe(self.ctx))

    # ------------------------------------------------------------ probing ahead
    def _check_ahead(self) -> None:
        """At the gate: probe every visible step at once, in parallel, and refuse before
        anything is visible when one would conflict (npm already holds this version with other
        content, a tag on another commit). The answers are kept: each step uses its own instead
        of probing again (unless it waits for another visible step whose effect it may see)."""
        visible = [p for p in self.plan.steps if p.id not in self.plan.local_ids]
        if not visible:
            return
        for planned in visible:
            self._step_event("probing", planned.id, "probed at the gate")
        found = probe_all(self.plan, steps=visible)
        stuck: list[tuple[str, Probe]] = []
        with self._ahead_lock:
            for step_id, result in found.items():
                if isinstance(result, Probe):
                    self._ahead[step_id] = result
                    if result.state in (ProbeState.CONFLICT, ProbeState.BLOCKED):
                        stuck.append((step_id, result))
        for step_id, probe in stuck:
            conflict = probe.state == ProbeState.CONFLICT
            code = str(StepState.CONFLICT) if conflict else str(ErrorCode.INVARIANT_FAILED)
            self.journal.update_step(
                step_id,
                state=StepState.CONFLICT if conflict else StepState.FAILED,
                error={"code": code, "what": probe.why, "why": None, "hint": probe.hint},
            )
            kind: StepEventKind = "conflict" if conflict else "failed"
            self._step_event(kind, step_id, probe.why or "", hint=probe.hint)
        if stuck:
            step_id, probe = stuck[0]
            raise PermanentError(
                f"stopped before anything visible: {step_id} would {probe.state}: {probe.why}",
                why="\n".join(f"{i}: {p.why}" for i, p in stuck[1:]) or None,
                hint=probe.hint,
                code=ErrorCode.INVARIANT_FAILED,
            )

    def _probe_ahead_result(self, planned: PlannedStep) -> Probe | None:
        """The probe made at the gate for this step, when it still tells the truth: an
        already-done stays done; a to-do holds unless the step waits for another visible step
        (that step's effect may change the answer, so it probes again)."""
        with self._ahead_lock:
            probe = self._ahead.pop(planned.id, None)
        if probe is None:
            return None
        visible_needs = set(planned.step.needs) - self.plan.local_ids
        if probe.state == ProbeState.TODO and visible_needs & set(self.plan.ids):
            return None
        return probe

    def _execute(self, planned: PlannedStep) -> StepOutcome:
        step_id = planned.id
        journal = self.journal
        previous = journal.step_state(step_id)
        try:
            probe = self._probe_ahead_result(planned)
            if probe is None:
                self._step_event("probing", step_id)
                probe = self._probe(planned)
            if probe.state == ProbeState.ALREADY_DONE:
                state = StepState.DONE if previous == StepState.DONE else StepState.ALREADY_DONE
                why = probe.why or "already done"
                # keep what an earlier run recorded (e.g. a tarball path); the probe's facts win
                evidence = {**journal.evidence_of(step_id), **probe.evidence}
                journal.update_step(step_id, state=state, evidence=evidence, note=why, error=None)
                self._step_event("already-done", step_id, why)
                return StepOutcome(step_id, state, why, evidence=evidence)
            if probe.state == ProbeState.BLOCKED:
                why = probe.why or "a release invariant does not hold"
                journal.update_step(
                    step_id,
                    state=StepState.FAILED,
                    error={
                        "code": "invariant-failed",
                        "what": why,
                        "why": None,
                        "hint": probe.hint,
                    },
                )
                self._step_event("failed", step_id, why, hint=probe.hint)
                return StepOutcome(step_id, StepState.FAILED, why, hint=probe.hint)
            if probe.state == ProbeState.CONFLICT:
                why = probe.why or "the world holds something else under this name"
                journal.update_step(
                    step_id,
                    state=StepState.CONFLICT,
                    error={"code": "conflict", "what": why, "why": None, "hint": probe.hint},
                )
                self._step_event("conflict", step_id, why, hint=probe.hint)
                return StepOutcome(step_id, StepState.CONFLICT, why, hint=probe.hint)
            if self.stopping:
                return StepOutcome(step_id, StepState.PENDING, "not started: stopping")
            journal.update_step(step_id, state=StepState.RUNNING, error=None, note=probe.why)
            self._step_event("running", step_id, probe.why or "")
            faults.reach(step_id, "before")
            evidence, found_done = self._run_with_retry(planned)
            faults.reach(step_id, "after")
            if step_id == self.plan.gate_id:
                self._check_ahead()
            note = "found done by a probe after an unknown outcome" if found_done else None
            journal.update_step(step_id, state=StepState.DONE, evidence=evidence, note=note)
            self._step_event("done", step_id, _summary(evidence))
            return StepOutcome(step_id, StepState.DONE, evidence=evidence)
        except Exception as exc:
            failure = classify_exception(exc)
            if self.stopping:
                journal.update_step(
                    step_id, state=StepState.PENDING, note="interrupted while running"
                )
                return StepOutcome(step_id, StepState.PENDING, failure.what)
            journal.update_step(step_id, state=StepState.FAILED, error=error_record(failure))
            self._step_event("failed", step_id, _one_line(failure), hint=failure.hint)
            return StepOutcome(step_id, StepState.FAILED, failure.what, failure.why, failure.hint)

    def _run_with_retry(self, planned: PlannedStep) -> tuple[Evidence, bool]:
        step = planned.step
        step_id = planned.id
        progress = _StepProgress(step_id, self.emit)
        unknown = [False]
        found_done = [False]

        def attempt(number: int) -> Evidence:
            if number > 1:
                self.journal.update_step(step_id, attempts=number)
                if unknown[0]:
                    unknown[0] = False
                    self._step_event("probing", step_id, "checking whether it happened")
                    probe = step.probe(self.ctx)
                    if probe.state == ProbeState.ALREADY_DONE:
                        found_done[0] = True
                        return probe.evidence
                    if probe.state == ProbeState.CONFLICT:
                        raise PermanentError(
                            probe.why or "conflict found after an unknown outcome",
                            hint=probe.hint,
                        )
            if self.stopping:
                from shipit.errors import Interrupted

                raise Interrupted("stopping")
            try:
                return step.run(self.ctx, progress)
            except Exception as exc:
                failure = classify_exception(exc)
                if isinstance(failure, OutcomeUnknown):
                    unknown[0] = True
                raise failure from exc

        def on_retry(number: int, failure: StepFailure, wait_s: float) -> None:
            self._step_event(
                "retrying",
                step_id,
                f"{_one_line(failure)}; attempt {number + 1} in {wait_s:.1f}s",
                attempt=number,
            )

        evidence = retrying(self.retry, attempt, on_retry=on_retry)
        return dict(evidence or {}), found_done[0]

    # ------------------------------------------------------------ rollback
    def rollback(self) -> RollbackOutcome:
        """Undo completed steps in reverse plan order; say what could not be undone."""
        journal = self.journal
        journal.set_state(ReleaseState.ROLLING_BACK)
        states = journal.steps()
        order = [p.id for p in self.plan.steps] + [i for i in states if i not in self.plan]
        outcome = RollbackOutcome(ReleaseState.ROLLED_BACK)
        outcome.outcomes = self._undo_steps(order, states)
        if outcome.remaining:
            outcome.state = ReleaseState.PARTLY_ROLLED_BACK
        journal.set_state(outcome.state)
        hint = "; ".join(o.hint for o in outcome.remaining if o.hint) or None
        self.emit(
            ReleaseEvent("rolled-back", self.ctx.tag, self.ctx.version, outcome.state, hint=hint)
        )
        return outcome

    def _undo_steps(self, order: list[str], states: Mapping[str, StepRecord]) -> list[UndoOutcome]:
        """Undo the completed steps of ``order``, last first; each outcome is journaled."""
        journal = self.journal
        outcomes: list[UndoOutcome] = []
        for step_id in reversed(order):
            record = states.get(step_id)
            if record is None or record.state not in COMPLETED:
                continue
            if step_id not in self.plan:
                msg = "this step is no longer in the plan; shipit cannot undo it"
                journal.update_step(step_id, state=StepState.IRREVERSIBLE, note=msg)
                outcomes.append(UndoOutcome(step_id, UndoState.IRREVERSIBLE, msg))
                continue
            step = self.plan.get(step_id).step
            self._step_event("undoing", step_id)
            try:
                undo = retrying(self.retry, lambda _n, s=step: s.undo(self.ctx))  # type: ignore[misc]
            except Exception as exc:
                failure = classify_exception(exc)
                journal.update_step(step_id, error=error_record(failure), note="undo failed")
                self._step_event(
                    "failed", step_id, f"undo failed: {_one_line(failure)}", hint=failure.hint
                )
                outcomes.append(
                    UndoOutcome(step_id, UndoState.FAILED, _one_line(failure), failure.hint)
                )
                continue
            if undo.state == UndoState.IRREVERSIBLE:
                journal.update_step(
                    step_id,
                    state=StepState.IRREVERSIBLE,
                    note=undo.message,
                    error={"what": undo.message, "hint": undo.hint},
                )
                self._step_event("irreversible", step_id, undo.message, hint=undo.hint)
                outcomes.append(
                    UndoOutcome(step_id, UndoState.IRREVERSIBLE, undo.message, undo.hint)
                )
            else:
                journal.update_step(step_id, state=StepState.UNDONE, note=undo.message)
                self._step_event("undone", step_id, undo.message)
                outcomes.append(UndoOutcome(step_id, undo.state, undo.message))
        return outcomes


def probe_all(
    plan: Plan, *, steps: Sequence[PlannedStep] | None = None, max_workers: int = 8
) -> dict[str, Probe | StepFailure]:
    """Probe every step (or ``steps``) at once, in parallel (for `plan`, `--dry-run` and the
    gate); a failing probe gives its failure."""

    def one(planned: PlannedStep) -> Probe | StepFailure:
        try:
            return planned.step.probe(plan.ctx)
        except Exception as exc:
            return classify_exception(exc)

    chosen = list(plan.steps if steps is None else steps)
    workers = max(1, min(max_workers, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shipit-probe") as pool:
        results = list(pool.map(one, chosen))
    return {p.id: r for p, r in zip(chosen, results, strict=True)}


def probe_state(result: Probe | StepFailure) -> ProbeState | Literal["unknown"]:
    """The word `plan` shows for a probe result: todo, already-done, conflict or unknown."""
    return result.state if isinstance(result, Probe) else "unknown"


def _one_line(failure: StepFailure | BaseException) -> str:
    text = failure.what if isinstance(failure, StepFailure) else str(failure)
    if isinstance(failure, StepFailure) and failure.why:
        first = failure.why.strip().splitlines()[0] if failure.why.strip() else ""
        if first:
            text = f"{text}: {first}"
    return redact(text)


def _summary(evidence: Evidence) -> str:
    for key in ("url", "tag", "commit", "integrity", "sha256", "path"):
        value = evidence.get(key)
        if isinstance(value, str) and value:
            return f"{key} {value}"
    return ""
