"""Benchmark: what every shipit command pays before it starts working.

Medians over several runs, on a fresh git copy of examples/hello (in a temp dir):
- `shipit --help` and `shipit version` as a user starts them (process start-up + imports),
  next to `python -c pass` and `git status` as floors;
- in process: configuration load, project detection, and the git snapshot `git.state()`
  (local only, and with a fetch from a bare remote on disk).

    .venv/bin/python bench/foundation.py [--runs 7]
Targets: `shipit version` within 1.5 s of `python -c pass` on an idle machine; detection
under 50 ms; `git.state()` without fetch under 150 ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shipit import git
from shipit.config import load
from shipit.project.detect import detect

ROOT = Path(__file__).resolve().parents[1]
SHIPIT = str(Path(sys.executable).parent / "shipit")


def median_s(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sh(*argv: str, cwd: Path) -> Callable[[], object]:
    return lambda: subprocess.run(argv, cwd=cwd, check=False, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = base / "hello"
        shutil.copytree(ROOT / "examples" / "hello", repo)
        ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
        subprocess.run(
            ["git", "init", "-q", "--bare", "-b", "main", str(base / "o.git")], check=True
        )
        for cmd in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            [*ident, "commit", "-q", "-m", "i"],
            ["remote", "add", "origin", str(base / "o.git")],
            ["push", "-q", "-u", "origin", "main"],
        ):
            subprocess.run(["git", *cmd], cwd=repo, check=True)
        loaded = load(repo)
        rows = [
            ("python -c pass", median_s(sh(sys.executable, "-c", "pass", cwd=repo), args.runs)),
            ("git status", median_s(sh("git", "status", "--porcelain", cwd=repo), args.runs)),
            ("shipit --help", median_s(sh(SHIPIT, "--help", cwd=repo), args.runs)),
            ("shipit version", median_s(sh(SHIPIT, "version", cwd=repo), args.runs)),
            ("config load", median_s(lambda: load(repo), args.runs)),
            ("detect", median_s(lambda: detect(repo, loaded.config, {}), args.runs)),
            ("git.state", median_s(lambda: git.state(repo), args.runs)),
            (
                "git.state + fetch",
                median_s(lambda: git.state(repo, fetch_remote=True, tag="v0.1.0"), args.runs),
            ),
        ]
    floor = rows[0][1]
    print(f"{'what':<20} {'median':>10}   {'minus python start-up':>22}")
    for name, seconds in rows:
        extra = f"{(seconds - floor) * 1000:>19.0f} ms" if name.startswith("shipit") else ""
        print(f"{name:<20} {seconds * 1000:>8.1f} ms   {extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
