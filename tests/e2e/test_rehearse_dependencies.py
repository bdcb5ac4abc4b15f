"""`shipit rehearse` resolves a project's dependencies as its tools do: the sandbox's npm and
JSR registries read what they do not hold from an upstream (here a second local registry, the
session's, standing in for npmjs.org and jsr.io), while the project's publishes stay in the
sandbox; a lockfile without installed node_modules is installed with `npm ci`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shipit.rehearse import clean_tail
from shipit.sandbox.git_remote import GitRepo

CHECKS_OFF = "[checks.security]\nenabled = false\n"


def _run(argv: list[str], cwd: Path, **env: str) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout


def shipit(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, as a user runs it (offline: real registries are closed ports)."""
    return subprocess.run(
        [sys.executable, "-m", "shipit", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=900,
    )


def rehearse(repo: GitRepo) -> dict[str, Any]:
    result = shipit("-C", str(repo.path), "--json", "rehearse")
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == 0, "\n".join(report["output_tail"])
    return report


@pytest.mark.slow
def test_npm_dependencies_come_from_the_upstream_and_the_lockfile_is_installed(
    git_repo: GitRepo, unique_name: str, verdaccio: Any, tmp_path: Path
) -> None:
    dep = f"{unique_name}-dep"
    source = tmp_path / "dep"
    source.mkdir()
    (source / "package.json").write_text(
        json.dumps({"name": dep, "version": "1.2.0", "main": "index.js", "license": "MIT"})
    )
    (source / "index.js").write_text("module.exports = (s) => s.toUpperCase();\n")
    npmrc = tmp_path / "upstream.npmrc"
    npmrc.write_text(verdaccio.npmrc())
    _run(
        ["npm", "publish"],
        source,
        NPM_CONFIG_USERCONFIG=str(npmrc),
        NPM_CONFIG_REGISTRY=verdaccio.url,
    )

    package = {
        "name": unique_name,
        "version": "0.1.0",
        "license": "MIT",
        "main": "index.js",
        "dependencies": {dep: "^1.2.0"},
        "scripts": {"test": f"node -e \"require('assert').equal(require('{dep}')('a'), 'A')\""},
    }
    (git_repo.path / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    _run(
        ["npm", "install", "--package-lock-only"],
        git_repo.path,
        NPM_CONFIG_REGISTRY=verdaccio.url,
        NPM_CONFIG_USERCONFIG=str(npmrc),
    )
    # a real lockfile names npmjs.org; npm sends those reads to the configured registry
    lock = (git_repo.path / "package-lock.json").read_text()
    (git_repo.path / "package-lock.json").write_text(
        lock.replace(verdaccio.url, "https://registry.npmjs.org/")
    )
    git_repo.commit(
        "a library with a dependency",
        {
            "index.js": f"module.exports = require('{dep}');\n",
            ".gitignore": "node_modules/\n",
            "shipit.toml": CHECKS_OFF + f'\n[sandbox]\nnpm-upstream = "{verdaccio.url}"\n',
        },
    )
    git_repo.git("add", "-A")
    git_repo.git("commit", "-qm", "lockfile")
    git_repo.push()
    assert not (git_repo.path / "node_modules").exists()

    report = rehearse(git_repo)
    assert report["ok"] and report["state"] == "released"
    assert report["upstreams"]["npm"] == verdaccio.url
    assert ("npm", True) in [(p["where"], p["live"]) for p in report["published"]]
    # the project's own package is in the sandbox only, never in the upstream
    upstream = subprocess.run(
        ["npm", "view", unique_name, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "NPM_CONFIG_REGISTRY": verdaccio.url},
    )
    assert upstream.returncode != 0 and "E404" in upstream.stdout + upstream.stderr


@pytest.mark.slow
def test_jsr_dependencies_come_from_the_upstream(
    git_repo: GitRepo, unique_name: str, jsr_server: Any, tmp_path: Path
) -> None:
    dep = f"@shipit/{unique_name}-dep"
    source = tmp_path / "dep"
    source.mkdir()
    (source / "deno.json").write_text(
        json.dumps({"name": dep, "version": "1.0.0", "exports": "./mod.ts", "license": "MIT"})
    )
    (source / "mod.ts").write_text(
        "/** Twice. */\nexport function twice(n: number): number {\n  return 2 * n;\n}\n"
    )
    _run(
        [
            str(Path(sys.executable).parent / "deno"),
            "publish",
            "--token",
            jsr_server.token,
            "--allow-dirty",
            "--no-provenance",
        ],
        source,
        JSR_URL=jsr_server.url + "/",
    )
    config = {
        "name": f"@shipit/{unique_name}",
        "version": "0.1.0",
        "license": "MIT",
        "exports": "./mod.ts",
        "imports": {"dep": f"jsr:{dep}@^1.0.0"},
        "minimumDependencyAge": 0,  # the dependency was published a moment ago
    }
    git_repo.commit(
        "a Deno library with a JSR dependency",
        {
            "deno.json": json.dumps(config, indent=2) + "\n",
            "mod.ts": 'import { twice } from "dep";\n\n/** Four times. */\n'
            "export const four = (n: number): number => twice(twice(n));\n",
            "mod_test.ts": 'import { four } from "./mod.ts";\n\nDeno.test("four", () => {\n'
            '  if (four(1) !== 4) throw new Error("four");\n});\n',
            "shipit.toml": CHECKS_OFF + f'\n[sandbox]\njsr-upstream = "{jsr_server.url}/"\n',
        },
    )
    # as a real project does: the lockfile is committed (deno check writes it)
    _run(
        [str(Path(sys.executable).parent / "deno"), "cache", "mod.ts"],
        git_repo.path,
        JSR_URL=jsr_server.url + "/",
    )
    git_repo.git("add", "deno.lock")
    git_repo.git("commit", "-qm", "lockfile")
    git_repo.push()
    report = rehearse(git_repo)
    assert report["ok"] and report["state"] == "released"
    assert ("jsr", True) in [(p["where"], p["live"]) for p in report["published"]]


def test_the_tail_of_a_failed_rehearsal_names_what_survives_it(tmp_path: Path) -> None:
    work = tmp_path / "shipit-rehearse-x" / "project"
    saved = tmp_path / "me" / ".shipit" / "rehearsal"
    lines = [
        "error: npm pack failed",
        f"log: {work}/.shipit/releases/v1.0.0/shipit.log",
        f"in {work}/src",
        "next: shipit resume",
        "command:boom: FAILED (0.0s): exit 3 -- next: fix it, then `shipit resume`",
        "ways on: fix the cause and run `shipit resume`",
    ]
    assert clean_tail(lines, work, "v1.0.0", saved) == [
        "error: npm pack failed",
        f"log: {saved}/shipit.log",
        "in <rehearsal clone>/src",
        "command:boom: FAILED (0.0s): exit 3",
    ]


def _small_npm_project(repo: GitRepo, name: str, toml: str) -> None:
    package = {"name": name, "version": "0.2.0", "license": "MIT", "main": "index.js"}
    repo.commit(
        "a small library",
        {
            "package.json": json.dumps(package) + "\n",
            "index.js": "module.exports = 1;\n",
            "shipit.toml": CHECKS_OFF + toml,
        },
    )
    repo.push()


@pytest.mark.slow
def test_a_failed_rehearsal_keeps_its_log_and_names_commands_that_still_work(
    git_repo: GitRepo, unique_name: str
) -> None:
    toml = (
        '\n[[commands]]\nid = "boom"\nrun = "echo the build broke >&2; exit 3"\nafter = "build"\n'
    )
    _small_npm_project(git_repo, unique_name, toml)
    result = shipit("-C", str(git_repo.path), "rehearse")
    assert result.returncode == 1
    text = " ".join(result.stderr.split())
    saved = git_repo.path / ".shipit" / "rehearsal"
    assert (saved / "shipit.log").is_file() and (saved / "journal.json").is_file()
    assert "the build broke" in (saved / "shipit.log").read_text()
    assert f"the release's journal and logs: {saved}" in text
    assert "next: fix what the release names above, then `shipit rehearse` again" in text
    tail = text.split("last lines of the release:")[1]
    assert "shipit-rehearse-" not in tail  # no path into the deleted clone
    assert "next: shipit resume" not in tail and "`shipit resume`" not in tail
    assert git_repo.git("status", "--porcelain") == ""  # .shipit/ stays out of git


@pytest.mark.slow
def test_keep_says_how_to_stop_the_sandbox(git_repo: GitRepo, unique_name: str) -> None:
    _small_npm_project(git_repo, unique_name, "")
    result = shipit("-C", str(git_repo.path), "rehearse", "--keep")
    assert result.returncode == 0, result.stderr[-2000:]
    text = " ".join(result.stderr.split())
    command = text.split("stop it with `")[1].split("`")[0]
    assert command.startswith("shipit sandbox down --dir ")
    kept = Path(command.rsplit(" ", 1)[1]).parent
    assert (kept / "project" / "package.json").is_file()
    stopped = shipit(*command.split()[1:])
    assert stopped.returncode == 0, stopped.stderr
    state = json.loads((kept / "sandbox" / "sandbox.json").read_text())
    assert state["services"] == []
    import shutil

    shutil.rmtree(kept)
