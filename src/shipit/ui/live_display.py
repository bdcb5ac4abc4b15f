"""The base of the views rich redraws in place (check progress, the live release view).

A subclass builds its ``rich.live.Live`` in ``__init__`` as ``self._live``; using the view as a
context manager starts the redrawing and stops it on the way out, however the block ends.
"""

from __future__ import annotations

from typing import Self

from rich.live import Live


class LiveDisplay:
    """A view drawn by a ``rich.live.Live``: ``with view:`` shows it, leaving the block stops it."""

    _live: Live

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()
