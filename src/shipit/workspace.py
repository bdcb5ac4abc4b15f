"""shipit's working directory ``.shipit/`` in a project, kept out of commits and packages.

Journals, logs, built artifacts and the sandbox live there. ``protect`` makes sure none of it
is ever committed or published: a ``.gitignore`` of ``*`` inside it (npm pack, deno publish
and Python build backends read ``.gitignore`` files but not ``.git/info/exclude``) and an
entry in ``.git/info/exclude``. Every writer of ``.shipit/`` calls it first.

``build_leaves_no_trace(directory)`` wraps a Python build (the release's, and the checks' scan
of what would be published): what setuptools-style backends leave in the source tree
(``*.egg-info``, ``build/``) is removed again unless it was there before, so a check or a
build never makes the tree dirty for the git check or ``deno publish``.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

DIRNAME = ".shipit"
IGNORE_ALL = "# written by shipit: nothing in .shipit/ belongs in a package or in git\n*\n"
_EXCLUDE_LINES = (".shipit/", ".shipit", "/.shipit/")


def shipit_dir(root: Path) -> Path:
    return root / DIRNAME


def protect(root: Path) -> Path:
    """Create ``<root>/.shipit`` if needed and keep it out of git and packages; return it."""
    directory = shipit_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / ".gitignore"
    with contextlib.suppress(OSError):
        if not marker.exists():
            marker.write_text(IGNORE_ALL, encoding="utf-8")
    with contextlib.suppress(OSError):
        _exclude_from_git(root)
    return directory


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
