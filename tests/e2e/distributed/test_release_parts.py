"""The generated release workflow, played on one machine against the sandbox.

Every job runs in its own clone of the bare origin, as a runner would, and runs the shipit
steps of the workflow `shipit ci init` wrote into that origin, read from the file: the plan job
(`shipit ci check`, `shipit check`, `shipit plan --json`, the pushed tag against the planned
one), one build job per matrix entry (`shipit build`, its part copied out as the job's
artifact), and the publish job in a third clone (the parts downloaded and merged, `shipit
release --parts`) against verdaccio and the GitHub test server. A two-target program is
released once with its SHA256SUMS; a re-run and a crash followed by a re-run publish nothing
twice; a tampered part and a part of another commit are refused with nothing visible.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from playhelp import (
    TARGETS,
    WORKFLOW,
    Origin,
    Runner,
    checkout,
    download_merged,
    github_releases,
    job_env,
    make_origin,
    npm_versions,
    play,
    shipit,
    step_with,
    upload,
    workflow,
)

from shipit import hashing, parts
from shipit.sandbox import git_remote
from shipit.steps.binaries import safe

pytestmark = pytest.mark.slow


def _origin(tmp_path: Path) -> Origin:
    # a version no other test releases on the session's shared GitHub repository
    version = f"3.{secrets.randbelow(10**6)}.0"
    return make_origin(
        tmp_path / "origin", version=version, npm_name=f"hello-{secrets.token_hex(4)}"
    )


PLAN_STEPS = [
    "This workflow still matches the configuration",
    "Check the project (the registry check runs in the publish job)",
    "Plan the release",
]


def _runner(job_dir: Path, env: dict[str, str], tag: str | None, temp: Path, **kw: Any) -> Runner:
    event = "push" if tag is not None else "workflow_dispatch"
    return Runner(job_dir, env, event, tag or "main", temp, **kw)


def _plan_job(origin: Origin, work: Path, env: dict[str, str], tag: str | None) -> str:
    job = checkout(origin, work / "plan", tag=tag)
    doc = workflow(job)
    runner = _runner(job, env, tag, work / "runner-temp-plan")
    results = play(doc, "plan", runner)
    pushed = ["The pushed tag is the planned tag"] if tag is not None else []
    assert [name for name, _ in results] == [*PLAN_STEPS, *pushed]
    for name, result in results:
        assert result.returncode == 0, f"{name}: {result.stderr}"
    plan = job / runner.value(step_with(doc, "plan", "upload-artifact")["path"])  # the artifact
    doc_plan = json.loads(plan.read_text())
    (work / "artifacts").mkdir(parents=True, exist_ok=True)
    shutil.copy2(plan, work / "artifacts" / "shipit-plan.json")
    assert runner.outputs["plan"]["tag"] == doc_plan["release"]["tag"]
    return runner.outputs["plan"]["tag"]


def _build_jobs(origin: Origin, work: Path, env: dict[str, str], tag: str | None) -> None:
    ref = tag or "main"
    doc = yaml.safe_load(git_remote.git("show", f"{ref}:{WORKFLOW.as_posix()}", cwd=origin.remote))
    include = doc["jobs"]["build"]["strategy"]["matrix"]["include"]
    assert [entry["target"] for entry in include] == list(TARGETS)
    for entry in include:
        job = checkout(origin, work / f"build-{entry['slug']}", tag=tag)
        runner = _runner(
            job,
            job_env(env, job="build"),
            tag,
            work / f"runner-temp-build-{entry['slug']}",
            matrix=entry,
        )
        [(name, result)] = play(doc, "build", runner)
        assert name == "Build and verify ${{ matrix.target }}"
        assert result.returncode == 0, result.stderr
        artifact = step_with(doc, "build", "upload-artifact")
        upload(
            Path(runner.value(artifact["path"])), work / "artifacts", runner.value(artifact["name"])
        )


def _publish_job(
    origin: Origin, work: Path, env: dict[str, str], name: str, tag: str | None, **extra: str
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A publish job in its own clone; returns where it downloaded the parts, and its run."""
    job = checkout(origin, work / name, tag=tag)
    doc = workflow(job)
    runner = _runner(
        job, {**job_env(env, job="publish"), **extra}, tag, work / f"runner-temp-{name}"
    )
    download = step_with(doc, "publish", "download-artifact")
    assert download["merge-multiple"] is True
    downloaded = download_merged(
        work / "artifacts", download["pattern"], Path(runner.value(download["path"]))
    )
    [(step, result)] = play(doc, "publish", runner)
    assert step == "Release"
    return downloaded, result


def _assets(env: dict[str, str], tag: str) -> dict[str, bytes]:
    [release] = github_releases(
        env["GITHUB_API_URL"], env["GITHUB_TOKEN"], env["GITHUB_REPOSITORY"], tag
    )
    assert release["draft"] is False
    out: dict[str, bytes] = {}
    for asset in release["assets"]:
        response = httpx.get(asset["browser_download_url"], timeout=10, follow_redirects=True)
        response.raise_for_status()
        assert asset["name"] not in out, f"duplicate asset {asset['name']}"
        out[asset["name"]] = response.content
    return out


def _draft_assets(env: dict[str, str], tag: str) -> dict[str, str]:
    """The assets of the release's draft: name -> digest."""
    [draft] = github_releases(
        env["GITHUB_API_URL"], env["GITHUB_TOKEN"], env["GITHUB_REPOSITORY"], tag
    )
    assert draft["draft"] is True
    return {a["name"]: str(a.get("digest")) for a in draft["assets"]}


def _nothing_visible(origin: Origin, env: dict[str, str]) -> None:
    assert origin.tags() == []
    assert npm_versions(env["NPM_CONFIG_REGISTRY"], origin.npm_name) == []
    assert (
        github_releases(
            env["GITHUB_API_URL"], env["GITHUB_TOKEN"], env["GITHUB_REPOSITORY"], origin.tag
        )
        == []
    )


def test_tag_push_releases_parts_built_in_separate_checkouts_once(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    origin = _origin(tmp_path)
    maintainer = tmp_path / "origin" / "maintainer"  # the maintainer pushes the release tag
    git_remote.git("tag", "-a", origin.tag, "-m", f"Release {origin.tag}", cwd=maintainer)
    git_remote.git("push", "--quiet", "origin", f"refs/tags/{origin.tag}", cwd=maintainer)
    env = job_env(sandbox_env, job="plan")
    work = tmp_path / "run"
    assert _plan_job(origin, work, env, origin.tag) == origin.tag  # the pushed tag is planned
    _build_jobs(origin, work, env, origin.tag)

    downloaded, result = _publish_job(origin, work, env, "publish", origin.tag)
    job = work / "publish"
    assert result.returncode == 0, result.stderr

    # released once: the tag where it was, the npm package, the GitHub release with the parts
    assert origin.tags() == [f"refs/tags/{origin.tag}"]
    assert npm_versions(env["NPM_CONFIG_REGISTRY"], origin.npm_name) == [origin.version]
    assets = _assets(sandbox_env, origin.tag)
    names = {t: f"hello-{origin.version}-{t}.tar.gz" for t in TARGETS}
    assert sorted(assets) == sorted([*names.values(), "SHA256SUMS"])
    for target, name in names.items():
        manifest = parts.read(downloaded / f"{target}.part.json")
        assert manifest.commit == origin.commit
        assert assets[name] == (downloaded / name).read_bytes()
        assert f"{manifest.files[0].sha256}  {name}\n" in assets["SHA256SUMS"].decode()
    assert assets["SHA256SUMS"].decode().count("\n") == 2
    journal = json.loads((job / ".shipit" / "releases" / origin.tag / "journal.json").read_text())
    for target in TARGETS:
        evidence = journal["steps"][f"binaries:build:{target}"]["evidence"]
        assert evidence["part"]["commit"] == origin.commit  # the parts' hashes, in the journal
        assert evidence["sha256"] == hashing.sha256_file(downloaded / names[target])

    # the workflow run again (a fresh runner): every probe finds its step done
    _, again = _publish_job(origin, work, env, "publish-rerun", origin.tag)
    assert again.returncode == 0, again.stderr
    assert npm_versions(env["NPM_CONFIG_REGISTRY"], origin.npm_name) == [origin.version]
    assert _assets(sandbox_env, origin.tag) == assets
    assert (
        len(
            github_releases(
                sandbox_env["GITHUB_API_URL"],
                sandbox_env["GITHUB_TOKEN"],
                sandbox_env["GITHUB_REPOSITORY"],
                origin.tag,
            )
        )
        == 1
    )


def test_publish_job_killed_mid_upload_then_rerun_publishes_nothing_twice(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    origin = _origin(tmp_path)
    env = job_env(sandbox_env, job="plan")
    work = tmp_path / "run"
    _plan_job(origin, work, env, None)  # a manual run on main: the release makes the tag
    _build_jobs(origin, work, env, None)
    first = f"github:asset:hello-{origin.version}-{TARGETS[0]}.tar.gz"
    _, crashed = _publish_job(
        origin, work, env, "publish", None, SHIPIT_TEST_FAULT=f"kill@{first}:after"
    )
    assert crashed.returncode != 0
    assert origin.tags() == [f"refs/tags/{origin.tag}"]  # it got as far as the first asset

    # on the same machine, `shipit resume` takes the parts the journal recorded, and refuses
    # another build of a target than the one the release started with
    downloaded = work / "runner-temp-publish" / "shipit-parts"
    saved = work / "saved-parts"
    shutil.copytree(downloaded, saved)
    name = f"hello-{origin.version}-{TARGETS[1]}.tar.gz"
    other = (downloaded / name).read_bytes() + b"\0"  # another build, with its own manifest
    (downloaded / name).write_bytes(other)
    manifest = parts.read(downloaded / f"{TARGETS[1]}.part.json")
    rebuilt = parts.PartFile(name=name, size=len(other), sha256=hashlib.sha256(other).hexdigest())
    parts.write(manifest.model_copy(update={"files": [rebuilt]}), downloaded)
    job = work / "publish"
    before = _draft_assets(sandbox_env, origin.tag)  # uploads run in parallel: 1 to 3 of them
    refused = shipit(job, job_env(env, job="publish"), "resume", "--yes")
    assert refused.returncode == 1
    assert f"{name} is another build than the one this release started with" in refused.stderr
    assert _draft_assets(sandbox_env, origin.tag) == before  # nothing uploaded or replaced

    shutil.rmtree(downloaded)
    shutil.copytree(saved, downloaded)
    resumed = shipit(job, job_env(env, job="publish"), "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(_assets(sandbox_env, origin.tag)) == sorted(
        [*(f"hello-{origin.version}-{t}.tar.gz" for t in TARGETS), "SHA256SUMS"]
    )

    _, rerun = _publish_job(origin, work, env, "publish-rerun", None)  # "Re-run failed jobs"
    assert rerun.returncode == 0, rerun.stderr
    assets = _assets(sandbox_env, origin.tag)
    assert sorted(assets) == sorted(
        [*(f"hello-{origin.version}-{t}.tar.gz" for t in TARGETS), "SHA256SUMS"]
    )
    assert npm_versions(env["NPM_CONFIG_REGISTRY"], origin.npm_name) == [origin.version]


def test_tampered_part_and_part_of_another_commit_are_refused_with_nothing_visible(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    origin = _origin(tmp_path)
    env = job_env(sandbox_env, job="plan")
    work = tmp_path / "run"
    _build_jobs(origin, work, env, None)

    # a part whose archive changed after its build job wrote the manifest
    tampered = work / "artifacts" / f"shipit-part-{safe(TARGETS[0])}"
    name = f"hello-{origin.version}-{TARGETS[0]}.tar.gz"
    (tampered / name).write_bytes((tampered / name).read_bytes() + b"\0")
    _, refused = _publish_job(origin, work, env, "publish-tampered", None)
    assert refused.returncode == 1
    stderr = refused.stderr
    assert "error: parts-rejected" in stderr
    assert "nothing was published" in stderr
    assert f"{name} differs from its manifest" in stderr
    assert f"re-run the build job of {TARGETS[0]}" in stderr
    assert "Traceback" not in stderr
    _nothing_visible(origin, sandbox_env)

    # a new commit lands between the build jobs: one part is of the old commit
    maintainer = tmp_path / "origin" / "maintainer"
    git_remote.git("commit", "--quiet", "--allow-empty", "-m", "later work", cwd=maintainer)
    git_remote.git("push", "--quiet", "origin", "main", cwd=maintainer)
    newer = checkout(origin, work / "build-again", tag=None)
    rebuilt = shipit(
        newer,
        job_env(env, job="build"),
        "build",
        "--target",
        TARGETS[0],
        "--out",
        str(work / "rebuilt"),
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    shutil.rmtree(tampered)
    upload(work / "rebuilt", work / "artifacts", f"shipit-part-{safe(TARGETS[0])}")
    _, mixed = _publish_job(origin, work, env, "publish-mixed", None)
    assert mixed.returncode == 1
    stderr = mixed.stderr
    assert f"{TARGETS[1]}: built from commit {origin.commit[:12]}" in stderr
    assert "all parts must come from one workflow run" in stderr
    assert "Traceback" not in stderr
    _nothing_visible(origin, sandbox_env)

    # and a target without a part (its build job failed) is named with the command to run
    shutil.rmtree(work / "artifacts" / f"shipit-part-{safe(TARGETS[1])}")
    _, missing = _publish_job(origin, work, env, "publish-missing", None)
    assert missing.returncode == 1
    assert f"{TARGETS[1]}: no part was given for this target" in missing.stderr
    assert f"shipit build --target {TARGETS[1]}" in missing.stderr
    _nothing_visible(origin, sandbox_env)
