"""Fault rules in front of the real verdaccio and pypiserver make the real clients fail as told."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shipit.sandbox.faults import add_faults, list_faults

TWINE = str(Path(sys.executable).parent / "twine")


def npm(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def twine(url: str, token: str, wheel: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        {
            "TWINE_REPOSITORY_URL": url,
            "TWINE_USERNAME": "__token__",
            "TWINE_PASSWORD": token,
            "TWINE_NON_INTERACTIVE": "1",
        }
    )
    return subprocess.run(
        [TWINE, "upload", "--verbose", "--disable-progress-bar", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def faults_applied(proxy, method: str, path: str) -> int:
    return sum(1 for line in proxy.app.log.lines if line == f"fault status on {method} {path}")


def forwarded(proxy, method: str, path: str, status: int) -> int:
    needle = f'"{method} {path} HTTP/1.1" {status}'
    return sum(1 for line in proxy.app.log.lines if needle in line)


def test_npm_retries_through_two_503s(
    verdaccio, fault_proxy, npm_env, npm_package, unique_name, tmp_path
) -> None:
    assert npm(["publish"], npm_package(unique_name, "1.0.0"), npm_env(verdaccio)).returncode == 0
    proxy = fault_proxy(verdaccio.url)
    add_faults(proxy.url, {"method": "GET", "path": f"^/{unique_name}$", "status": 503, "times": 2})

    view = npm(["view", unique_name, "version"], tmp_path, npm_env(proxy.url, verdaccio.token))

    assert view.returncode == 0, view.stderr
    assert view.stdout.strip() == "1.0.0"
    assert faults_applied(proxy, "GET", f"/{unique_name}") == 2
    assert forwarded(proxy, "GET", f"/{unique_name}", 200) == 1
    assert list_faults(proxy.url) == []  # both uses consumed


def test_npm_gives_up_after_three_503s(
    verdaccio, fault_proxy, npm_env, npm_package, unique_name, tmp_path
) -> None:
    assert npm(["publish"], npm_package(unique_name, "1.0.0"), npm_env(verdaccio)).returncode == 0
    proxy = fault_proxy(verdaccio.url)
    add_faults(proxy.url, {"method": "GET", "path": f"^/{unique_name}$", "status": 503, "times": 3})

    view = npm(["view", unique_name, "version"], tmp_path, npm_env(proxy.url, verdaccio.token))

    assert view.returncode != 0
    assert "E503" in view.stderr
    assert faults_applied(proxy, "GET", f"/{unique_name}") == 3
    assert forwarded(proxy, "GET", f"/{unique_name}", 200) == 0


def test_npm_publish_retried_after_503_publishes_once(
    verdaccio, fault_proxy, npm_env, npm_package, unique_name, tmp_path
) -> None:
    proxy = fault_proxy(verdaccio.url)
    add_faults(proxy.url, {"method": "PUT", "path": f"^/{unique_name}$", "status": 503, "times": 1})

    result = npm(
        ["publish"], npm_package(unique_name, "2.0.0"), npm_env(proxy.url, verdaccio.token)
    )

    assert result.returncode == 0, result.stderr
    assert faults_applied(proxy, "PUT", f"/{unique_name}") == 1
    assert forwarded(proxy, "PUT", f"/{unique_name}", 201) == 1
    view = npm(["view", unique_name, "versions", "--json"], tmp_path, npm_env(verdaccio))
    assert json.loads(view.stdout) == ["2.0.0"]


def test_twine_retries_two_503s_itself(pypiserver, fault_proxy, make_wheel, unique_name) -> None:
    """twine 7 re-sends an upload answered 5xx, up to 5 times, without waiting."""
    wheel = make_wheel(unique_name, "1.0.0")
    proxy = fault_proxy(pypiserver.url)
    add_faults(proxy.url, {"method": "POST", "path": "^/$", "status": 503, "times": 2})

    result = twine(proxy.url + "/", pypiserver.token, wheel)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Retry 2 of 5" in result.stdout + result.stderr
    assert faults_applied(proxy, "POST", "/") == 2
    assert forwarded(proxy, "POST", "/", 200) == 1
    assert (pypiserver.packages / wheel.name).read_bytes() == wheel.read_bytes()


def test_twine_gives_up_after_five_503s(pypiserver, fault_proxy, make_wheel, unique_name) -> None:
    wheel = make_wheel(unique_name, "1.0.0")
    proxy = fault_proxy(pypiserver.url)
    add_faults(proxy.url, {"method": "POST", "path": "^/$", "status": 503, "times": 5})

    failed = twine(proxy.url + "/", pypiserver.token, wheel)

    assert failed.returncode == 1
    assert "503" in failed.stdout + failed.stderr
    assert faults_applied(proxy, "POST", "/") == 5
    assert forwarded(proxy, "POST", "/", 200) == 0
    assert not (pypiserver.packages / wheel.name).exists()

    retried = twine(proxy.url + "/", pypiserver.token, wheel)  # the rule is used up

    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert (pypiserver.packages / wheel.name).read_bytes() == wheel.read_bytes()


def test_dropped_answer_hides_a_successful_upload(
    pypiserver, fault_proxy, make_wheel, unique_name
) -> None:
    """The exactly-once hazard: twine sees a failure, yet the file is on the server."""
    wheel = make_wheel(unique_name, "1.0.0")
    proxy = fault_proxy(pypiserver.url)
    add_faults(proxy.url, {"method": "POST", "path": "^/$", "action": "drop_after_body"})

    result = twine(proxy.url + "/", pypiserver.token, wheel)

    assert result.returncode != 0
    assert (pypiserver.packages / wheel.name).read_bytes() == wheel.read_bytes()
