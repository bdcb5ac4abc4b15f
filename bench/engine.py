"""Benchmark: what the release engine itself costs, apart from the work of the steps.

1. Orchestrator overhead: N no-op steps in one phase (parallel) and N in a chain (each
   needs the previous), journal fsynced after every transition; prints the median wall time
   per step over R runs.
2. Three independent 0.3 s "publishes": parallel walk vs. the sum (ratio, ideal 3x).
3. A real git-only release (`shipit release` of a tag + push to a bare remote, the CLI as a
   user starts it) against the same git commands run by hand; medians and ratio.

    .venv/bin/python bench/engine.py [--runs 5] [--steps 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from shipit.config import Config
from shipit.engine.journal import Journal
from shipit.engine.orchestrator import Orchestrator
from shipit.engine.plan import plan_from_steps
from shipit.engine.step import Context, Evidence, Probe, Progress, Undo, make_context
from shipit.project.model import Project


@dataclass
class Noop:
    id: str
    needs: tuple[str, ...] = ()
    reversible: bool = True
    sleep: float = 0.0

    def describe(self, ctx: Context) -> str:
        return self.id

    def probe(self, ctx: Context) -> Probe:
        return Probe.todo()

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        if self.sleep:
            time.sleep(self.sleep)
        return {"id": self.id}

    def undo(self, ctx: Context) -> Undo:
        return Undo.nothing()


def walk(steps: list[tuple[str, Noop]]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ctx = make_context(
            root=root,
            config=Config(),
            project=Project(root, (), (), None),
            version="1.0.0",
            commit="0" * 40,
            env={},
        )
        plan = plan_from_steps(ctx, steps)
        journal = Journal.create(
            ctx.release_dir,
            version="1.0.0",
            tag="v1.0.0",
            commit="0" * 40,
            config_digest="b",
            steps=[(p.id, True) for p in plan.steps],
        )
        start = time.perf_counter()
        outcome = Orchestrator(plan, journal).run()
        took = time.perf_counter() - start
        assert outcome.state == "released"
        return took


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def fresh_repo(base: Path) -> Path:
    remote = base / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=base)
    work = base / "work"
    git("clone", "-q", str(remote), str(work), cwd=base)
    for key, value in (("user.name", "b"), ("user.email", "b@example.com")):
        git("config", key, value, cwd=work)
    (work / "package.json").write_text('{"name": "b", "version": "1.0.0"}\n')
    (work / "shipit.toml").write_text("[npm]\nenabled = false\n")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "init", cwd=work)
    git("push", "-q", "-u", "origin", "main", cwd=work)
    return work


def cli_release() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        work = fresh_repo(Path(tmp))
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("CI", None)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "shipit", "-C", str(work), "release", "--yes", "--skip-checks"],
            check=True,
            capture_output=True,
            env=env,
        )
        return time.perf_counter() - start


def by_hand() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        work = fresh_repo(Path(tmp))
        start = time.perf_counter()
        git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0", cwd=work)
        git("push", "-q", "origin", "refs/tags/v1.0.0", cwd=work)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    n = args.steps
    flat = [walk([("publish", Noop(f"s{i}")) for i in range(n)]) for _ in range(args.runs)]
    chain = [
        walk([("publish", Noop(f"s{i}", needs=(f"s{i - 1}",) if i else ())) for i in range(n)])
        for _ in range(args.runs)
    ]
    print(
        f"orchestrator, {n} parallel no-op steps: median {statistics.median(flat):.3f} s "
        f"({statistics.median(flat) / n * 1000:.1f} ms per step)"
    )
    print(
        f"orchestrator, {n} chained no-op steps:  median {statistics.median(chain):.3f} s "
        f"({statistics.median(chain) / n * 1000:.1f} ms per step)"
    )
    three = [
        walk([("publish", Noop(f"p{i}", sleep=0.3)) for i in range(3)]) for _ in range(args.runs)
    ]
    print(
        f"three independent 0.3 s publishes: median {statistics.median(three):.3f} s "
        f"(sequential 0.900 s, ratio {0.9 / statistics.median(three):.2f}x)"
    )
    cli, hand = [], []
    for _ in range(args.runs):
        cli.append(cli_release())
        hand.append(by_hand())
    print(
        f"git-only release: `shipit release` median {statistics.median(cli):.3f} s, "
        f"git tag + push by hand median {statistics.median(hand):.3f} s, "
        f"ratio {statistics.median(cli) / statistics.median(hand):.1f}x"
    )


if __name__ == "__main__":
    main()
