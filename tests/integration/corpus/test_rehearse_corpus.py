"""`shipit rehearse` end to end, offline, on every project shape of the corpus, with only the
configuration docs/project-shapes.md shows for it: the real release against a throw-away
sandbox, exit 0, everything it publishes live there.

The security check is left out (`--skip security`): npm audit and pip-audit need their online
databases. Tag-driven shapes name their next version (`--version`), as their docs say. The
Deno CLI shape compiles with `deno compile`, which downloads `denort` for every target and
cannot run offline (PROTOCOLS.md; no local denort exists here for DENORT_BIN): its plan and
configuration are tested instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import build

SHIPIT = Path(sys.executable).parent / "shipit"

# shape -> (extra rehearse arguments, version, tag, where it is published)
EXPECTED: dict[str, tuple[list[str], str, str, set[str]]] = {
    "deno-jsr": ([], "1.2.0", "v1.2.0", {"jsr", "github"}),
    "deno-dnt": ([], "2.0.0", "v2.0.0", {"jsr", "npm", "github"}),
    "deno-tags": (["--version", "0.4.0"], "0.4.0", "v0.4.0", {"jsr", "github"}),
    "node-ts": ([], "3.1.0", "v3.1.0", {"npm", "github"}),
    "node-vitest": ([], "0.4.2", "v0.4.2", {"npm", "github"}),
    "python-tox": ([], "1.4.0", "1.4.0", {"pypi", "github"}),
    "python-hatch-vcs": (["--version", "2.2.0"], "2.2.0", "v2.2.0", {"pypi", "github"}),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)  # offline: every real registry is a closed loopback port
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(EXPECTED))
def test_every_shape_rehearses_end_to_end(shape: str, tmp_path: Path, unique_name: str) -> None:
    args, version, tag, where = EXPECTED[shape]
    project = build(shape, tmp_path / shape, unique_name)
    done = subprocess.run(
        [str(SHIPIT), "-C", str(project.path), "--json", "rehearse", "--skip", "security", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == 0, "\n".join(report["output_tail"])
    assert report["ok"] and report["state"] == "released"
    assert (report["version"], report["tag"]) == (version, tag)
    published = {p["where"]: p for p in report["published"]}
    assert set(published) == where, published
    assert all(p["live"] for p in published.values()), published
    assert all(s["state"] == "done" for s in report["steps"]), report["steps"]
    assert project.repo.git("status", "--porcelain") == ""  # the project is untouched


def test_the_deno_cli_plans_deno_compile_with_its_own_permissions(
    tmp_path: Path, unique_name: str
) -> None:
    project = build("deno-cli", tmp_path / "deno-cli", unique_name)
    planned = subprocess.run(
        [str(SHIPIT), "-C", str(project.path), "--json", "plan"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads(planned.stdout)
    targets = {t["name"]: t for t in doc["targets"]}
    assert targets["binaries"]["enabled"] and not targets["jsr"]["enabled"]
    assert targets["jsr"]["reason"] == "deno.json has no name, exports"
    builds = {s["id"]: s for s in doc["steps"] if s["id"].startswith("binaries:build:")}
    assert set(builds) == {
        "binaries:build:x86_64-unknown-linux-gnu",
        "binaries:build:aarch64-apple-darwin",
    }
    command = builds["binaries:build:x86_64-unknown-linux-gnu"]["description"].splitlines()[1]
    # the permission flag of the project's own `compile` task (-P: deno.json's permissions)
    assert command.startswith("deno compile -P --target x86_64-unknown-linux-gnu --output ")
    assert command.endswith(" main.ts")
    # its origin is no GitHub repository: nothing would publish the binaries
    strict = subprocess.run(
        [str(SHIPIT), "-C", str(project.path), "check", "--only", "versions", "--strict"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert strict.returncode == 1
    assert "warning: binaries are built" in " ".join(strict.stdout.split())
