"""The real npm client publishes to and reads from the sandbox's verdaccio."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from shipit.sandbox.verdaccio import Verdaccio


def npm(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_npm_publish_then_view(verdaccio, npm_env, npm_package, unique_name, tmp_path) -> None:
    env = npm_env(verdaccio)
    pkg = npm_package(unique_name, "1.2.3")

    published = npm(["publish", "--json"], pkg, env)

    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)[unique_name]["version"] == "1.2.3"
    assert verdaccio.token not in published.stdout + published.stderr
    view = npm(["view", unique_name, "--json"], tmp_path, env)
    assert view.returncode == 0, view.stderr
    doc = json.loads(view.stdout)
    assert doc["name"] == unique_name
    assert doc["version"] == "1.2.3"
    assert doc["dist"]["tarball"].startswith(verdaccio.url)
    assert doc["dist"]["integrity"].startswith("sha512-")


def test_duplicate_version_is_refused(verdaccio, npm_env, npm_package, unique_name) -> None:
    env = npm_env(verdaccio)
    pkg = npm_package(unique_name, "1.0.0")
    assert npm(["publish"], pkg, env).returncode == 0

    again = npm(["publish"], pkg, env)

    assert again.returncode == 1
    assert "cannot publish over the previously published versions" in again.stderr


def test_publish_without_token_is_refused(
    verdaccio: Verdaccio, npm_env, npm_package, unique_name, tmp_path
) -> None:
    env = npm_env(verdaccio.url, token="")
    pkg = npm_package(unique_name, "1.0.0")

    result = npm(["publish"], pkg, env)

    assert result.returncode != 0
    assert "ENEEDAUTH" in result.stderr or "E401" in result.stderr
    view = npm(["view", unique_name, "--json"], tmp_path, npm_env(verdaccio))
    assert view.returncode != 0  # nothing was published
    assert "E404" in view.stderr or "404" in view.stdout
