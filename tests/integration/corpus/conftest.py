"""The corpus's projects under the session's sandbox registries, with this virtualenv's tools
first on PATH (as a developer's shell has them)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture
def corpus_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(sandbox_env)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    env["CI"] = "true"
    return env
