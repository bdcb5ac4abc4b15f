"""Atomic writes: the content, the permissions a file keeps or gets, nothing left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shipit.files import write_bytes_atomic, write_text_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_in_a_new_directory_is_readable_by_all(tmp_path: Path) -> None:
    path = tmp_path / "dist" / "SHA256SUMS"
    write_text_atomic(path, "abc  tool\r\nlast line\n")
    assert path.read_bytes() == b"abc  tool\r\nlast line\n"  # line endings as given
    assert _mode(path) == 0o644
    assert os.listdir(path.parent) == ["SHA256SUMS"]


def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "release.sh"
    path.write_text("old\n")
    path.chmod(0o755)
    write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n" and _mode(path) == 0o755


def test_a_secret_is_never_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("public once\n")
    path.chmod(0o644)
    write_bytes_atomic(path, b"-----BEGIN PRIVATE KEY-----\n", mode=0o600)
    assert _mode(path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("version = 1\n")
    with pytest.raises(TypeError):
        write_bytes_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "version = 1\n"
    assert os.listdir(tmp_path) == ["pyproject.toml"]
