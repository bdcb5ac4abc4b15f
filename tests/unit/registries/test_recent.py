"""A probe's registry read is handed to the run right after it: once, for the same question,
while fresh; anything else reads the registry again."""

from __future__ import annotations

from shipit.registries.recent import JustRead


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_run_right_after_the_probe_takes_its_answer_once() -> None:
    clock = Clock()
    reads: list[str] = []
    just: JustRead[str] = JustRead(fresh_s=5.0, clock=clock)

    def read() -> str:
        reads.append("read")
        return "fresh"

    assert just.keep(("pkg", "1.0.0"), "probed") == "probed"
    clock.now += 1
    assert just.take(("pkg", "1.0.0"), read) == "probed"
    assert reads == []
    assert just.take(("pkg", "1.0.0"), read) == "fresh"  # a retry asks the registry again
    assert reads == ["read"]


def test_another_question_or_an_old_answer_reads_again() -> None:
    clock = Clock()
    just: JustRead[str] = JustRead(fresh_s=5.0, clock=clock)
    just.keep(("pkg", "1.0.0"), "probed")
    assert just.take(("pkg", "2.0.0"), lambda: "other") == "other"
    just.keep(("pkg", "1.0.0"), "probed")
    clock.now += 6
    assert just.take(("pkg", "1.0.0"), lambda: "later") == "later"
