"""`shipit sandbox up/status/down` through the real console script, as a user runs it."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipit.sandbox import process

SHIPIT = str(Path(sys.executable).parent / "shipit")
SECRET_VARS = ("NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "GITHUB_TOKEN")
EXPECTED_VARS = {
    "NPM_CONFIG_REGISTRY",
    "NPM_TOKEN",
    "JSR_URL",
    "JSR_TOKEN",
    "TWINE_REPOSITORY_URL",
    "TWINE_USERNAME",
    "PYPI_TOKEN",
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "SHIPIT_SANDBOX_GIT_REMOTE",
}


def shipit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHIPIT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env if env is not None else dict(os.environ),
    )


def up(directory: Path) -> dict[str, Any]:
    result = shipit("sandbox", "up", "--dir", str(directory), "--json")
    assert result.returncode == 0, result.stderr
    info: dict[str, Any] = json.loads(result.stdout)
    return info


def pids_of(info: dict[str, Any]) -> list[int]:
    return [s["pid"] for s in info["services"] if s["pid"] is not None]


def processes_mentioning(text: str) -> list[int]:
    """PIDs of live (non-zombie) processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and process.alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@pytest.fixture
def sandbox_dir(tmp_path: Path):
    directory = tmp_path / "sb"
    yield directory
    shipit("sandbox", "down", "--dir", str(directory))  # even when the test failed


def test_up_then_down_leaves_no_process(sandbox_dir: Path) -> None:
    info = up(sandbox_dir)

    assert info["dir"] == str(sandbox_dir)
    assert set(info["env"]) == EXPECTED_VARS
    assert [s["name"] for s in info["services"]] == [
        "verdaccio",
        "pypiserver",
        "jsr",
        "github",
        "git",
    ]
    pids = pids_of(info)
    assert len(pids) == 4 and all(process.alive(pid) for pid in pids)
    state = sandbox_dir / "sandbox.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert httpx.get(info["env"]["NPM_CONFIG_REGISTRY"] + "-/ping", trust_env=False).is_success

    status = shipit("sandbox", "status", "--dir", str(sandbox_dir), "--json")
    assert status.returncode == 0
    report = json.loads(status.stdout)
    assert report["running"] is True
    assert all(s["ready"] for s in report["services"])

    down = shipit("sandbox", "down", "--dir", str(sandbox_dir))

    assert down.returncode == 0, down.stderr
    assert "stopped: verdaccio, pypiserver, jsr, github" in down.stderr
    for pid in pids:
        assert not process.alive(pid), f"pid {pid} survived `shipit sandbox down`"
        assert not process.group_alive(pid), f"process group {pid} survived"
    assert processes_mentioning(str(sandbox_dir)) == []
    after = shipit("sandbox", "status", "--dir", str(sandbox_dir))
    assert after.returncode == 1
    assert "no sandbox is running" in after.stdout
    for output in (status.stdout, down.stdout + down.stderr, after.stdout):
        for name in SECRET_VARS:
            assert info["env"][name] not in output


def test_export_lines_load_into_a_shell(sandbox_dir: Path) -> None:
    info = up(sandbox_dir)

    # a second `up` finds the sandbox running and prints the same environment
    shown = subprocess.run(
        ["bash", "-c", f'eval "$({SHIPIT} sandbox up --dir {sandbox_dir})" && env -0'],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert shown.returncode == 0, shown.stderr
    loaded = dict(item.split("=", 1) for item in shown.stdout.split("\0") if "=" in item)
    assert {k: loaded[k] for k in EXPECTED_VARS} == info["env"]
    assert pids_of(up(sandbox_dir)) == pids_of(info)  # nothing restarted
    for name in SECRET_VARS:  # tokens only on stdout, never in the messages
        assert info["env"][name] not in shown.stderr


def test_data_survives_a_restart(
    sandbox_dir: Path, npm_env, npm_package, make_wheel, unique_name, tmp_path: Path
) -> None:
    info = up(sandbox_dir)
    env = info["env"]
    registry = env["NPM_CONFIG_REGISTRY"]
    publish = subprocess.run(
        ["npm", "publish"],
        cwd=npm_package(unique_name, "1.0.0"),
        env=npm_env(registry, env["NPM_TOKEN"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert publish.returncode == 0, publish.stderr
    wheel = make_wheel(unique_name, "1.0.0")
    twine = subprocess.run(
        [str(Path(sys.executable).parent / "twine"), "upload", "--disable-progress-bar", wheel],
        env={
            **os.environ,
            "TWINE_REPOSITORY_URL": env["TWINE_REPOSITORY_URL"],
            "TWINE_USERNAME": env["TWINE_USERNAME"],
            "TWINE_PASSWORD": env["PYPI_TOKEN"],
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert twine.returncode == 0, twine.stdout
    github = httpx.Client(
        base_url=env["GITHUB_API_URL"],
        headers={
            "Authorization": f"Bearer {env['GITHUB_TOKEN']}",
            "Accept": "application/vnd.github+json",
        },
        trust_env=False,
    )
    created = github.post(
        f"/repos/{env['GITHUB_REPOSITORY']}/releases",
        json={"tag_name": "v1.0.0", "name": "v1.0.0", "draft": True},
    )
    assert created.status_code == 201, created.text
    assert shipit("sandbox", "down", "--dir", str(sandbox_dir)).returncode == 0

    again = up(sandbox_dir)

    assert set(pids_of(again)).isdisjoint(pids_of(info))  # really new processes
    assert again["env"] == env  # same tokens, and the same ports while they are free
    view = subprocess.run(
        ["npm", "view", unique_name, "version"],
        cwd=tmp_path,
        env=npm_env(registry, env["NPM_TOKEN"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert view.returncode == 0, view.stderr
    assert view.stdout.strip() == "1.0.0"
    index = httpx.get(f"{env['TWINE_REPOSITORY_URL']}simple/{unique_name}/", trust_env=False)
    assert wheel.name in index.text
    releases = github.get(f"/repos/{env['GITHUB_REPOSITORY']}/releases")
    assert [r["tag_name"] for r in releases.json()] == ["v1.0.0"]


def test_missing_node_is_explained_and_nothing_is_left_running(
    sandbox_dir: Path, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"  # git, but no node or npm
    bin_dir.mkdir()
    git = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    (bin_dir / "git").symlink_to(git)
    env = {**os.environ, "PATH": str(bin_dir)}

    result = shipit("sandbox", "up", "--dir", str(sandbox_dir), env=env)

    assert result.returncode == 1
    assert "Node.js (`node`) is not installed" in result.stderr
    assert "python -m shipit.sandbox.verdaccio --install" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    deadline = time.monotonic() + 5
    while processes_mentioning(str(sandbox_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(sandbox_dir)) == []


def test_status_names_a_dead_server_and_up_restarts_it(sandbox_dir: Path) -> None:
    info = up(sandbox_dir)
    pypi = next(s for s in info["services"] if s["name"] == "pypiserver")
    os.killpg(pypi["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while process.alive(pypi["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)

    status = shipit("sandbox", "status", "--dir", str(sandbox_dir))

    assert status.returncode == 1
    lines = {line.split()[0]: line for line in status.stdout.splitlines() if line.strip()}
    assert "DEAD" in lines["pypiserver"]
    assert "ready" in lines["verdaccio"]
    assert "shipit sandbox up" in status.stdout

    again = up(sandbox_dir)

    assert again["env"] == info["env"]
    assert shipit("sandbox", "status", "--dir", str(sandbox_dir)).returncode == 0
    assert not any(process.alive(pid) for pid in pids_of(info) if pid not in pids_of(again))


def test_sigterm_during_up_stops_what_was_started(sandbox_dir: Path) -> None:
    up_process = subprocess.Popen(
        [SHIPIT, "sandbox", "up", "--dir", str(sandbox_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    config = sandbox_dir / "verdaccio" / "config.yaml"
    deadline = time.monotonic() + 60
    while not config.exists() and time.monotonic() < deadline:  # servers are being started
        time.sleep(0.02)
    assert config.exists()
    up_process.send_signal(signal.SIGTERM)
    out, err = up_process.communicate(timeout=60)

    assert up_process.returncode == 130, err
    assert "export " not in out
    assert processes_mentioning(str(sandbox_dir)) == []
    port = int(re.search(r"listen: 127\.0\.0\.1:(\d+)", config.read_text()).group(1))
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/-/ping", trust_env=False)


def test_default_dir_in_the_project_keeps_the_work_tree_clean(git_repo) -> None:
    project = str(git_repo.path)
    try:
        result = shipit("-C", project, "sandbox", "up", "--json")
        assert result.returncode == 0, result.stderr
        info = json.loads(result.stdout)

        assert info["dir"] == str(git_repo.path / ".shipit" / "sandbox")
        assert (git_repo.path / ".shipit" / "sandbox" / "sandbox.json").is_file()
        assert git_repo.git("status", "--porcelain") == ""
        assert shipit("-C", project, "sandbox", "status").returncode == 0
    finally:
        shipit("-C", project, "sandbox", "down")
    assert not any(process.alive(pid) for pid in pids_of(info))


def test_down_stops_servers_whose_state_was_lost(sandbox_dir: Path) -> None:
    info = up(sandbox_dir)
    (sandbox_dir / "sandbox.json").unlink()  # e.g. a crash before the state was written

    down = shipit("sandbox", "down", "--dir", str(sandbox_dir))

    assert down.returncode == 0, down.stderr
    for name in ("verdaccio", "pypiserver", "jsr", "github"):
        assert name in down.stderr
    assert not any(process.alive(pid) for pid in pids_of(info))


def test_oidc_up_exports_an_actions_job_without_registry_tokens(sandbox_dir: Path) -> None:
    result = shipit("sandbox", "up", "--oidc", "--dir", str(sandbox_dir), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)

    env = info["env"]
    assert set(env) == {
        "NPM_CONFIG_REGISTRY",
        "JSR_URL",
        "TWINE_REPOSITORY_URL",
        "GITHUB_API_URL",
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "SHIPIT_SANDBOX_GIT_REMOTE",
        "GITHUB_ACTIONS",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    }
    assert env["GITHUB_ACTIONS"] == "true"
    names = [s["name"] for s in info["services"]]
    assert names[-3:] == ["oidc", "npm-oidc", "pypi-oidc"]
    urls = {s["name"]: s["url"] for s in info["services"]}
    assert env["NPM_CONFIG_REGISTRY"] == urls["npm-oidc"] + "/"  # npm talks to the exchange
    assert env["TWINE_REPOSITORY_URL"] == urls["pypi-oidc"] + "/"
    token = httpx.get(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=pypi",
        headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
        trust_env=False,
    )
    minted = httpx.post(
        env["TWINE_REPOSITORY_URL"] + "_/oidc/mint-token",
        json={"token": token.json()["value"]},
        trust_env=False,
    )
    assert minted.json()["success"] is True
    pids = pids_of(info)
    assert len(pids) == 7

    # the human form says what trusted publishing in the sandbox means
    again = shipit("sandbox", "up", "--oidc", "--dir", str(sandbox_dir))
    assert again.returncode == 0, again.stderr
    assert "trusted publishing: the registries trust" in again.stderr
    assert "Provenance needs Sigstore" in again.stderr
    assert "export ACTIONS_ID_TOKEN_REQUEST_TOKEN=" in again.stdout
    assert env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] not in again.stderr

    down = shipit("sandbox", "down", "--dir", str(sandbox_dir))
    assert down.returncode == 0, down.stderr
    assert "oidc, npm-oidc, pypi-oidc" in down.stderr
    for pid in pids:
        assert not process.alive(pid), f"pid {pid} survived `shipit sandbox down`"
    assert processes_mentioning(str(sandbox_dir)) == []
