"""The plan: pipeline order, user command phases, effective needs, duplicates, cycles, JSON."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from enginefakes import FakeStep, context

from shipit.config import CommandStepConfig, Config
from shipit.engine.plan import (
    PIPELINE,
    SPECULATIVE,
    Plan,
    build_plan,
    pipeline,
    plan_from_steps,
)
from shipit.engine.step import ProbeState, tag_for
from shipit.errors import ShipitError
from shipit.project.model import Project
from shipit.project.tags import TagConvention
from shipit.steps.preflight import ChecksStep
from shipit.workspace import release_dir


def test_pipeline_is_safest_first() -> None:
    """Local, reversible work first (the release commit, then the checks beside the builds),
    the gate, then what the world sees. The release commit moved first so that --version X
    builds from a tree that says X (it is local until the push)."""
    phases = [p for p, _ in PIPELINE]
    order = [
        "commit",
        "checks",
        "build",
        "verify",
        "gate",
        "tag",
        "push",
        "publish",
        "github",
        "notify",
    ]
    assert sorted(set(phases), key=phases.index) == order
    assert phases == sorted(phases, key=order.index)
    assert {"build", "verify"} == SPECULATIVE


def _release_like(tmp_path: Path, **kw: object) -> Plan:
    ctx = context(tmp_path, **kw)
    return plan_from_steps(
        ctx,
        [
            ("commit", FakeStep("git:commit")),
            ("checks", FakeStep("checks")),
            ("build", FakeStep("npm:pack")),
            ("verify", FakeStep("checksums")),
            ("gate", FakeStep("gate:release")),
            ("tag", FakeStep("git:tag")),
            ("publish", FakeStep("npm:publish", needs=("npm:pack",))),
        ],
    )


def test_builds_run_beside_the_checks_and_everything_visible_waits_for_the_gate(
    tmp_path: Path,
) -> None:
    plan = _release_like(tmp_path)
    needs = {p.id: set(p.needs) for p in plan.steps}
    assert needs["checks"] == {"git:commit"}
    assert needs["npm:pack"] == {"git:commit"}  # not the checks: it overlaps them
    assert needs["checksums"] == {"git:commit", "npm:pack"}
    assert needs["gate:release"] == {"git:commit", "checks", "npm:pack", "checksums"}
    assert "gate:release" in needs["git:tag"] and "gate:release" in needs["npm:publish"]
    assert plan.local_ids == {"git:commit", "checks", "npm:pack", "checksums", "gate:release"}
    doc = plan.document()
    flags = {s.id: (s.speculative, s.visible) for s in doc.steps}
    assert flags["npm:pack"] == (True, False) and flags["checks"] == (False, False)
    assert flags["git:tag"] == (False, True) and flags["npm:publish"] == (False, True)


def test_a_plan_without_a_gate_has_no_local_steps(tmp_path: Path) -> None:
    plan = plan_from_steps(context(tmp_path), [("build", FakeStep("npm:pack"))])
    assert plan.local_ids == set()


def test_a_step_by_step_command_that_reaches_the_world_keeps_the_checks_and_the_gate(
    tmp_path: Path,
) -> None:
    config = Config.model_validate({"npm": {"enabled": False}})
    ctx = context(tmp_path, config)
    git_only = build_plan(ctx, only=["git"])
    assert git_only.ids == ["checks", "gate:release", "git:tag", "git:push"]
    checks = git_only.get("checks").step
    assert isinstance(checks, ChecksStep) and checks.targets == ()  # no registry to ask
    assert "gate:release" in git_only.get("git:push").needs
    commit_only = build_plan(ctx, only=["checks"])  # nothing visible: no gate
    assert commit_only.ids == ["checks"]


def test_command_phase_follows_its_after_phase() -> None:
    config = Config(commands=[CommandStepConfig(id="docs", run="true", after="push")])
    phases = [p for p, _ in pipeline(config)]
    assert phases.index("after-push") == phases.index("push") + 1
    assert phases[phases.index("after-push") + 1] == "publish"


def test_effective_needs_include_earlier_phases_and_declared_ones(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    plan = plan_from_steps(
        ctx,
        [
            ("build", FakeStep("npm:pack")),
            ("tag", FakeStep("git:tag", needs=("git:commit",))),  # absent: ignored
            ("github", FakeStep("github:draft")),
            ("github", FakeStep("github:asset:x", needs=("github:draft",))),
        ],
    )
    needs = {p.id: p.needs for p in plan.steps}
    assert needs["npm:pack"] == ()
    assert needs["git:tag"] == ("npm:pack",)
    assert needs["github:asset:x"] == ("npm:pack", "git:tag", "github:draft")


def test_duplicates_and_cycles_are_refused(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    with pytest.raises(ShipitError, match="duplicate"):
        plan_from_steps(ctx, [("build", FakeStep("a")), ("tag", FakeStep("a"))])
    with pytest.raises(ShipitError, match="cycle"):
        plan_from_steps(
            ctx, [("build", FakeStep("a", needs=("b",))), ("build", FakeStep("b", needs=("a",)))]
        )
    with pytest.raises(ShipitError, match="cycle"):  # a need on a later phase is a cycle too
        plan_from_steps(ctx, [("build", FakeStep("a", needs=("b",))), ("tag", FakeStep("b"))])


def test_pipeline_entries_are_the_step_modules_factories() -> None:
    from shipit.steps import git_tag, npm

    factories = [factory for _, factory in PIPELINE]
    assert all(callable(f) for f in factories)
    assert npm.pack_steps in factories and git_tag.tag_steps in factories


def test_a_missing_factory_is_an_import_error_at_load(tmp_path: Path) -> None:
    """A typo in the pipeline fails when shipit loads it, never as a release with no steps."""
    source = (Path(__file__).parents[3] / "src/shipit/engine/plan.py").read_text()
    assert "importlib" not in source
    broken = source.replace("git_tag.tag_steps", "git_tag.tag_stepz", 1)
    assert broken != source
    module = tmp_path / "broken_plan.py"
    module.write_text(broken)
    spec = importlib.util.spec_from_file_location("broken_plan", module)
    assert spec is not None and spec.loader is not None
    with pytest.raises(AttributeError, match="tag_stepz"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_command_phases_are_callables_for_their_phase(tmp_path: Path) -> None:
    config = Config(
        commands=[
            CommandStepConfig(id="docs", run="true", after="push"),
            CommandStepConfig(id="bench", run="true", after="build"),
        ]
    )
    ctx = context(tmp_path, config)
    entries = dict(pipeline(config))
    assert [s.id for s in entries["after-push"](ctx)] == ["command:docs"]
    assert [s.id for s in entries["after-build"](ctx)] == ["command:bench"]


def test_plan_json_shape(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    plan = plan_from_steps(ctx, [("tag", FakeStep("git:tag", reversible=True))])
    doc = plan.document({"git:tag": ProbeState.TODO}).model_dump(mode="json")
    assert doc["release"] == {
        "version": "1.2.3",
        "tag": "v1.2.3",
        "commit": "0" * 40,
        "tag_source": "the default: no release tags yet",
    }
    step = doc["steps"][0]
    assert {k: step[k] for k in ("id", "needs", "state", "reversible", "description")} == {
        "id": "git:tag",
        "needs": [],
        "state": "todo",
        "reversible": True,
        "description": "fake git:tag",
    }


def test_tag_and_release_dir(tmp_path: Path) -> None:
    config = Config.model_validate({"release": {"tag-format": "release/{version}"}})
    inferred = Project(tmp_path, (), (), None, tags=TagConvention("{version}", "inferred"))
    assert tag_for(config, inferred, "2.0.0") == "release/2.0.0"  # the configuration wins
    assert tag_for(Config(), inferred, "2.0.0") == "2.0.0"  # else the tags' convention
    assert release_dir(tmp_path, "release/2.0.0").parent == tmp_path / ".shipit" / "releases"


def test_build_plan_with_only_keeps_matching_steps(tmp_path: Path) -> None:
    config = Config(commands=[CommandStepConfig(id="x", run="true", after="build")])
    ctx = context(tmp_path, config)
    plan = build_plan(ctx, only=["command"])
    assert plan.ids == ["command:x"]
