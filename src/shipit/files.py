"""Atomic file writes: a reader, a crash or Ctrl-C sees a file's old content or its new
content, never half of one.

Every file shipit writes in place (manifests, SHA256SUMS, part manifests, the workflow file,
the sandbox's state and keys) goes through here: a temporary file in the same directory,
flushed and fsynced, renamed over the target, then the directory fsynced so the rename
itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

#: a new file's permissions unless told otherwise: what an editor or ``git checkout`` makes
DEFAULT_MODE = 0o644


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path``'s content with ``data`` atomically; create missing parent directories.

    ``mode`` sets the permissions; without it an existing file keeps its own and a new one
    gets ``DEFAULT_MODE`` (``0o600`` for secrets: the file is never readable by others, not
    even for a moment).
    """
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else DEFAULT_MODE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp made it 0o600: never more open than meant
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """``write_bytes_atomic`` of ``text`` as UTF-8, line endings exactly as given."""
    write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS or file system lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
