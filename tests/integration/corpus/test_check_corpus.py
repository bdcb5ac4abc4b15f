"""`shipit check`, unconfigured, on every project shape of the corpus, through the real CLI:
green when the project's own commands are green, and the planted problem named with its file,
line and kind when one is planted. The security check is left out: npm audit and pip-audit
need their online databases (offline they report an error, never a pass)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import SHAPES, build
from tests.corpus.shapes import SHAPES as _ALL

SHIPIT = Path(sys.executable).parent / "shipit"
PROBLEMS = [
    (shape, problem)
    for shape in _ALL
    for problem in sorted(
        {
            "deno-jsr": ["type-error", "lint", "failing-test", "secret"],
            "deno-dnt": ["type-error", "failing-test", "secret"],
            "deno-tags": ["type-error", "failing-test"],
            "deno-cli": ["type-error", "failing-test"],
            "node-ts": ["type-error", "lint", "failing-test", "dependencies-missing"],
            "node-vitest": ["lint", "failing-test"],
            "python-tox": ["lint", "failing-test"],
            "python-hatch-vcs": ["type-error", "lint", "failing-test"],
        }[shape]
    )
]


def check(path: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [str(SHIPIT), "-C", str(path), "check", "--skip", "security", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.returncode, json.loads(done.stdout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_green_project_passes_unconfigured(
    shape: str, tmp_path: Path, unique_name: str, corpus_env: dict[str, str]
) -> None:
    project = build(shape, tmp_path / shape, unique_name)
    code, report = check(project.path, corpus_env)
    by = {c["name"]: c for c in report["checks"]}
    assert code == 0, {n: (c["status"], c["summary"], c["findings"]) for n, c in by.items()}
    assert set(statuses(report).values()) <= {"passed", "skipped"}
    # every check that ran a project command says which and why
    for name in ("typecheck", "lint", "test"):
        plan = report["plan"][name]
        assert all(c["command"] and c["why"] for c in plan["commands"])
        if by[name]["status"] == "skipped":
            assert "to run it:" in by[name]["summary"] or "no tests" in by[name]["summary"]


@pytest.mark.slow
@pytest.mark.parametrize(("shape", "problem"), PROBLEMS)
def test_planted_problem_is_named_with_file_and_line(
    shape: str, problem: str, tmp_path: Path, unique_name: str, corpus_env: dict[str, str]
) -> None:
    project = build(shape, tmp_path / shape, unique_name)
    planted = project.plant(problem)
    code, report = check(project.path, corpus_env)
    assert code == 1
    by = {c["name"]: c for c in report["checks"]}
    result = by[planted.check]
    expected_status = "error" if planted.kind == "dependency problem" else "failed"
    assert result["status"] == expected_status, result
    located = [
        f
        for f in result["findings"]
        if (f["file"], f["line"], f["kind"]) == (planted.file, planted.line, planted.kind)
    ]
    assert located, (planted, result["findings"])
    assert any(planted.text in f["message"] or planted.text in (f["hint"] or "") for f in located)
    # nothing else is blamed on shipit: the other checks pass, skip, or fail on the same file
    for name, other in by.items():
        if name == planted.check or other["status"] in ("passed", "skipped"):
            continue
        # (a build that fails on the same problem says why, then names the same place)
        located = {f["file"] for f in other["findings"] if f["file"] or f["kind"]}
        assert located <= {planted.file}, (name, other)
