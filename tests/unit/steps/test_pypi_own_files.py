"""pypi:build refuses an sdist or wheel that holds shipit's own .shipit/ directory (hatchling
reads only the project's .gitignore and packs the rest), before anything is visible."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from shipit.config import Config
from shipit.engine.step import Context, make_context
from shipit.errors import PermanentError
from shipit.project.detect import detect
from shipit.steps import pypi

PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "acme"
version = "1.0.0"
"""


def _context(root: Path) -> Context:
    (root / "pyproject.toml").write_text(PYPROJECT)
    config = Config()
    return make_context(
        root=root,
        config=config,
        project=detect(root, config, {}),
        version="1.0.0",
        commit="0" * 40,
        env={},
    )


def _sdist(where: Path, names: list[str]) -> Path:
    path = where / "acme-1.0.0.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name in names:
            info = tarfile.TarInfo(f"acme-1.0.0/{name}")
            info.size = 2
            tf.addfile(info, io.BytesIO(b"{}"))
    return path


def test_an_sdist_with_shipits_journal_is_refused(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    sdist = _sdist(tmp_path, ["pyproject.toml", ".shipit/releases/v1.0.0/journal.json"])
    with pytest.raises(PermanentError) as caught:
        pypi._refuse_own_files(ctx, [sdist])
    error = caught.value
    assert error.what == (
        "acme-1.0.0.tar.gz would publish shipit's own .shipit/ directory "
        "(release journals, logs, built files)"
    )
    assert ".shipit/releases/v1.0.0/journal.json" in (error.why or "")
    assert error.hint == (
        'take .shipit/ out of the sdist and wheel: [tool.hatch.build] exclude = [".shipit/"] '
        "(or add .shipit/ to .gitignore), commit it, then `shipit release`"
    )


def test_a_wheel_with_shipits_files_is_refused(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    wheel = tmp_path / "acme-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("acme/__init__.py", "")
        zf.writestr(".shipit/shipit.log", "log")
    with pytest.raises(PermanentError, match=r"would publish shipit's own \.shipit/"):
        pypi._refuse_own_files(ctx, [wheel])


def test_clean_files_pass(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    sdist = _sdist(tmp_path, ["pyproject.toml", "src/acme/__init__.py", "docs/.shipit-notes"])
    pypi._refuse_own_files(ctx, [sdist])  # nothing raised
