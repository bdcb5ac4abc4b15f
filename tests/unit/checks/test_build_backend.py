"""Whether the secrets check may build the sdist and wheel without isolation (shipit.pybuild),
and which publish sets are listed at the same time (PublishSets.get_many)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shipit.checks.artifacts import PublishSet, PublishSets
from shipit.pybuild import has_build_backend


def project(tmp_path: Path, build_system: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        build_system + '\n[project]\nname = "demo"\nversion = "1.0.0"\n'
    )
    return tmp_path


def test_installed_backend_builds_here(tmp_path: Path) -> None:
    # packaging is installed with shipit: a backend needing only it is available
    root = project(tmp_path, '[build-system]\nrequires = ["packaging>=20"]\nbuild-backend = "x"')
    assert has_build_backend(root)


def test_missing_or_too_old_requirement_goes_isolated(tmp_path: Path) -> None:
    missing = '[build-system]\nrequires = ["hatchling-not-installed-here"]\nbuild-backend = "x"'
    assert not has_build_backend(project(tmp_path, missing))
    too_old = '[build-system]\nrequires = ["packaging>=9999"]\nbuild-backend = "x"'
    assert not has_build_backend(project(tmp_path, too_old))


def test_requirement_for_another_python_is_not_needed(tmp_path: Path) -> None:
    other = (
        '[build-system]\nrequires = ["packaging", "nothing-here; python_version < \'3\'"]\n'
        'build-backend = "x"'
    )
    assert has_build_backend(project(tmp_path, other))


def test_unreadable_pyproject_goes_isolated(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[build-system\nrequires = 1\n")
    assert not has_build_backend(tmp_path)


def test_old_setuptools_needs_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, '[build-system]\nrequires = ["setuptools>=61"]')
    installed = {"setuptools": "65.5.0"}
    monkeypatch.setattr("shipit.pybuild.metadata.version", lambda name: _version(installed, name))
    assert not has_build_backend(root)  # setuptools 65 makes no wheel without `wheel`
    installed["wheel"] = "0.45.1"
    assert has_build_backend(root)
    installed.pop("wheel")
    installed["setuptools"] = "75.0.0"  # bdist_wheel is part of setuptools since 70.1
    assert has_build_backend(root)


def _version(installed: dict[str, str], name: str) -> str:
    from importlib import metadata

    if name not in installed:
        raise metadata.PackageNotFoundError(name)
    return installed[name]


def test_builds_in_turn_listings_beside_them(tmp_path: Path) -> None:
    """npm's prepare build and python -m build both write into the tree: never at once; the
    JSR listing (deno publish --dry-run only reads) runs while they build."""
    (tmp_path / "package.json").write_text('{"name": "a", "scripts": {"prepare": "tsc"}}')
    sets = PublishSets(root=tmp_path, env={})
    reader_ran = threading.Event()
    lock = threading.Lock()
    building: list[str] = []
    overlaps: list[tuple[str, ...]] = []

    def compute(target: str, directory: Path) -> PublishSet:
        if target == "jsr":
            reader_ran.set()
        else:
            with lock:
                building.append(target)
                overlaps.append(tuple(building))
            # a builder waits for the reader: it would wait in vain if the reader ran after it
            assert reader_ran.wait(timeout=60), "the JSR listing did not run beside the build"
            with lock:
                building.remove(target)
        return PublishSet(target, f"{target} files")

    sets._compute = compute  # type: ignore[method-assign]
    wanted = [("npm", tmp_path), ("jsr", tmp_path), ("pypi", tmp_path)]
    got = sets.get_many(wanted)
    assert [s.target for s in got] == ["npm", "jsr", "pypi"]
    assert all(len(o) == 1 for o in overlaps) and len(overlaps) == 2
