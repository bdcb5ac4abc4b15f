"""The documents the engine writes for others to read: ``journal.json`` and the plan.

``JournalDocument`` is ``.shipit/releases/<tag>/journal.json``: the journal module writes it
through this model and reads it back through it, so a file of the wrong shape is refused with
what is wrong, never half understood. ``PlanDocument`` is ``shipit plan --json`` (and
``release --dry-run --json``): CI jobs and scripts read it. Their JSON Schemas are committed
under ``docs/schemas/`` (``SCHEMA_FILES``); a test fails when a model changes without them
(``SHIPIT_UPDATE_SNAPSHOTS=1`` rewrites them: review the diff, it is a contract).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipit.engine.states import LEGACY_STEP_STATES, ReleaseState, StepState
from shipit.engine.step import ProbeState

JOURNAL_FORMAT: Literal[2] = 2
"""2: states as in ``engine/states.py``. 1 (still read): a step found done was ``skipped``."""
PLAN_FORMAT: Literal["shipit-plan/1"] = "shipit-plan/1"

SCHEMA_DIR = Path("docs") / "schemas"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- journal.json


class ErrorRecord(_Doc):
    """Why a step or the release stopped (secrets redacted before it is written)."""

    code: str | None = Field(default=None, description="Error code (docs/troubleshooting.md).")
    what: str | None = Field(default=None, description="What went wrong.")
    why: str | None = Field(default=None, description="Why, e.g. the tool's output.")
    hint: str | None = Field(default=None, description="What to do next.")


class StepRecord(_Doc):
    """One step of the release: its state, attempts, timings, evidence and last error."""

    state: StepState = Field(default=StepState.PENDING, description="The step's state.")
    reversible: bool = Field(default=False, description="Whether `shipit rollback` can undo it.")
    attempts: int = Field(default=0, ge=0, description="Runs started, retries included.")
    started_at: str | None = Field(default=None, description="Last run's start (UTC, ISO 8601).")
    started_ts: float | None = Field(
        default=None, description="Last run's start (seconds since the epoch), for durations."
    )
    finished_at: str | None = Field(default=None, description="When it last finished (UTC).")
    duration_s: float | None = Field(default=None, description="Last run's duration, seconds.")
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="Facts the step left behind (hashes, URLs, ids; never secrets).",
    )
    error: ErrorRecord | None = Field(default=None, description="The last failure, if any.")
    note: str | None = Field(default=None, description="Why it is in this state, in words.")


class ReleaseInputs(_Doc):
    """What the release was started with; `resume` refuses to go on when these changed."""

    version: str = Field(description="Version released (SemVer form).")
    tag: str = Field(description="Release tag.")
    commit: str = Field(description="Commit the release started from.")
    config_digest: str = Field(description="Digest of the configuration it started with.")
    started_at: str = Field(description="When it was started (UTC, ISO 8601).")
    source_version: str | None = Field(
        default=None, description="The version the project's manifests stated at the start."
    )
    parts: list[str] = Field(
        default_factory=list,
        description="Directories of the parts (`release --parts`) it started with; "
        "`shipit resume` takes them again.",
    )
    skip_checks: bool = Field(
        default=False,
        description="Started with --skip-checks: resume skips the quality checks too (never "
        "the release invariants).",
    )


class Transition(_Doc):
    """One change of the release state, with what came with it."""

    state: ReleaseState
    at: str = Field(description="When (UTC, ISO 8601).")
    reason: str | None = Field(default=None, description="Why it stopped (interruptions).")
    failed_step: str | None = Field(default=None, description="The step that failed.")
    error: ErrorRecord | None = Field(default=None, description="That step's error.")
    note: str | None = Field(default=None, description="Anything else to know.")


class JournalDocument(_Doc):
    """``journal.json``: the durable record of one release."""

    format: Literal[2] = Field(default=JOURNAL_FORMAT, description="Journal format version.")
    inputs: ReleaseInputs
    state: ReleaseState = Field(default=ReleaseState.PLANNED, description="The release state.")
    updated_at: str = Field(description="Last write (UTC, ISO 8601).")
    history: list[Transition] = Field(description="Every state change, oldest first.")
    steps: dict[str, StepRecord] = Field(description="Each step by id, in plan order.")
    failed_step: str | None = Field(default=None, description="The step that failed last.")
    error: ErrorRecord | None = Field(default=None, description="The release's last error.")
    reason: str | None = Field(default=None, description="Why it was last interrupted.")
    note: str | None = Field(default=None, description="E.g. the steps still to do.")

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Format 1 journals have the same shape, with ``skipped`` for already-done steps."""
        if not isinstance(data, dict):
            return data
        steps = data.get("steps")
        if isinstance(steps, dict):
            data = {**data, "steps": {k: _renamed(v) for k, v in steps.items()}}
        if data.get("format") == 1:
            data = {**data, "format": JOURNAL_FORMAT}
        return data


def _renamed(record: Any) -> Any:
    if isinstance(record, dict) and record.get("state") in LEGACY_STEP_STATES:
        return {**record, "state": LEGACY_STEP_STATES[record["state"]]}
    return record


# ---------------------------------------------------------------- shipit plan --json


class PlanRelease(_Doc):
    """Which release the plan is for."""

    version: str = Field(description="Version (SemVer form).")
    tag: str = Field(description="Release tag.")
    commit: str = Field(description="Commit released (HEAD when planned).")
    tag_source: str | None = Field(
        default=None,
        description='Where the tag format comes from, e.g. "inferred from tags 3.0.4, 3.0.3".',
    )


class PlanTarget(_Doc):
    """A publish destination, whether it is on, and why."""

    name: str = Field(description="npm, jsr, pypi, github or binaries.")
    enabled: bool = Field(description="Whether this release publishes there.")
    reason: str = Field(description="Why it is on or off (detection, configuration).")
    package: str | None = Field(
        default=None, description="Package name, GitHub owner/repo or program name."
    )


PlanStepState = ProbeState | StepState | Literal["unknown"]


class PlanStep(_Doc):
    """One step: where it runs, what it waits for, what it does, and its state."""

    id: str = Field(description='Stable step id, e.g. "npm:publish".')
    phase: str = Field(description='Pipeline phase, e.g. "publish" or "after-push".')
    needs: list[str] = Field(description="Ids of the steps it waits for.")
    state: PlanStepState = Field(
        description="From a live probe (todo, already-done, conflict, blocked when a release "
        "invariant does not hold, or unknown when the probe failed), or from the journal "
        "(its step states)."
    )
    reversible: bool = Field(description="Whether `shipit rollback` can undo it.")
    speculative: bool = Field(
        default=False,
        description="Runs while the checks run (a build or its verification): no visible "
        "effect, discarded when the release fails before the gate.",
    )
    visible: bool = Field(
        default=True,
        description="Runs after gate:release: its effect leaves this machine (false for the "
        "release commit, the checks, the builds and the gate).",
    )
    description: str = Field(description="One line, then the commands it runs, one a line.")
    why: str | None = Field(default=None, description="Why the probe found this state.")
    hint: str | None = Field(default=None, description="What to do about it.")


class PlanDocument(_Doc):
    """``shipit plan --json`` (and ``release --dry-run --json``): the release before it runs."""

    format: Literal["shipit-plan/1"] = Field(
        default=PLAN_FORMAT, description="Document type and version."
    )
    release: PlanRelease
    dry_run: bool = Field(default=False, description="Written by `release --dry-run`.")
    targets: list[PlanTarget] = Field(description="Every publish destination, on or off.")
    steps: list[PlanStep] = Field(description="Every step in plan order.")


SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "journal.schema.json": JournalDocument,
    "plan.schema.json": PlanDocument,
}
