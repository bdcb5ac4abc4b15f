"""shipit's working directory ``.shipit/`` in a project, kept out of commits and packages.

Journals, logs, built artifacts and the sandbox live there. ``protect`` makes sure none of it
is ever committed or published: a ``.gitignore`` of ``*`` inside it (npm pack, deno publish
and Python build backends read ``.gitignore`` files but not ``.git/info/exclude``) and an
entry in ``.git/info/exclude``. Every writer of ``.shipit/`` calls it first.

``build_leaves_no_trace(directory)`` wraps a Python build (the release's, and the checks' scan
of what would be published): what setuptools-style backends leave in the source tree
(``*.egg-info``, ``build/``) is removed again unless it was there before, so a check or a
build never makes the tree dirty for the git check or ``deno publish``.

What is in there can hold command output, logs and journals, so it is private to the user:
``.shipit/`` and every directory shipit makes inside it are 0700 (``private_dir``), and files
that hold output (``shipit.log``, ``events.jsonl``, check and build logs, journals) are 0600
(``private_file``, ``open_private``), whatever the umask says.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from shipit.errors import WorkspaceUnusable

DIR_MODE = 0o700
FILE_MODE = 0o600

DIRNAME = ".shipit"
IGNORE_ALL = "# written by shipit: nothing in .shipit/ belongs in a package or in git\n*\n"
_EXCLUDE_LINES = (".shipit/", ".shipit", "/.shipit/")


def shipit_dir(root: Path) -> Path:
    return root / DIRNAME


def releases_dir(root: Path) -> Path:
    """``.shipit/releases``: one directory per release tag."""
    return shipit_dir(root) / "releases"


def release_dir(root: Path, tag: str) -> Path:
    """``.shipit/releases/<tag>``, the journal, logs and ``dist/`` of one release."""
    return releases_dir(root) / _tag_dirname(tag)


def build_dir(root: Path, tag: str) -> Path:
    """``.shipit/builds/<tag>``, where ``shipit build`` works on the parts of one release."""
    return shipit_dir(root) / "builds" / _tag_dirname(tag)


def _tag_dirname(tag: str) -> str:
    """The directory name of a release tag (a ``/`` in the tag becomes ``_``)."""
    return tag.replace("/", "_")


def protect(root: Path) -> Path:
    """Create ``<root>/.shipit`` if needed and keep it out of git and packages; return it.
    ``WorkspaceUnusable`` when it is not a directory shipit can write to."""
    directory = shipit_dir(root)
    usable(directory)
    marker = directory / ".gitignore"
    with contextlib.suppress(OSError):
        if not marker.exists():
            marker.write_text(IGNORE_ALL, encoding="utf-8")
    with contextlib.suppress(OSError):
        _exclude_from_git(root)
    return directory


def usable(directory: Path) -> None:
    """Make ``directory`` (0700) and prove shipit can write there, or say what is wrong."""
    shown = str(directory)
    if directory.exists() and not directory.is_dir():
        raise WorkspaceUnusable(
            f"{shown} is a file, not a directory: shipit keeps its journals, lock and logs there",
            why=f"{directory} exists and is not a directory",
            hint=f"move it aside (`mv {directory} {directory}.old`), then run the command again",
        )
    try:
        private_dir(directory)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WorkspaceUnusable(
            f"shipit cannot write to {shown}",
            why=f"{type(exc).__name__}: {exc.strerror or exc}",
            hint=f"make it writable (`chmod u+rwx {directory}`; an immutable directory: "
            f"`chattr -i {directory}`) or move it aside, then run the command again",
        ) from None


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents 0700; make ``path`` itself 0700 if it existed
    with wider permissions (only when it is ours). Return it."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
        _chmod(directory, DIR_MODE)
    if not missing:
        _chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` (empty) 0600 if it is missing, else narrow it to 0600; its directory
    is made with ``private_dir``. Return it."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    _chmod(path, FILE_MODE)
    return path


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """``open(path, mode)`` for text (``"a"`` or ``"w"``) on a file that is 0600 first."""
    private_file(path)
    return path.open(mode, encoding="utf-8")


def _chmod(path: Path, mode: int) -> None:
    """Narrow ``path`` to ``mode`` when it is ours and wider (never fails: another user's
    directory or a read-only file system is left as it is)."""
    getuid = getattr(os, "getuid", None)  # POSIX only: Windows has no such modes
    if getuid is None:
        return
    with contextlib.suppress(OSError):
        st = path.stat()
        if st.st_uid == getuid() and st.st_mode & 0o777 != mode:
            os.chmod(path, mode)


def _git_dir(root: Path) -> Path | None:
    git_dir = root / ".git"
    if git_dir.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = git_dir.read_text(encoding="utf-8").strip()
        if not text.startswith("gitdir:"):
            return None
        git_dir = (root / text.split(":", 1)[1].strip()).resolve()
        common = git_dir / "commondir"
        if common.exists():
            git_dir = (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
    return git_dir if git_dir.is_dir() else None


def _exclude_from_git(root: Path) -> None:
    """Add ``.shipit/`` to ``.git/info/exclude`` once (no git subprocess: this runs often)."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return
    exclude = git_dir / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    current = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if any(line.strip() in _EXCLUDE_LINES for line in current.splitlines()):
        return
    with exclude.open("a", encoding="utf-8") as handle:
        if current and not current.endswith("\n"):
            handle.write("\n")
        handle.write(".shipit/\n")


def build_leftovers(directory: Path) -> set[Path]:
    """What setuptools-style builds leave in the source tree: ``*.egg-info`` and ``build/``."""
    found: set[Path] = set()
    for base in (directory, directory / "src"):
        if base.is_dir():
            found |= {p for p in base.glob("*.egg-info") if p.is_dir()}
    if (directory / "build").is_dir():
        found.add(directory / "build")
    return found


@contextlib.contextmanager
def build_leaves_no_trace(directory: Path) -> Iterator[None]:
    """Remove, after the block, the build leftovers it created in ``directory``."""
    before = build_leftovers(directory)
    try:
        yield
    finally:
        for path in build_leftovers(directory) - before:
            shutil.rmtree(path, ignore_errors=True)
