"""`shipit rehearse`: a full release of a project against a throw-away sandbox and clone,
a report of what went where, and nothing left behind (no process, no directory, no change
to the real repository or its remote)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from shipit.rehearse import Published, Rehearsal, render
from shipit.sandbox import process
from shipit.sandbox.git_remote import GitRepo


def _project(repo: GitRepo, name: str) -> None:
    module = name.replace("-", "_")
    repo.commit(
        "project",
        {
            ".gitignore": "*.egg-info/\nbuild/\n",
            "package.json": json.dumps({"name": name, "version": "0.3.0", "license": "MIT"}) + "\n",
            "mod.ts": "export const x = 1;\n",
            "deno.json": json.dumps(
                {"name": f"@demo/{name}", "version": "0.3.0", "exports": "./mod.ts"}
            )
            + "\n",
            "LICENSE": "MIT\n",
            f"{module}/__init__.py": "",
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=61"]\n'
                'build-backend = "setuptools.build_meta"\n'
                f'[project]\nname = "{name}"\nversion = "0.3.0"\n'
                f'[tool.setuptools]\npackages = ["{module}"]\n'
            ),
            "shipit.toml": (
                "[checks.typecheck]\nenabled = false\n[checks.lint]\nenabled = false\n"
                "[checks.test]\nenabled = false\n[checks.security]\nenabled = false\n"
                '[notify]\nurls = ["slack://${SLACK_TOKEN}/never-called"]\n'
            ),
        },
    )
    repo.push()


def _remote_refs(repo: GitRepo) -> str:
    return subprocess.run(
        ["git", "ls-remote", str(repo.remote)], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.slow
def test_rehearsal_releases_everywhere_reports_and_cleans_up(
    git_repo: GitRepo, unique_name: str, tmp_path: Path
) -> None:
    _project(git_repo, unique_name)
    (git_repo.path / "notes.txt").write_text("work in progress\n")  # an uncommitted change
    refs_before = _remote_refs(git_repo)
    tags_before = git_repo.git("tag", "--list")
    env = dict(os.environ)
    env["SLACK_TOKEN"] = "xoxb-real-slack-token-never-used"
    private_tmp = tmp_path / "tmp"  # other rehearsals on this machine use the shared /tmp
    private_tmp.mkdir()
    env["TMPDIR"] = str(private_tmp)
    result = subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(git_repo.path), "--json", "rehearse"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)  # --json: only the report on stdout

    assert report["ok"], report["output_tail"]
    assert (report["version"], report["tag"], report["state"]) == ("0.3.0", "v0.3.0", "released")
    published = {p["where"]: p for p in report["published"]}
    assert set(published) == {"npm", "jsr", "pypi", "github"}
    assert all(p["live"] for p in published.values()), published
    assert published["npm"]["version"] == "0.3.0"
    assert published["github"]["version"] == "v0.3.0"
    assert published["jsr"]["package"] == f"@demo/{unique_name}"
    assert {s["id"] for s in report["steps"]} >= {"git:tag", "npm:publish", "notify"}
    assert all(s["state"] == "done" for s in report["steps"])
    # the notification went to the rehearsal's receiver, not to Slack
    titles = [n["title"] for n in report["notifications"]]
    assert titles[-1] == f"Released @demo/{unique_name} v0.3.0"
    assert any("uncommitted" in w for w in report["warnings"])
    assert "xoxb-real-slack-token-never-used" not in result.stdout + result.stderr

    # nothing left behind, nothing changed in the real repository or its remote
    for service in report["services"]:
        if service.get("pid"):
            assert not process.group_alive(int(service["pid"])), service
    assert not list(private_tmp.glob("shipit-rehearse-*"))  # clone and sandbox removed
    assert _remote_refs(git_repo) == refs_before
    assert git_repo.git("tag", "--list") == tags_before
    assert not (git_repo.path / ".shipit").exists()


def test_report_for_a_person() -> None:
    report = Rehearsal(
        ok=False,
        exit_code=3,
        version="1.0.0",
        tag="v1.0.0",
        state="failed",
        commit="c" * 40,
        duration_s=12.0,
        published=[Published("npm", "demo", "1.0.0", True, "http://127.0.0.1:1/demo")],
        steps=[
            {"id": "pypi:publish", "state": "failed", "attempts": 1, "urls": [], "error": "403"}
        ],
        notifications=[{"title": "Release of demo v1.0.0 failed at pypi:publish"}],
        output_tail=["pypi:publish: FAILED: 403"],
    )
    console = Console(record=True, width=120)
    render(report, console)
    screen = console.export_text()
    assert "rehearsal FAILED: release ended failed (exit 3) in 12s" in screen
    assert "http://127.0.0.1:1/demo" in screen
    assert "pypi:publish" in screen and "403" in screen
    assert "notification: Release of demo v1.0.0 failed at pypi:publish" in screen
    assert "pypi:publish: FAILED: 403" in screen
    assert "sandbox and clone removed." in screen
