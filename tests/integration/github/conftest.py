"""GitHub integration tests: helpers on sys.path, instant retries."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield
