"""Fixtures for the binary tests: the example CLI cross-compiled once per session with zig."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from binhelp import FIVE_TARGETS, Built, example_source, make_ctx

from shipit.engine.step import NullProgress, Progress
from shipit.steps import binaries


@pytest.fixture(scope="session")
def zig_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The example CLI built for the five targets with the zig preset, in parallel, once."""
    root = tmp_path_factory.mktemp("zigproj")
    shutil.copy(example_source(), root / "main.c")
    ctx = make_ctx(root, {"preset": "zig", "entry": "main.c", "targets": list(FIVE_TARGETS)})
    progress: Callable[[str], Progress] = lambda _t: NullProgress()  # noqa: E731
    outcome = binaries.build_all(ctx, progress)
    failures = {t: r for t, r in outcome.items() if isinstance(r, Exception)}
    assert not failures, failures
    evidence = {binaries.BUILD_PREFIX + t: r for t, r in outcome.items() if isinstance(r, dict)}
    return Built(
        make_ctx(
            root,
            {"preset": "zig", "entry": "main.c", "targets": list(FIVE_TARGETS)},
            evidence=evidence,
        ),
        evidence,
        root,
    )
