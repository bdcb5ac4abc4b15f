"""`.shipit/` is private to the user: directories 0700, files that hold output 0600, whatever
the umask, and files left wider by an older shipit are narrowed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipit.logfile import release_log
from shipit.workspace import open_private, private_dir, private_file, protect


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_protect_makes_shipit_dir_0700_and_narrows_an_old_one(tmp_path: Path) -> None:
    (tmp_path / ".shipit").mkdir(mode=0o755)
    os.chmod(tmp_path / ".shipit", 0o755)
    assert mode(protect(tmp_path)) == 0o700


def test_private_dir_makes_every_missing_level_0700(tmp_path: Path) -> None:
    protect(tmp_path)
    deep = private_dir(tmp_path / ".shipit" / "releases" / "v1.0.0" / "dist")
    for level in (deep, deep.parent, deep.parent.parent):
        assert mode(level) == 0o700, level


def test_private_file_and_open_private(tmp_path: Path) -> None:
    old = tmp_path / "old.log"
    old.write_text("x")
    os.chmod(old, 0o644)
    assert mode(private_file(old)) == 0o600 and old.read_text() == "x"
    with open_private(tmp_path / "sub" / "new.log", "w") as fh:
        fh.write("y")
    assert mode(tmp_path / "sub" / "new.log") == 0o600
    assert mode(tmp_path / "sub") == 0o700


def test_the_release_log_is_0600(tmp_path: Path) -> None:
    release_dir = tmp_path / ".shipit" / "releases" / "v1.0.0"
    with release_log(release_dir, argv=["shipit", "release"]) as path:
        pass
    assert mode(path) == 0o600 and mode(release_dir) == 0o700


def test_a_shipit_file_is_named_with_the_way_on(tmp_path: Path) -> None:
    from shipit.errors import ExitCode, WorkspaceUnusable

    (tmp_path / ".shipit").write_text("not a directory\n")
    with pytest.raises(WorkspaceUnusable) as err:
        protect(tmp_path)
    assert err.value.what.endswith(
        ".shipit is a file, not a directory: shipit keeps its journals, lock and logs there"
    )
    assert err.value.hint is not None and "mv " in err.value.hint
    assert err.value.exit_code is ExitCode.FAILED


def test_an_unwritable_shipit_dir_is_named_with_the_way_on(tmp_path: Path) -> None:
    import subprocess

    from shipit.errors import WorkspaceUnusable

    directory = tmp_path / ".shipit"
    directory.mkdir()
    immutable = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
    if immutable.returncode != 0:
        os.chmod(directory, 0o500)
    try:
        if os.access(directory, os.W_OK) and immutable.returncode != 0:
            pytest.skip("root without chattr: no way to make a directory unwritable here")
        with pytest.raises(WorkspaceUnusable) as err:
            protect(tmp_path)
        assert err.value.what == f"shipit cannot write to {directory}"
        assert err.value.hint is not None and "chattr -i" in err.value.hint
    finally:
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
        os.chmod(directory, 0o700)
