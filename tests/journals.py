"""A written journal for tests that start from a release already under way.

Production code makes a journal in two moves (``Journal.new`` in memory, ``begin`` when the
release starts); tests that need one on disk with its steps pending use ``written_journal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shipit.engine.journal import Journal


def written_journal(
    release_dir: Path,
    *,
    version: str,
    tag: str,
    commit: str,
    config_digest: str,
    steps: Sequence[tuple[str, bool]],
) -> Journal:
    """A new journal (state ``planned``) for the steps ``[(id, reversible), ...]``, written."""
    journal = Journal.new(
        release_dir, version=version, tag=tag, commit=commit, config_digest=config_digest
    )
    journal.begin(steps)
    return journal
