"""twine uploads to the sandbox's pypiserver with PyPI's token convention."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx

from shipit.sandbox.pypiserver import PyPIServer

TWINE = str(Path(sys.executable).parent / "twine")


def twine_upload(
    server: PyPIServer, files: list[Path], password: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        {
            "TWINE_REPOSITORY_URL": server.upload_url,
            "TWINE_USERNAME": "__token__",
            "TWINE_PASSWORD": password,
            "TWINE_NON_INTERACTIVE": "1",
        }
    )
    return subprocess.run(
        [TWINE, "upload", "--verbose", "--disable-progress-bar", *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_twine_upload_with_token(pypiserver, make_wheel, unique_name) -> None:
    wheel = make_wheel(unique_name, "0.1.0")

    result = twine_upload(pypiserver, [wheel], pypiserver.token)

    assert result.returncode == 0, result.stdout + result.stderr
    assert pypiserver.token not in result.stdout + result.stderr
    index = httpx.get(f"{pypiserver.index_url}{unique_name}/", trust_env=False)
    assert index.status_code == 200
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"{wheel.name}#sha256={sha256}" in index.text
    assert (pypiserver.packages / wheel.name).read_bytes() == wheel.read_bytes()


def test_wrong_token_is_refused(pypiserver, make_wheel, unique_name) -> None:
    wheel = make_wheel(unique_name, "0.1.0")

    result = twine_upload(pypiserver, [wheel], "pypi-not-the-sandbox-token")

    assert result.returncode == 1
    assert "403" in result.stdout + result.stderr
    assert not (pypiserver.packages / wheel.name).exists()


def test_reupload_is_refused(pypiserver, make_wheel, unique_name) -> None:
    wheel = make_wheel(unique_name, "0.1.0")
    assert twine_upload(pypiserver, [wheel], pypiserver.token).returncode == 0

    again = twine_upload(pypiserver, [wheel], pypiserver.token)

    assert again.returncode == 1
    assert "400" in again.stdout + again.stderr
    assert "already exists" in again.stdout + again.stderr


def test_unknown_project_does_not_fall_back_to_pypi(pypiserver) -> None:
    response = httpx.get(
        f"{pypiserver.index_url}requests/", trust_env=False, follow_redirects=False
    )
    assert response.status_code == 404
