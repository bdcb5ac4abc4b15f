"""`shipit status` against the sandbox: what is live where, the last release, what to do next.

Version 1.0.0 of a package is published with the real clients (npm to verdaccio, deno to the
JSR server, twine to pypiserver) and as a GitHub release on the test server; the project is
at 1.1.0 with a failed release of v1.1.0 in its journal. The dashboard must say all of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from shipit.commands.status import collect, watch
from shipit.config import Config, Settings
from shipit.engine.journal import Journal, ReleaseLock
from shipit.sandbox.git_remote import GitRepo, seeded_repo
from shipit.ui.status_view import render
from shipit.workspace import protect
from tests.journals import written_journal

PY = sys.executable


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


def _files(name: str, scope: str, version: str) -> dict[str, str]:
    return {
        "package.json": json.dumps(
            {"name": name, "version": version, "license": "MIT", "main": "mod.js"}, indent=2
        )
        + "\n",
        "mod.js": "export const hello = () => 'hello';\n",
        "mod.ts": "export const hello = (): string => 'hello';\n",
        "deno.json": json.dumps(
            {
                "name": f"@{scope}/{name}",
                "version": version,
                "exports": "./mod.ts",
                "license": "MIT",
            },
            indent=2,
        )
        + "\n",
        "LICENSE": "MIT\n",
        "pyproject.toml": (
            "[build-system]\nrequires = ['setuptools']\n"
            f"[project]\nname = '{name}'\nversion = '{version}'\n"
            "[tool.setuptools]\npy-modules = []\n"
        ),
    }


def _wheel(dist: Path, name: str, version: str) -> Path:
    """A minimal valid wheel (metadata only), written directly."""
    dist.mkdir(parents=True, exist_ok=True)
    stem = name.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    path = dist / f"{stem}-{version}-py3-none-any.whl"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for arc, text in files.items():
            zf.writestr(arc, text)
        zf.writestr(f"{info}/RECORD", "".join(f"{arc},,\n" for arc in files) + f"{info}/RECORD,,\n")
    return path


@pytest.fixture(scope="module")
def published(
    sandbox_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Publish 1.0.0 of a fresh package everywhere with the real clients."""
    import secrets

    name = f"pkg-{secrets.token_hex(4)}"
    scope = "shipit"
    base = tmp_path_factory.mktemp("status-publish")
    pkg = base / "pkg"
    pkg.mkdir()
    for file, text in _files(name, scope, "1.0.0").items():
        (pkg / file).write_text(text)
    env = dict(os.environ)
    env.update(sandbox_env)
    registry = sandbox_env["NPM_CONFIG_REGISTRY"]
    npmrc = base / "npmrc"
    host = registry.split("://", 1)[1]
    npmrc.write_text(f"registry={registry}\n//{host}:_authToken={sandbox_env['NPM_TOKEN']}\n")
    env["NPM_CONFIG_USERCONFIG"] = str(npmrc)
    _run(["npm", "publish", "--registry", registry], pkg, env)
    deno = str(Path(PY).parent / "deno")
    _run(
        [deno, "publish", "--allow-dirty", "--no-provenance", "--token", sandbox_env["JSR_TOKEN"]],
        pkg,
        {**env, "NO_COLOR": "1", "DENO_NO_UPDATE_CHECK": "1"},
    )
    wheel = _wheel(base / "dist", name, "1.0.0")
    _run(
        [
            PY, "-m", "twine", "upload", "--non-interactive",
            "--repository-url", sandbox_env["TWINE_REPOSITORY_URL"],
            "-u", "__token__", "-p", sandbox_env["PYPI_TOKEN"], str(wheel),
        ],
        pkg,
        env,
    )  # fmt: skip
    api = sandbox_env["GITHUB_API_URL"]
    repo = sandbox_env["GITHUB_REPOSITORY"]
    headers = {"Authorization": f"Bearer {sandbox_env['GITHUB_TOKEN']}"}
    with httpx.Client(base_url=api, headers=headers, trust_env=False) as c:
        r = c.post(f"/repos/{repo}/releases", json={"tag_name": f"{name}-v1.0.0", "draft": False})
        assert r.status_code == 201, r.text
    yield {"name": name, "scope": scope, "gh_tag": f"{name}-v1.0.0"}


@pytest.fixture()
def project(tmp_path: Path, published: dict[str, Any]) -> GitRepo:
    name, scope = published["name"], published["scope"]
    repo = seeded_repo(tmp_path / "git", files=_files(name, scope, "1.0.0"))
    repo.git("tag", "-a", f"{name}-v1.0.0", "-m", "Release 1.0.0")
    repo.commit("bump", _files(name, scope, "1.1.0"))
    (repo.path / "shipit.toml").write_text(f'[release]\ntag-format = "{name}-v{{version}}"\n')
    repo.commit("config", {"shipit.toml": (repo.path / "shipit.toml").read_text()})
    return repo


def _failed_journal(repo: GitRepo, tag: str) -> Journal:
    protect(repo.path)
    journal = written_journal(
        repo.path / ".shipit" / "releases" / tag,
        version="1.1.0",
        tag=tag,
        commit=repo.head(),
        config_digest="x",
        steps=[("npm:pack", False), ("git:tag", True), ("npm:publish", True), ("notify", False)],
    )
    journal.set_state("releasing")
    journal.update_step("npm:pack", state="running")
    journal.update_step("npm:pack", state="done", evidence={"integrity": "sha512-abc"})
    journal.update_step("git:tag", state="already-done", evidence={"commit": repo.head()})
    journal.update_step("npm:publish", state="running")
    journal.update_step("npm:publish", state="running")
    journal.update_step(
        "npm:publish",
        state="failed",
        error={
            "code": "permanent",
            "what": "npm rejected the token",
            "why": "E401",
            "hint": "set NPM_TOKEN, then run `shipit resume`",
        },
        evidence={"registry": "http://127.0.0.1:1/"},
    )
    journal.set_state("failed")
    return journal


def _collect(repo: GitRepo, env: dict[str, str], **kw: Any) -> Any:
    from shipit.config import load

    config = load(repo.path).config
    return collect(repo.path, config, Settings.from_env(env, config), env, **kw)


def test_dashboard_shows_live_versions_release_and_next(
    project: GitRepo, published: dict[str, Any], sandbox_env: dict[str, str]
) -> None:
    name = published["name"]
    tag = f"{name}-v1.1.0"
    _failed_journal(project, tag)
    env = {**os.environ, **sandbox_env}
    report = _collect(project, env)
    console = Console(record=True, width=120)
    console.print(render(report))
    screen = console.export_text()

    flat = " ".join(screen.split())
    assert "version 1.1.0 (all sources agree)" in flat
    assert f"last tag {name}-v1.0.0" in flat
    assert "uncommitted" not in flat
    lines = {ln.split()[0]: ln for ln in screen.splitlines() if ln.split()}
    for where in ("npm", "JSR", "PyPI"):
        assert "1.0.0" in lines[where], screen
        assert "1.1.0 not yet" in lines[where], screen
    assert f"{name}-v1.0.0" in lines["GitHub"]
    assert f"Release {tag} failed" in screen
    assert "npm rejected the token: E401" in screen
    assert "next: set NPM_TOKEN, then run `shipit resume`" in screen
    assert "✗ failed" in screen and "✓ already done" in screen and "· pending" in screen
    assert "→ shipit resume" in screen and "→ shipit rollback" in screen
    for token in ("NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "GITHUB_TOKEN"):
        assert sandbox_env[token] not in screen


def test_status_json_via_the_real_cli(
    project: GitRepo, published: dict[str, Any], sandbox_env: dict[str, str]
) -> None:
    name = published["name"]
    tag = f"{name}-v1.1.0"
    _failed_journal(project, tag)
    env = {**os.environ, **sandbox_env}
    started = time.monotonic()
    result = subprocess.run(
        [PY, "-m", "shipit", "-C", str(project.path), "--json", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    live = {lv["target"]: lv for lv in doc["live"]}
    assert set(live) == {"npm", "jsr", "pypi", "github"}
    assert live["npm"]["latest"] == "1.0.0" and live["npm"]["has_current"] is False
    assert live["jsr"]["package"] == f"@shipit/{name}" and live["jsr"]["latest"] == "1.0.0"
    assert live["pypi"]["latest"] == "1.0.0" and live["pypi"]["has_current"] is False
    assert live["github"]["latest"] == f"{name}-v1.0.0"
    assert doc["project"]["version"] == "1.1.0"
    assert doc["git"]["last_tag"] == f"{name}-v1.0.0"
    release = doc["release"]
    assert release["tag"] == tag and release["state"] == "failed" and release["running"] is False
    steps = {s["id"]: s for s in release["steps"]}
    assert steps["npm:publish"]["attempts"] == 2
    assert steps["npm:publish"]["state"] == "failed"
    assert steps["npm:pack"]["duration_s"] is not None
    assert steps["npm:publish"]["urls"] == ["http://127.0.0.1:1/"]
    assert [n["command"] for n in doc["next"]] == ["shipit resume", "shipit rollback"]
    for token in ("NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "GITHUB_TOKEN"):
        assert sandbox_env[token] not in result.stdout + result.stderr
    assert took < 20


def test_unreachable_registry_is_an_error_line_not_a_failure(
    project: GitRepo, sandbox_env: dict[str, str]
) -> None:
    env = {**os.environ, **sandbox_env, "NPM_CONFIG_REGISTRY": "http://127.0.0.1:9/"}
    report = _collect(project, env, timeout=2.0)
    npm = next(lv for lv in report.live if lv.target == "npm")
    assert npm.error == "cannot connect to http://127.0.0.1:9/"
    assert next(lv for lv in report.live if lv.target == "pypi").latest == "1.0.0"
    assert [n.command for n in report.next] == ["shipit check", "shipit release"]


def test_watch_follows_a_running_release_until_it_ends(
    project: GitRepo, published: dict[str, Any], sandbox_env: dict[str, str]
) -> None:
    """Another 'terminal' holds the lock and advances the journal; watch redraws and stops."""
    tag = f"{published['name']}-v1.1.0"
    env = {**os.environ, **sandbox_env}
    journal = written_journal(
        project.path / ".shipit" / "releases" / tag,
        version="1.1.0",
        tag=tag,
        commit=project.head(),
        config_digest="x",
        steps=[("git:tag", True), ("git:push", True)],
    )
    lock = ReleaseLock(project.path, "release")
    lock.acquire()
    journal.set_state("releasing")
    frames: list[str] = []

    def release_in_other_terminal() -> None:
        time.sleep(0.3)
        journal.update_step("git:tag", state="running")
        time.sleep(0.3)
        journal.update_step("git:tag", state="done", evidence={"commit": "abc"})
        journal.update_step("git:push", state="running")
        time.sleep(0.3)
        journal.update_step("git:push", state="done")
        journal.set_state("released")
        lock.release()

    from shipit.config import load

    config = load(project.path).config
    settings = Settings.from_env(env, config)

    def gather(probe: bool, previous: list[Any]) -> Any:
        report = collect(project.path, config, settings, env, probe=probe, previous_live=previous)
        frames.append(report.release.state if report.release else "-")
        return report

    other = threading.Thread(target=release_in_other_terminal)
    other.start()
    console = Console(record=True, width=120)
    try:
        last = watch(console, gather, interval=0.1, probe_every=60)
    finally:
        other.join()
        lock.release()
    assert frames[0] == "releasing" and frames[-1] == "released"
    assert last.release is not None and not last.release.running
    assert [s.state for s in last.release.steps] == ["done", "done"]
    assert "→ shipit version set <next>" in console.export_text()
    assert not (project.path / ".shipit" / "lock.json").exists()


def test_no_project_no_journal(tmp_path: Path) -> None:
    repo = seeded_repo(tmp_path / "git")
    report = collect(repo.path, Config(), Settings.from_env({}, Config()), {}, probe=False)
    assert report.release is None
    assert report.next[0].command == "shipit version set 0.1.0"


def test_a_killed_release_reads_as_interrupted(project: GitRepo) -> None:
    """The journal says `releasing` but no process holds the lock: resume is the way on."""
    tag = "v1.1.0"
    protect(project.path)
    journal = written_journal(
        project.path / ".shipit" / "releases" / tag,
        version="1.1.0",
        tag=tag,
        commit=project.head(),
        config_digest="x",
        steps=[("git:tag", True), ("git:push", True)],
    )
    journal.set_state("releasing")
    journal.update_step("git:tag", state="running")
    report = collect(project.path, Config(), Settings.from_env({}, Config()), {}, probe=False)
    assert report.release is not None
    assert report.release.state == "interrupted" and not report.release.running
    assert [n.command for n in report.next] == ["shipit resume", "shipit rollback"]


def test_watch_via_the_real_cli_ends_with_the_release(
    project: GitRepo, published: dict[str, Any]
) -> None:
    """`shipit status --watch` in another process: redraws until the release ends, lock-free."""
    tag = f"{published['name']}-v1.1.0"
    protect(project.path)
    journal = written_journal(
        project.path / ".shipit" / "releases" / tag,
        version="1.1.0",
        tag=tag,
        commit=project.head(),
        config_digest="x",
        steps=[("git:tag", True), ("git:push", True)],
    )
    lock = ReleaseLock(project.path, "release")
    lock.acquire()
    journal.set_state("releasing")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    watcher = subprocess.Popen(
        [PY, "-m", "shipit", "-C", str(project.path), "status", "--watch", "--offline",
         "--interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert watcher.stdout is not None
    try:
        first = watcher.stdout.readline()  # off a terminal: one line per change
        assert first.startswith(f"release {tag}: releasing (running: pid {os.getpid()}")
        journal.update_step("git:tag", state="running")
        journal.update_step("git:tag", state="done")
        journal.update_step("git:push", state="running")
        journal.update_step("git:push", state="done")
        journal.set_state("released")
    finally:
        lock.release()
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    lines = out.splitlines()
    assert f"release {tag}: released" in lines
    assert any(line.startswith("git:push: done") for line in lines)
    assert f"Release {tag} released" in out  # then the final dashboard
    assert "→ shipit version set <next>" in out
