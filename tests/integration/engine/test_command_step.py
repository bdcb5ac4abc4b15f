"""A user's own command as a step: environment, probe, timeout, failure message, undo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipit.config import CommandStepConfig, Config
from shipit.engine.states import UndoState
from shipit.engine.step import Context, NullProgress, ProbeState, make_context
from shipit.errors import PermanentError
from shipit.project.model import Project
from shipit.steps.command import CommandStep, command_steps


def ctx_for(tmp_path: Path, *specs: CommandStepConfig) -> Context:
    config = Config(commands=list(specs))
    return make_context(
        root=tmp_path,
        config=config,
        project=Project(tmp_path, (), (), None),
        version="2.0.0-rc.1",
        commit="c" * 40,
        env=dict(os.environ),
    )


def test_placeholders_in_commands_and_the_python_form(tmp_path: Path) -> None:
    """`{version}`, `{tag}` and `{pep440}` are replaced; a shell's own ${VAR} and a find's {}
    stay as written."""
    spec = CommandStepConfig(
        id="stamp",
        run='X=ok; echo "{tag} {version} {pep440} ${X} $SHIPIT_PEP440_VERSION {}" > out.txt',
        probe="grep -q {version} out.txt",
    )
    ctx = ctx_for(tmp_path, spec)
    step = CommandStep(spec)
    step.run(ctx, NullProgress())
    assert (tmp_path / "out.txt").read_text() == "v2.0.0-rc.1 2.0.0-rc.1 2.0.0rc1 ok 2.0.0rc1 {}\n"
    assert step.probe(ctx).state == ProbeState.ALREADY_DONE


def test_command_sees_the_release_and_its_probe_decides(tmp_path: Path) -> None:
    spec = CommandStepConfig(
        id="notes",
        run='echo "$SHIPIT_TAG $SHIPIT_VERSION $SHIPIT_COMMIT" > out.txt',
        probe="test -s out.txt",
        undo="rm out.txt",
    )
    ctx = ctx_for(tmp_path, spec)
    step = CommandStep(spec)
    assert step.id == "command:notes" and step.reversible
    assert step.probe(ctx).state == ProbeState.TODO
    evidence = step.run(ctx, NullProgress())
    assert evidence["exit"] == 0
    assert (tmp_path / "out.txt").read_text() == f"v2.0.0-rc.1 2.0.0-rc.1 {'c' * 40}\n"
    assert step.probe(ctx).state == ProbeState.ALREADY_DONE
    assert step.undo(ctx).state == UndoState.UNDONE
    assert not (tmp_path / "out.txt").exists()


def test_failure_says_what_why_and_how_on(tmp_path: Path) -> None:
    spec = CommandStepConfig(id="upload", run="echo 'disk full' >&2; exit 3")
    with pytest.raises(PermanentError) as err:
        CommandStep(spec).run(ctx_for(tmp_path, spec), NullProgress())
    assert err.value.what == "your command `upload` failed"
    assert "exited with 3" in (err.value.why or "") and "disk full" in (err.value.why or "")
    assert "shipit resume" in (err.value.hint or "")


def test_timeout_kills_the_command(tmp_path: Path) -> None:
    spec = CommandStepConfig(id="slow", run="sleep 30", timeout=0.5)
    with pytest.raises(PermanentError) as err:
        CommandStep(spec).run(ctx_for(tmp_path, spec), NullProgress())
    assert "timed out after" in (err.value.why or "")


def test_without_probe_only_the_journal_knows_and_without_undo_it_says_so(
    tmp_path: Path,
) -> None:
    spec = CommandStepConfig(id="x", run="true")
    ctx = ctx_for(tmp_path, spec)
    assert CommandStep(spec).probe(ctx).state == ProbeState.TODO
    undo = CommandStep(spec).undo(ctx)
    assert undo.state == UndoState.IRREVERSIBLE and "undo = " in (undo.hint or "")


def test_factory_filters_by_phase(tmp_path: Path) -> None:
    a = CommandStepConfig(id="a", run="true", after="build")
    b = CommandStepConfig(id="b", run="true", after="publish")
    ctx = ctx_for(tmp_path, a, b)
    assert [s.id for s in command_steps(ctx, after="publish")] == ["command:b"]
    assert [s.id for s in command_steps(ctx)] == ["command:a", "command:b"]
