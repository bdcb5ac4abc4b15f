"""Benchmark: how long `shipit sandbox up` takes once verdaccio is installed (target: < 5 s).

Runs the real console script N times in a fresh directory (cold: new storage) and N times on
the data of the previous run (a restart), timing `up` until it returns (every service ready)
and `down`. Also times `Sandbox.up()` in-process, which leaves out the CLI's start-up.
Prints medians. Usage: .venv/bin/python bench/sandbox_up.py [-n 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shipit.sandbox import verdaccio
from shipit.sandbox.manager import Sandbox

SHIPIT = str(Path(sys.executable).parent / "shipit")


def timed(argv: list[str]) -> float:
    took, _ = run(argv)
    return took


def run(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True)
    took = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{result.stderr}")
    return took, result.stdout


def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process so far (Linux), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=5, help="runs per measurement (default 5)")
    args = parser.parse_args()
    verdaccio.install()  # not part of the measurement
    cold_up: list[float] = []
    warm_up: list[float] = []
    downs: list[float] = []
    in_process: list[float] = []
    cli_cpu: list[float] = []
    server_cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="shipit-bench-") as tmp:
        for i in range(args.n):
            directory = str(Path(tmp) / f"cold-{i}")
            before = children_cpu()
            took, out = run([SHIPIT, "sandbox", "up", "--dir", directory, "--json"])
            cli_cpu.append(children_cpu() - before)
            cold_up.append(took)
            for service in json.loads(out)["services"]:
                if service["pid"]:
                    server_cpu.setdefault(service["name"], []).append(cpu_seconds(service["pid"]))
            downs.append(timed([SHIPIT, "sandbox", "down", "--dir", directory]))
            warm_up.append(timed([SHIPIT, "sandbox", "up", "--dir", directory, "--json"]))
            downs.append(timed([SHIPIT, "sandbox", "down", "--dir", directory]))
        for i in range(args.n):
            sandbox = Sandbox(Path(tmp) / f"lib-{i}")
            start = time.perf_counter()
            sandbox.up()
            in_process.append(time.perf_counter() - start)
            sandbox.down()
        cli_start = [timed([SHIPIT, "--version"]) for _ in range(args.n)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpus = os.cpu_count()
    print(f"runs: {args.n} each; load average {load:.1f} on {cpus} CPUs")
    print(f"shipit sandbox up (fresh dir)     median {statistics.median(cold_up):.2f} s")
    print(f"shipit sandbox up (restart)       median {statistics.median(warm_up):.2f} s")
    print(f"shipit sandbox down               median {statistics.median(downs):.2f} s")
    print(f"Sandbox.up() in-process           median {statistics.median(in_process):.2f} s")
    print(f"shipit --version (CLI start-up)   median {statistics.median(cli_start):.2f} s")
    print("CPU seconds until ready (load-independent), medians:")
    print(f"  {'shipit CLI process':<32}  {statistics.median(cli_cpu):.2f} s")
    for name, values in server_cpu.items():
        print(f"  {name:<32}  {statistics.median(values):.2f} s")
    target = 5.0
    worst = max(statistics.median(cold_up), statistics.median(warm_up))
    print(f"target < {target:.0f} s: {'met' if worst < target else 'NOT met'} ({worst:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
