"""A corpus of real-world project shapes, built offline in a real git repo with a bare origin.

Each builder in ``shapes`` writes a project the way its kind of maintainer writes it (their
usual config files, tasks, scripts, CI workflow), from code in this repository only, and
returns a ``CorpusProject``: its path, and ``plant(problem)`` that commits one real problem
(a type error, a lint problem, a failing test, a secret, missing dependencies) and says where
it is. The tools the projects run are the real ones, installed once by scripts/setup.sh:
typescript, xo, ava, eslint and vitest into shipit's cache (``node_tools``), ruff, hatchling,
hatch-vcs and setuptools-scm wheels into ``.venv/wheelhouse`` (tox installs from there).

Used by the check tests (tests/integration/corpus) and reusable for release rehearsals.
"""

from __future__ import annotations

from tests.corpus.base import CorpusProject, Planted
from tests.corpus.shapes import SHAPES, build

__all__ = ["SHAPES", "CorpusProject", "Planted", "build"]
