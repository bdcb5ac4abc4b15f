"""set_version and sync: every source rewritten in its own form, validated before writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipit.config import Config
from shipit.errors import ExitCode, VersionError
from shipit.project.detect import detect
from shipit.project.sync import check_consistent, set_version, sync

DENO = '{\n  // deno config\n  "name": "@a/b",\n  "version": "1.0.0",\n  "exports": "./mod.ts"\n}\n'
PKG = '{\n  "name": "@a/b",\n  "version": "0.9.0",\n  "files": ["index.js"]\n}\n'
PY = '[project]\nname = "b"  # name\nversion = "1.0.0"  # v\n'


def _project(root: Path) -> Path:
    (root / "deno.json").write_text(DENO)
    (root / "package.json").write_text(PKG)
    (root / "pyproject.toml").write_text(PY)
    return root


def test_inconsistent_versions_name_both_files(tmp_path: Path) -> None:
    p = detect(_project(tmp_path), Config(), {})
    assert not p.consistent
    with pytest.raises(VersionError) as info:
        check_consistent(p)
    err = info.value
    assert "deno.json says 1.0.0" in err.what and "package.json says 0.9.0" in err.what
    assert err.exit_code == ExitCode.FAILED
    assert "shipit version sync" in (err.hint or "")


def test_sync_copies_canonical_and_changes_only_version_tokens(tmp_path: Path) -> None:
    root = _project(tmp_path)
    version, changes = sync(detect(root, Config(), {}))
    assert version == "1.0.0"
    assert [(str(c.file), c.old, c.new) for c in changes] == [("package.json", "0.9.0", "1.0.0")]
    assert (root / "package.json").read_text() == PKG.replace("0.9.0", "1.0.0")
    assert (root / "deno.json").read_text() == DENO
    after = detect(root, Config(), {})
    assert after.consistent
    check_consistent(after)
    assert sync(after)[1] == []


def test_set_version_writes_each_form(tmp_path: Path) -> None:
    root = _project(tmp_path)
    version, changes = set_version(detect(root, Config(), {}), "1.2.0-rc.1")
    assert version == "1.2.0-rc.1"
    assert {str(c.file): c.new for c in changes} == {
        "deno.json": "1.2.0-rc.1",
        "package.json": "1.2.0-rc.1",
        "pyproject.toml": "1.2.0rc1",
    }
    assert (root / "pyproject.toml").read_text() == PY.replace('"1.0.0"', '"1.2.0rc1"')
    assert json.loads((root / "package.json").read_text())["version"] == "1.2.0-rc.1"
    assert detect(root, Config(), {}).consistent


def test_set_version_accepts_pep440_input(tmp_path: Path) -> None:
    root = _project(tmp_path)
    version, _ = set_version(detect(root, Config(), {}), "2.0.0b3")
    assert version == "2.0.0-beta.3"
    assert '"version": "2.0.0-beta.3"' in (root / "deno.json").read_text()
    assert 'version = "2.0.0b3"' in (root / "pyproject.toml").read_text()


@pytest.mark.parametrize("bad", ["banana", "1.2.0.0", "v1.2.0", "1.2.0-next.1"])
def test_invalid_version_writes_nothing(tmp_path: Path, bad: str) -> None:
    root = _project(tmp_path)
    before = {n: (root / n).read_text() for n in ("deno.json", "package.json", "pyproject.toml")}
    with pytest.raises(VersionError) as info:
        set_version(detect(root, Config(), {}), bad)
    if bad == "1.2.0-next.1":
        assert "pyproject.toml" in info.value.what
    assert {n: (root / n).read_text() for n in before} == before


def test_sync_when_only_spelling_differs_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.2.0-rc.1"}')
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.2.0rc1"\n')
    p = detect(tmp_path, Config(), {})
    assert p.consistent
    assert sync(p)[1] == []


def test_a_failing_write_puts_back_the_files_already_written(tmp_path: Path) -> None:
    root = _project(tmp_path)
    project = detect(root, Config(), {})
    (root / "pyproject.toml").write_text("[project]\nname = 'b'\n")  # version gone since detect
    with pytest.raises(VersionError):
        set_version(project, "3.0.0")
    assert (root / "deno.json").read_text() == DENO
    assert (root / "package.json").read_text() == PKG
