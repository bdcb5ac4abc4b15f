"""Benchmark: `shipit check` (all checks at once) against the same commands one after another.

On a fresh git copy of examples/hello (a Deno + Node + Python project) with a bare origin on
disk, in an environment whose registry endpoints point at a closed loopback port (no network):

1. one in-process `shipit check` run records every command the checks start (the
   ``shipit.proc`` log: argv and directory);
2. then, alternating, N runs of `shipit check --json` as a user starts it, and N runs of the
   recorded commands one after another (what a release script does by hand);
3. prints both medians, their ratio, and the slowest single command (the floor a parallel
   run can reach).

    .venv/bin/python bench/check.py [--runs 5] [--project examples/hello | --corpus SHAPE]

``--corpus deno-jsr`` (or any shape of tests/corpus) runs it on a project of that shape, built
offline as the corpus tests build it. The bar: the whole command takes at most 1.15 times the
slowest single command (``ratio shipit check / slowest command``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shipit.checks import catalog
from shipit.checks.command import command_env
from shipit.checks.runner import run_checks
from shipit.config import Settings, load
from shipit.project.detect import detect
from shipit.sandbox.isolation import isolated_env

ROOT = Path(__file__).resolve().parents[1]
SHIPIT = str(Path(sys.executable).parent / "shipit")
_CMD = re.compile(r"^\$ (.*?)(?:  \(in (.*)\))?$")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


DENO_ONLY = ("deno.json", "mod.ts", "mod_test.ts", "LICENSE", "README.md", "CHANGELOG.md")


def make_repo(source: Path, tmp: Path, deno_only: bool = False) -> Path:
    remote = tmp / "remote.git"
    work = tmp / "work"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=tmp)
    if deno_only:
        work.mkdir()
        for name in DENO_ONLY:
            if (source / name).is_file():
                shutil.copy2(source / name, work / name)
    else:
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(".shipit", "node_modules"))
    git("init", "--quiet", "-b", "main", cwd=work)
    git("config", "user.name", "bench", cwd=work)
    git("config", "user.email", "bench@example.invalid", cwd=work)
    git("config", "commit.gpgsign", "false", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "example", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "--quiet", "--set-upstream", "origin", "main", cwd=work)
    return work


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.commands: list[tuple[list[str], Path | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = _CMD.match(record.getMessage())
        if m:
            cwd = Path(m.group(2)) if m.group(2) else None
            self.commands.append((shlex.split(m.group(1)), cwd))


def record_commands(
    work: Path, env: dict[str, str]
) -> tuple[list[tuple[list[str], Path | None]], dict[str, str]]:
    rec = Recorder()
    log = logging.getLogger("shipit.proc")
    log.setLevel(logging.INFO)
    log.addHandler(rec)
    try:
        config = load(work).config
        project = detect(work, config, env)
        ctx = catalog.build_context(work, config, Settings.from_env(env, config), project, env)
        report = run_checks(catalog.all_checks(), ctx)
    finally:
        log.removeHandler(rec)
    verdicts = {r.name: f"{r.status} ({r.duration_s:.2f}s)" for r in report.results}
    return rec.commands, verdicts


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_shipit(work: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall time of the whole command, the checks' own duration_s from its JSON)."""
    start = time.perf_counter()
    done = subprocess.run(
        [SHIPIT, "-C", str(work), "--json", "check"], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    try:
        inner = float(json.loads(done.stdout)["duration_s"])
    except (ValueError, KeyError):
        inner = float("nan")
    return wall, inner


def run_sequential(
    commands: list[tuple[list[str], Path | None]], work: Path, env: dict[str, str]
) -> tuple[float, list[float]]:
    cenv = command_env(env)
    each: list[float] = []
    start = time.perf_counter()
    for argv, cwd in commands:
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd or work, env=cenv, capture_output=True, timeout=600)
        each.append(time.perf_counter() - t)
    return time.perf_counter() - start, each


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--project", type=Path, default=ROOT / "examples" / "hello")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="a fresh DENO_DIR for every run (deno's type-check cache starts empty, as in CI)",
    )
    parser.add_argument(
        "--corpus",
        metavar="SHAPE",
        help="a project of this shape from tests/corpus (deno-jsr, node-ts, python-tox, ...)",
    )
    parser.add_argument(
        "--deno-only",
        action="store_true",
        help="keep only the example's Deno package (deno.json, mod.ts, mod_test.ts, ...)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipit-bench-check-") as tmp_s:
        tmp = Path(tmp_s)
        npmrc = tmp / "npmrc"
        npmrc.write_text("")
        env = isolated_env(os.environ, npm_userconfig=npmrc)
        env["CI"] = "true"
        # the tools beside shipit first, as scripts/demo.sh and scripts/test.sh put them (a
        # pyenv shim in front of pytest costs each run a bash and a `pyenv exec`)
        env["PATH"] = os.pathsep.join([str(Path(SHIPIT).parent), env.get("PATH", "")])
        # isolated Python builds take their backend from the wheelhouse scripts/setup.sh
        # filled, never from the network
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(ROOT / ".venv" / "wheelhouse"))
        os.environ.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=env["PIP_FIND_LINKS"])
        if args.corpus:
            sys.path.insert(0, str(ROOT))
            from tests.corpus import build

            work = build(args.corpus, tmp / "corpus", f"bench-{args.corpus}").path
            shown = f"tests/corpus shape {args.corpus}"
        else:
            work = make_repo(args.project, tmp, args.deno_only)
            shown = str(args.project)
        commands, verdicts = record_commands(work, env)  # also warms deno's caches
        kind = " (Deno package only)" if args.deno_only else ""
        print(f"project: {shown}{kind} ({len(commands)} commands per run)")
        for name, verdict in verdicts.items():
            print(f"  {name:<10} {verdict}")
        for argv, cwd in commands:
            where = "" if cwd in (None, work) else f"  (in {cwd})"
            print(f"  $ {shlex.join([Path(argv[0]).name, *argv[1:]])[:110]}{where}")
        run_sequential(commands, work, env)  # warm-up of the baseline
        parallel: list[float] = []
        inner: list[float] = []
        sequential: list[float] = []
        slowest: list[float] = []
        cpu_parallel: list[float] = []
        cpu_sequential: list[float] = []
        for i in range(args.runs):
            if args.cold:
                env["DENO_DIR"] = str(tmp / f"deno-dir-{i}-parallel")
            c0 = child_cpu()
            wall, checks_s = run_shipit(work, env)
            parallel.append(wall)
            inner.append(checks_s)
            c1 = child_cpu()
            if args.cold:
                env["DENO_DIR"] = str(tmp / f"deno-dir-{i}-sequential")
            total, each = run_sequential(commands, work, env)
            c2 = child_cpu()
            cpu_parallel.append(c1 - c0)
            cpu_sequential.append(c2 - c1)
            sequential.append(total)
            slowest.append(max(each))
        p, s = statistics.median(parallel), statistics.median(sequential)
        mode = "cold deno cache" if args.cold else "warm deno cache"
        print(f"[{mode}]")
        print(f"shipit check (whole command), median of {args.runs}: {p:.2f} s")
        q = statistics.median(inner)
        print(f"  of which the checks themselves (duration_s), median: {q:.2f} s")
        print(f"same commands one after another, median of {args.runs}: {s:.2f} s")
        floor = statistics.median(slowest)
        print(f"slowest single command, median: {floor:.2f} s")
        print(f"ratio shipit check / slowest command: {p / floor:.2f} (bar: 1.15)")
        print(f"ratio sequential / shipit check: {s / p:.2f}x (whole command)")
        print(f"ratio sequential / checks phase: {s / q:.2f}x")
        print(
            f"CPU seconds per run (user+sys of child processes), median: shipit check "
            f"{statistics.median(cpu_parallel):.2f} s, sequential "
            f"{statistics.median(cpu_sequential):.2f} s"
        )
        print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
