"""The typed documents: committed JSON Schemas, and journals of the wrong shape or format."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from enginefakes import FakeStep, context

from shipit.engine.documents import SCHEMA_DIR, SCHEMA_FILES, JournalDocument, PlanDocument
from shipit.engine.journal import Journal, load
from shipit.engine.plan import plan_from_steps
from shipit.errors import JournalUnreadable
from tests.journals import written_journal

ROOT = Path(__file__).resolve().parents[3]
UPDATE = os.environ.get("SHIPIT_UPDATE_SNAPSHOTS") == "1"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schema_matches_the_model(name: str) -> None:
    path = ROOT / SCHEMA_DIR / name
    current = json.dumps(SCHEMA_FILES[name].model_json_schema(), indent=2) + "\n"
    if UPDATE:
        path.write_text(current)
    assert path.is_file(), f"{path} is missing: SHIPIT_UPDATE_SNAPSHOTS=1 writes it"
    assert path.read_text() == current, (
        f"{SCHEMA_FILES[name].__name__} changed without {SCHEMA_DIR / name}: run the tests with "
        "SHIPIT_UPDATE_SNAPSHOTS=1 and review the diff (CI jobs and scripts rely on it)"
    )


def test_the_schemas_name_the_fields_scripts_rely_on() -> None:
    plan = PlanDocument.model_json_schema()
    assert set(plan["required"]) == {"release", "targets", "steps"}
    release = set(plan["$defs"]["PlanRelease"]["properties"])
    assert release == {"version", "tag", "commit", "tag_source"}  # tag_source: optional, added
    assert set(plan["$defs"]["PlanStep"]["properties"]) == {
        "id",
        "phase",
        "needs",
        "state",
        "reversible",
        "speculative",  # optional, added: runs while the checks run
        "visible",  # optional, added: runs after gate:release
        "description",
        "why",
        "hint",
    }
    journal = JournalDocument.model_json_schema()
    assert {"format", "inputs", "state", "history", "steps"} <= set(journal["properties"])


def journal(tmp_path: Path) -> Journal:
    return written_journal(
        tmp_path / "v1.2.3",
        version="1.2.3",
        tag="v1.2.3",
        commit="a" * 40,
        config_digest="d1",
        steps=[("git:tag", True), ("npm:publish", False)],
    )


def rewrite(j: Journal, change: Any) -> None:
    data = json.loads(j.path.read_text())
    change(data)
    j.path.write_text(json.dumps(data))


def test_what_is_written_reads_back_as_the_same_document(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.update_step("git:tag", state="running")
    j.update_step("git:tag", state="done", evidence={"commit": "b" * 40})
    j.set_state("releasing")
    j.set_state("failed", failed_step="npm:publish", error={"what": "401", "hint": "log in"})
    data = json.loads(j.path.read_text())
    assert data["format"] == 2
    assert load(j.release_dir).document() == JournalDocument.model_validate(data)
    assert load(j.release_dir).document() == j.document()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["steps"]["git:tag"].update(state="kinda-done"), "steps.git:tag.state"),
        (lambda d: d["inputs"].pop("tag"), "inputs.tag"),
        (lambda d: d.update(steps=["git:tag"]), "steps"),
        (lambda d: d["steps"]["git:tag"].update(attempts="many"), "steps.git:tag.attempts"),
        (lambda d: d.update(format=0), "format"),
    ],
)
def test_a_journal_of_the_wrong_shape_is_unreadable_naming_the_field(
    tmp_path: Path, change: Any, field: str
) -> None:
    j = journal(tmp_path)
    rewrite(j, change)
    with pytest.raises(JournalUnreadable) as caught:
        load(j.release_dir)
    assert str(j.path) in caught.value.what
    assert field in (caught.value.why or "")
    assert "shipit status --repair" in (caught.value.hint or "")  # moves it aside, kept


def test_a_list_or_empty_object_is_not_a_journal(tmp_path: Path) -> None:
    for text in ("[]", "{}", '"journal"'):
        (tmp_path / "journal.json").write_text(text)
        with pytest.raises(JournalUnreadable, match="is not a shipit journal"):
            load(tmp_path)


def test_a_journal_from_a_newer_shipit_says_to_upgrade(tmp_path: Path) -> None:
    j = journal(tmp_path)
    rewrite(j, lambda d: d.update(format=3, something_new=True))
    with pytest.raises(JournalUnreadable) as caught:
        load(j.release_dir)
    assert "newer shipit (journal format 3)" in caught.value.what
    assert "pip install --upgrade" in (caught.value.hint or "")


def test_a_format_1_journal_loads_and_is_written_back_as_format_2(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.update_step("git:tag", state="done")

    def to_format_1(data: dict[str, Any]) -> None:
        data["format"] = 1
        data["steps"]["git:tag"]["state"] = "skipped"

    rewrite(j, to_format_1)
    old = load(j.release_dir)
    assert old.step_state("git:tag") == "already-done"
    old.update_step("npm:publish", state="running")
    data = json.loads(j.path.read_text())
    assert data["format"] == 2 and data["steps"]["git:tag"]["state"] == "already-done"


def test_plan_document_carries_release_targets_steps_and_probe_notes(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    plan = plan_from_steps(ctx, [("tag", FakeStep("git:tag", reversible=True))])
    doc = plan.document({"git:tag": "conflict"}, {"git:tag": ("points elsewhere", "fix")})
    data = json.loads(doc.model_dump_json())
    assert data["format"] == "shipit-plan/1" and data["dry_run"] is False
    assert data["steps"][0]["why"] == "points elsewhere" and data["steps"][0]["hint"] == "fix"
    assert PlanDocument.model_validate(data) == doc
