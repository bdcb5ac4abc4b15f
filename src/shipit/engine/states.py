"""Release and step states: the values the journal stores, and which state may follow which.

One place names every state; the journal, the orchestrator, events, ``status`` and the CLI use
these enums and the sets derived from them, never bare strings. A step the probe found already
done out there is ``ALREADY_DONE`` (nothing was run this time), never "skipped": "skipped"
is reserved for checks that do not apply.
"""

from __future__ import annotations

from enum import StrEnum


class ReleaseState(StrEnum):
    PLANNED = "planned"  # journal written, nothing run yet
    RELEASING = "releasing"  # a process is walking the plan
    RELEASED = "released"  # every step done or already done
    FAILED = "failed"  # a step failed or conflicted; resumable
    INTERRUPTED = "interrupted"  # stopped by a signal or killed; resumable
    ROLLING_BACK = "rolling-back"
    ROLLED_BACK = "rolled-back"  # every completed step undone
    PARTLY_ROLLED_BACK = "partly-rolled-back"  # some steps could not be undone


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # this release ran it
    ALREADY_DONE = "already-done"  # the probe found it done out there: nothing was run
    FAILED = "failed"
    CONFLICT = "conflict"  # the world holds something else under our name
    UNDONE = "undone"
    IRREVERSIBLE = "irreversible"  # rollback could not undo it (the hint says what to do)


class UndoState(StrEnum):
    """What undoing a step came to."""

    UNDONE = "undone"
    IRREVERSIBLE = "irreversible"  # the step says it cannot be undone, and what to do instead
    NOTHING = "nothing"  # nothing was there to undo
    FAILED = "failed"  # the undo itself failed (set by the orchestrator, never by a step)


#: a release that ``resume`` continues (and ``release`` picks up again)
RESUMABLE: frozenset[ReleaseState] = frozenset(
    {ReleaseState.PLANNED, ReleaseState.RELEASING, ReleaseState.FAILED, ReleaseState.INTERRUPTED}
)
#: a release some process should be driving right now (else it was killed)
ACTIVE: frozenset[ReleaseState] = frozenset(
    {ReleaseState.PLANNED, ReleaseState.RELEASING, ReleaseState.ROLLING_BACK}
)
#: a release ``rollback`` may undo
ROLLBACKABLE: frozenset[ReleaseState] = RESUMABLE | {
    ReleaseState.RELEASED,
    ReleaseState.ROLLING_BACK,
    ReleaseState.PARTLY_ROLLED_BACK,
}
#: nothing more will happen to the release unless someone starts a new command
SETTLED: frozenset[ReleaseState] = frozenset(
    {
        ReleaseState.RELEASED,
        ReleaseState.FAILED,
        ReleaseState.INTERRUPTED,
        ReleaseState.ROLLED_BACK,
        ReleaseState.PARTLY_ROLLED_BACK,
    }
)

#: the step's effect exists: later steps may rely on it, rollback undoes it
COMPLETED: frozenset[StepState] = frozenset({StepState.DONE, StepState.ALREADY_DONE})
#: the step stopped the release
BLOCKING: frozenset[StepState] = frozenset({StepState.FAILED, StepState.CONFLICT})
#: the step's attempt is over (a finish time is recorded)
FINISHED: frozenset[StepState] = COMPLETED | BLOCKING

RELEASE_TRANSITIONS: dict[ReleaseState, frozenset[ReleaseState]] = {
    ReleaseState.PLANNED: frozenset(
        {
            ReleaseState.RELEASING,
            ReleaseState.INTERRUPTED,
            ReleaseState.ROLLING_BACK,
            ReleaseState.ROLLED_BACK,
        }
    ),
    ReleaseState.RELEASING: frozenset(
        {
            ReleaseState.RELEASED,
            ReleaseState.FAILED,
            ReleaseState.INTERRUPTED,
            ReleaseState.PLANNED,  # a step-by-step command ran only part of the plan
            ReleaseState.ROLLING_BACK,  # its process was killed: rollback picks it up
        }
    ),
    ReleaseState.RELEASED: frozenset(
        {ReleaseState.RELEASING, ReleaseState.ROLLING_BACK, ReleaseState.ROLLED_BACK}
    ),
    ReleaseState.FAILED: frozenset(
        {ReleaseState.RELEASING, ReleaseState.ROLLING_BACK, ReleaseState.ROLLED_BACK}
    ),
    ReleaseState.INTERRUPTED: frozenset(
        {ReleaseState.RELEASING, ReleaseState.ROLLING_BACK, ReleaseState.ROLLED_BACK}
    ),
    ReleaseState.ROLLING_BACK: frozenset(
        {ReleaseState.ROLLED_BACK, ReleaseState.PARTLY_ROLLED_BACK, ReleaseState.INTERRUPTED}
    ),
    ReleaseState.ROLLED_BACK: frozenset(),
    ReleaseState.PARTLY_ROLLED_BACK: frozenset(
        {ReleaseState.ROLLING_BACK, ReleaseState.ROLLED_BACK}
    ),
}

#: journals written before the rename (format 1) stored ``skipped`` for ALREADY_DONE;
#: ``engine.documents.JournalDocument`` reads them with this map
LEGACY_STEP_STATES: dict[str, StepState] = {"skipped": StepState.ALREADY_DONE}


def may_follow(current: ReleaseState, following: ReleaseState) -> bool:
    """Whether a release in ``current`` may move to ``following`` (same state: always)."""
    return following == current or following in RELEASE_TRANSITIONS[current]
