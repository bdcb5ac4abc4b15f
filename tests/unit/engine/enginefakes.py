"""Fake steps and a context for engine unit tests (no git, no network)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipit.config import Config
from shipit.engine.step import Context, Evidence, Probe, Progress, Undo, make_context
from shipit.project.model import Project


def context(root: Path, config: Config | None = None, **kw: object) -> Context:
    project = Project(root=root, ecosystems=(), sources=(), canonical=None)
    return make_context(
        root=root,
        config=config or Config(),
        project=project,
        version="1.2.3",
        commit="0" * 40,
        env={},
        **kw,  # type: ignore[arg-type]
    )


@dataclass
class FakeStep:
    """A step whose world is a set ``done_in_world``; records calls in ``log``."""

    id: str
    needs: tuple[str, ...] = ()
    reversible: bool = True
    world: set[str] = field(default_factory=set)
    log: list[tuple[str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fail_with: list[Exception] = field(default_factory=list)  # raised by run, in order
    conflict: bool = False
    duration: float = 0.0
    on_run: Callable[[], None] | None = None
    undo_result: Undo | None = None

    def _note(self, what: str) -> None:
        with self.lock:
            self.log.append((self.id, what, time.monotonic()))

    def describe(self, ctx: Context) -> str:
        return f"fake {self.id}"

    def probe(self, ctx: Context) -> Probe:
        self._note("probe")
        if self.conflict:
            return Probe.conflict(f"{self.id} holds something else", hint="fix it by hand")
        if self.id in self.world:
            return Probe.already_done({"id": self.id})
        return Probe.todo()

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        self._note("start")
        if self.on_run is not None:
            self.on_run()
        if self.duration:
            time.sleep(self.duration)
        if self.fail_with:
            exc = self.fail_with.pop(0)
            if getattr(exc, "happened", False):
                self.world.add(self.id)
            raise exc
        self.world.add(self.id)
        self._note("end")
        return {"id": self.id}

    def undo(self, ctx: Context) -> Undo:
        self._note("undo")
        if self.undo_result is not None:
            return self.undo_result
        self.world.discard(self.id)
        return Undo.undone(f"undid {self.id}")
