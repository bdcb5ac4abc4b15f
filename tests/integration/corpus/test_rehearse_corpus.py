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
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import CorpusProject, build

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


# shape -> its section of docs/project-shapes.md
SECTIONS = {
    "deno-jsr": "A Deno library on JSR",
    "deno-dnt": "A Deno library on JSR and npm, built by dnt",
    "deno-tags": "A Deno library versioned by its tags",
    "deno-cli": "A Deno command-line program (deno compile)",
    "node-ts": "A Node TypeScript library with a `prepare` build",
    "node-vitest": "A Node library with eslint and vitest",
    "python-tox": "A Python library with a dynamic version and tags without `v`",
    "python-hatch-vcs": "A Python library with hatch-vcs",
}
DOCS = Path(__file__).resolve().parents[3] / "docs" / "project-shapes.md"


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def documented_config(shape: str) -> dict[str, Any]:
    """Every setting the docs show for ``shape`` (its section's toml blocks, merged), as
    shipit reads it: ``[tool.shipit...]`` of a pyproject.toml and shipit.toml alike."""
    text = DOCS.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    section = next(s for s in sections if s.splitlines()[0] == SECTIONS[shape])
    shown: dict[str, Any] = {}
    for block in re.findall(r"```toml\n(.*?)```", section, flags=re.S):
        parsed = tomllib.loads(block)
        _merge(shown, parsed.get("tool", {}).get("shipit", parsed))
    return shown


def project_config(project: CorpusProject) -> dict[str, Any]:
    """The shipit configuration the project carries (shipit.toml or pyproject's tool.shipit)."""
    found: dict[str, Any] = {}
    if (project.path / "shipit.toml").is_file():
        found = tomllib.loads((project.path / "shipit.toml").read_text(encoding="utf-8"))
    elif (project.path / "pyproject.toml").is_file():
        doc = tomllib.loads((project.path / "pyproject.toml").read_text(encoding="utf-8"))
        found = doc.get("tool", {}).get("shipit", {})
    return found


def not_documented(config: dict[str, Any], shown: dict[str, Any], at: str = "") -> list[str]:
    """The settings of ``config`` the docs do not show with that value."""
    extra: list[str] = []
    for key, value in config.items():
        where = f"{at}.{key}" if at else key
        if isinstance(value, dict) and isinstance(shown.get(key), dict):
            extra += not_documented(value, shown[key], where)
        elif key not in shown or shown[key] != value:
            extra.append(f"{where} = {value!r}")
    return extra


def test_every_shape_of_the_corpus_has_a_section_in_the_docs() -> None:
    from tests.corpus import SHAPES

    assert set(SHAPES) == set(SECTIONS)
    assert set(EXPECTED) == set(SECTIONS) - {"deno-cli"}  # deno compile needs the network
    for shape in SECTIONS:
        documented_config(shape)  # the section is there (StopIteration otherwise)


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
    assert not_documented(project_config(project), documented_config(shape)) == []
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
    assert not_documented(project_config(project), documented_config("deno-cli")) == []
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
