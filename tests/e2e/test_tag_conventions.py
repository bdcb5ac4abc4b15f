"""Conventions learned from the repository, through the real CLI: the tag format inferred
from existing tags, a warning when the configured one disagrees, and tag-driven versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from shipit.sandbox.git_remote import GitRepo


def shipit(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("CI", None)
    env.pop("GITHUB_REPOSITORY", None)
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def tag(repo: GitRepo, *names: str) -> None:
    for name in names:
        repo.commit(f"release {name}")
        repo.git("tag", "-a", name, "-m", f"Release {name}")


def npm_project(repo: GitRepo, version: str, toml: str = "") -> None:
    package = {"name": "demo-tags", "version": version, "private": True}
    files = {"package.json": json.dumps(package) + "\n"}
    if toml:
        files["shipit.toml"] = toml
    repo.commit("project", files)


def test_tags_without_v_give_the_next_tag_without_v(git_repo: GitRepo) -> None:
    tag(git_repo, "3.0.2", "3.0.3", "3.0.4")
    npm_project(git_repo, "3.0.5")
    shown = shipit(git_repo, "version")
    assert shown.returncode == 0, shown.stderr
    assert "tags: {version} (inferred from tags 3.0.4, 3.0.3, 3.0.2)" in shown.stdout
    planned = shipit(git_repo, "--json", "plan")
    doc = json.loads(planned.stdout)
    assert doc["release"]["tag"] == "3.0.5"
    assert doc["release"]["tag_source"] == "inferred from tags 3.0.4, 3.0.3, 3.0.2"
    text = shipit(git_repo, "plan")
    assert "release 3.0.5 (version 3.0.5)" in text.stdout
    assert "tag format: inferred from tags 3.0.4, 3.0.3, 3.0.2" in text.stdout


def test_a_configured_format_the_tags_do_not_follow_is_warned_about(git_repo: GitRepo) -> None:
    tag(git_repo, "3.0.3", "3.0.4")
    npm_project(git_repo, "3.0.5", '[release]\ntag-format = "v{version}"\n')
    shown = shipit(git_repo, "version")
    assert "tags: v{version} (release.tag-format in the configuration)" in shown.stdout
    assert (
        "warning: release.tag-format is 'v{version}', but no existing tag follows it; the tags "
        "look like '{version}' (3.0.4, 3.0.3)"
    ) in " ".join(shown.stderr.split())


def test_a_deno_library_versioned_by_its_tags(git_repo: GitRepo) -> None:
    config = {"name": "@corpus/durations", "license": "MIT", "exports": "./mod.ts"}
    git_repo.commit(
        "a Deno library",
        {"deno.json": json.dumps(config) + "\n", "mod.ts": "export const x = 1;\n"},
    )
    git_repo.git("tag", "-a", "v0.3.0", "-m", "Release v0.3.0")
    git_repo.commit("docs")
    shown = shipit(git_repo, "version")
    assert shown.returncode == 0, shown.stderr
    assert 'from the tag v0.3.0; deno.json has no "version": it comes from the tags' in (
        " ".join(shown.stdout.split())
    )
    assert "no version found" not in shown.stdout
    doc = json.loads(shipit(git_repo, "--json", "version").stdout)
    jsr = next(t for t in doc["targets"] if t["name"] == "jsr")
    assert jsr["enabled"] and jsr["reason"] == (
        "deno.json has name and exports, the version from the tags (@corpus/durations)"
    )
    assert doc["version"] == "0.3.0" and doc["latest_tag"] == "v0.3.0"
    assert doc["tag_driven"] == 'deno.json has no "version": it comes from the tags'
    told = shipit(git_repo, "version", "set", "0.4.0")
    assert told.returncode == 0, told.stderr
    assert "nothing to write" in told.stdout
    assert "shipit release --version 0.4.0` tags v0.4.0" in " ".join(told.stdout.split())
    assert json.loads((git_repo.path / "deno.json").read_text()) == config  # untouched
    planned = shipit(git_repo, "plan", "--version", "0.4.0")
    assert "deno publish --token <one-time> --no-provenance --set-version 0.4.0" in planned.stdout


def test_a_tag_driven_project_without_tags_needs_a_first_version(git_repo: GitRepo) -> None:
    config = {"name": "@corpus/fresh", "license": "MIT", "exports": "./mod.ts"}
    git_repo.commit("new", {"deno.json": json.dumps(config), "mod.ts": "export {};\n"})
    shown = shipit(git_repo, "version")
    assert "no release tag yet" in shown.stdout
    assert "shipit release --version 0.1.0" in shown.stderr
    planned = shipit(git_repo, "plan")
    assert planned.returncode != 0
    assert "pass the first version: shipit release --version 0.1.0" in planned.stderr
