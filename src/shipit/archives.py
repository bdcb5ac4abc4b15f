"""Reading the files inside a built archive: a wheel or zip, an sdist or npm tarball
(``.tar.gz``/``.tgz``).

The secrets scan reads what a package would publish and ``pypi:build`` looks for files that
must never be packed; both read archives here, the same way (regular files only, directories
and links left out). Any other file is no archive: it holds no members.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

ZIP_SUFFIXES = (".whl", ".zip")
TAR_SUFFIXES = (".tar.gz", ".tgz")


def _members(path: Path, *, limit: int | None) -> Iterator[tuple[str, bytes | None]]:
    """Each regular file's path inside ``path``, with its bytes when ``limit`` is given and
    the file is smaller (else None)."""
    if path.name.endswith(ZIP_SUFFIXES):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    small = limit is not None and info.file_size < limit
                    yield info.filename, zf.read(info) if small else None
    elif path.name.endswith(TAR_SUFFIXES):
        with tarfile.open(path) as tf:
            for member in tf.getmembers():
                if member.isfile():
                    handle = tf.extractfile(member) if limit and member.size < limit else None
                    yield member.name, handle.read() if handle is not None else None


def names(path: Path) -> list[str]:
    """The paths of the files inside ``path``, as the archive records them."""
    return [name for name, _ in _members(path, limit=None)]


def contents(path: Path, *, limit: int = 5_000_000) -> list[tuple[str, bytes]]:
    """``("<archive>!<path inside>", bytes)`` for each file inside ``path`` smaller than
    ``limit`` bytes (larger ones are left out)."""
    return [
        (f"{path.name}!{name}", data)
        for name, data in _members(path, limit=limit)
        if data is not None
    ]
