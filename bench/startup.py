"""Benchmark: how long shipit takes to start, next to npm and a bare Python.

Runs, interleaved so load changes hit all alike, N times each: ``shipit --help``,
``shipit --version``, ``npm --version`` and ``python -c pass`` (the venv's Python: what any
Python CLI pays before its first import). Prints medians and each one's ratio to
``npm --version`` (the goal: shipit's two within 1.5x), and the load average.

    .venv/bin/python bench/startup.py [--runs 15] [--baseline OTHER/.venv]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SHIPIT = str(Path(sys.executable).parent / "shipit")
COMMANDS: dict[str, list[str]] = {
    "shipit --help": [SHIPIT, "--help"],
    "shipit --version": [SHIPIT, "--version"],
    "npm --version": ["npm", "--version"],
    "python -c pass": [sys.executable, "-c", "pass"],
}
REFERENCE = "npm --version"


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--baseline", type=Path, help="another shipit's venv (or program) to time next to this one"
    )
    args = parser.parse_args()
    if args.baseline:
        base = args.baseline / "bin" / "shipit" if args.baseline.is_dir() else args.baseline
        COMMANDS["shipit@base --help"] = [str(base), "--help"]
        COMMANDS["shipit@base --version"] = [str(base), "--version"]
    env = {**os.environ, "NO_COLOR": "1", "NPM_CONFIG_UPDATE_NOTIFIER": "false"}
    for argv in COMMANDS.values():  # warm the page cache and .pyc files
        timed(argv, env)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    load_before = os.getloadavg()[0]
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(timed(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    reference = medians[REFERENCE]
    print(f"| command | median ms | x {REFERENCE} |")
    print("| --- | --- | --- |")
    for name, median in medians.items():
        print(f"| {name} | {median * 1000:.0f} | {median / reference:.2f} |")
    one, five, _ = os.getloadavg()
    print(
        f"{args.runs} runs each, interleaved; load average {load_before:.2f} before, "
        f"{one:.2f} after (5 min {five:.2f}) on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
