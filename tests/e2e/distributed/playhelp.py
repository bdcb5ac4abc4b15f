"""Play the generated release workflow on one machine: an origin, one clone per job.

The origin holds the workflow `shipit ci init` wrote for it. A "job" is what a GitHub
Actions runner does: a fresh clone of the bare origin (as actions/checkout leaves it: the
branch for a manual run, the tag detached for a tag push), then the job's `run:` steps that
run shipit, read from the workflow file and run by bash as the runner would (`${{ matrix.* }}`,
`secrets.*`, `steps.*.outputs.*` and `runner.temp` filled in, `$GITHUB_OUTPUT` collected). The
steps that install toolchains and shipit itself are not played: this machine has them.
Artifacts move between jobs as plain directory copies, like upload-artifact/download-artifact
with merge-multiple, at the paths the workflow's own `with:` names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]

from shipit.sandbox import git_remote

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hello"
TARGETS = ("x86_64-linux-gnu", "aarch64-macos")

SHIPIT_TOML = """\
[binaries]
enabled = true
name = "hello"
preset = "zig"
entry = "cli/main.c"
targets = ["x86_64-linux-gnu", "aarch64-macos"]
archive = "tar.gz"

[checks.security]
enabled = false  # npm audit needs the real registry; the sandbox is offline

[retry]
initial-wait = 0.1
max-wait = 0.5
"""


@dataclass(frozen=True)
class Origin:
    """The bare repository every job clones, and the release it holds."""

    remote: Path
    version: str
    npm_name: str
    commit: str

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    def tags(self) -> list[str]:
        out = git_remote.git("ls-remote", "--tags", self.remote, cwd=self.remote)
        return sorted(line.split("\t")[1] for line in out.splitlines() if "^{}" not in line)


WORKFLOW = Path(".github") / "workflows" / "release.yml"


def make_origin(root: Path, *, version: str, npm_name: str) -> Origin:
    """A C program (two zig targets) that is also an npm package, with the release workflow
    `shipit ci init` writes for it, pushed to a bare origin."""
    repo = git_remote.seeded_repo(root, name="maintainer")
    package = {
        "name": npm_name,
        "version": version,
        "license": "MIT",
        "main": "./index.js",
        "files": ["index.js", "LICENSE"],
    }
    files = {
        "cli/main.c": (EXAMPLE / "cli" / "main.c").read_text(),
        "index.js": (EXAMPLE / "index.js").read_text(),
        "LICENSE": (EXAMPLE / "LICENSE").read_text(),
        "package.json": json.dumps(package, indent=2) + "\n",
        "shipit.toml": SHIPIT_TOML,
    }
    for name, text in files.items():
        (repo.path / name).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / name).write_text(text)
    init = subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), "ci", "init"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    files[WORKFLOW.as_posix()] = (repo.path / WORKFLOW).read_text()
    commit = repo.commit("hello, a program and a package, and its release workflow", files)
    repo.push()
    return Origin(repo.remote, version, npm_name, commit)


def checkout(origin: Origin, path: Path, *, tag: str | None = None) -> Path:
    """A job's checkout: the main branch, or (tag push) the tag, detached."""
    git_remote.clone(origin.remote, path)
    if tag is not None:
        git_remote.git("checkout", "--quiet", "--detach", tag, cwd=path)
    return path


def job_env(base: dict[str, str], *, job: str, run_id: str = "4242") -> dict[str, str]:
    env = {**os.environ, **base, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("CI", None)
    env.update(GITHUB_RUN_ID=run_id, GITHUB_RUN_ATTEMPT="1", GITHUB_JOB=job)
    return env


def shipit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(cwd), "--ci", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def upload(part_dir: Path, artifacts: Path, name: str) -> Path:
    """upload-artifact: the job's output directory becomes a named artifact."""
    dest = artifacts / name
    shutil.copytree(part_dir, dest)
    return dest


def download_merged(artifacts: Path, pattern: str, dest: Path) -> Path:
    """download-artifact with ``pattern`` and ``merge-multiple: true``."""
    dest.mkdir(parents=True, exist_ok=True)
    for artifact in sorted(artifacts.glob(pattern)):
        for item in artifact.iterdir():
            shutil.copy2(item, dest / item.name)
    return dest


def npm_versions(registry: str, name: str) -> list[str]:
    response = httpx.get(f"{registry}{name.replace('/', '%2f')}", timeout=10)
    if response.status_code == 404:
        return []
    return sorted(response.json().get("versions", {}))


def github_releases(api: str, token: str, repo: str, tag: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{api}/repos/{repo}/releases",
        params={"per_page": 100},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return [r for r in response.json() if r["tag_name"] == tag]


# ---------------------------------------------------------------- the workflow's own steps

SHIPIT_STEP = re.compile(r"(^|\s)shipit --ci\b")
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def workflow(job_dir: Path) -> dict[str, Any]:
    """The release workflow as the job's checkout holds it."""
    doc: dict[str, Any] = yaml.safe_load((job_dir / WORKFLOW).read_text())
    return doc


def played(doc: dict[str, Any], job: str) -> list[dict[str, Any]]:
    """The steps of ``job`` the play runs: every `run:` step that runs shipit, and the plan
    job's check of the pushed tag (which reads the plan step's output)."""
    return [
        step
        for step in doc["jobs"][job]["steps"]
        if "run" in step
        and (SHIPIT_STEP.search(step["run"]) or "github.event_name" in str(step.get("if", "")))
    ]


@dataclass
class Runner:
    """What a runner gives a job: its event, ref, temp directory, matrix entry and the
    outputs of the steps so far."""

    job_dir: Path
    env: dict[str, str]
    event: str  # push (a tag) or workflow_dispatch
    ref_name: str
    temp: Path
    matrix: Mapping[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, text: str) -> str:
        """``text`` with its ``${{ ... }}`` expressions filled in."""

        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            scope, _, rest = expr.partition(".")
            if scope == "matrix":
                return self.matrix[rest]
            if scope == "secrets":
                return self.env.get(rest, "")
            if scope == "runner" and rest == "temp":
                return str(self.temp)
            if scope == "steps":
                step_id, _, key = rest.partition(".outputs.")
                return self.outputs.get(step_id, {}).get(key, "")
            raise AssertionError(f"the play cannot evaluate ${{{{ {expr} }}}}")

        return EXPRESSION.sub(one, text)

    def runs(self, condition: str | None) -> bool:
        if condition is None:
            return True
        if condition == "github.event_name == 'push'":
            return self.event == "push"
        raise AssertionError(f"the play cannot evaluate `if: {condition}`")


def _shipit_on_path(directory: Path) -> Path:
    """A `shipit` command that is this checkout's shipit (what pipx installs on a runner)."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "shipit"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m shipit "$@"\n')
    wrapper.chmod(0o755)
    return directory


def play(
    doc: dict[str, Any], job: str, runner: Runner
) -> list[tuple[str, subprocess.CompletedProcess[str]]]:
    """Run the played steps of ``job`` in order, as bash on a runner would; stop at the first
    that fails. Returns each step's name and result."""
    runner.temp.mkdir(parents=True, exist_ok=True)
    bindir = _shipit_on_path(runner.temp.parent / f"{runner.temp.name}-bin")
    workdir = doc.get("defaults", {}).get("run", {}).get("working-directory", ".")
    repository = runner.env.get("GITHUB_REPOSITORY", "acme/hello")
    ref = f"refs/tags/{runner.ref_name}" if runner.event == "push" else "refs/heads/main"
    results: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    for index, step in enumerate(played(doc, job)):
        if not runner.runs(step.get("if")):
            continue
        output = runner.temp / f"github-output-{index}"
        output.write_text("")
        env = {
            **runner.env,
            **{k: runner.value(str(v)) for k, v in (step.get("env") or {}).items()},
            "PATH": f"{bindir}{os.pathsep}{runner.env.get('PATH', os.defpath)}",
            "GITHUB_WORKSPACE": str(runner.job_dir),
            "GITHUB_WORKFLOW_REF": f"{repository}/{WORKFLOW.as_posix()}@{ref}",
            "GITHUB_EVENT_NAME": runner.event,
            "GITHUB_REF": ref,
            "GITHUB_REF_NAME": runner.ref_name,
            "GITHUB_OUTPUT": str(output),
            "RUNNER_TEMP": str(runner.temp),
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", runner.value(step["run"])],
            cwd=runner.job_dir / workdir,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        results.append((str(step.get("name")), result))
        if "id" in step:
            lines = output.read_text().splitlines()
            runner.outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
        if result.returncode != 0:
            break
    return results


def step_with(doc: dict[str, Any], job: str, action: str) -> dict[str, Any]:
    """The ``with:`` of the job's one step that uses ``action`` (e.g. upload-artifact)."""
    [step] = [s for s in doc["jobs"][job]["steps"] if f"/{action}@" in s.get("uses", "")]
    return dict(step["with"])
