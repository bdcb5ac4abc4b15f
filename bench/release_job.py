"""Benchmark: one whole npm release, shipit against the raw commands and other release tools.

The job: check the work tree, run ``npm test``, bump 1.0.0 -> 1.0.1, commit, create an
annotated tag, push branch and tag to a bare ``origin``, ``npm publish`` to a local verdaccio.
Contestants:

- ``floor``: the raw commands one after another (``git status --porcelain``, ``npm test``,
  ``npm version patch`` (bump, commit and annotated tag), ``git push --atomic``,
  ``npm publish``): the least a release can cost;
- ``shipit``: ``shipit release --bump patch --yes`` when the CLI has ``--bump``, else
  ``shipit version set 1.0.1`` + ``git commit`` + ``shipit release --yes``; every check runs;
- ``shipit-skip-checks``: the same with ``--skip-checks``;
- with ``--peers``: ``release-it`` (20.2.1, ``--ci``, ``npm test`` as its ``before:init``
  hook) and ``np`` (11.2.2, its defaults but no GitHub release draft and no 2FA setting,
  which verdaccio lacks), installed with npm into
  ``bench/.peers/`` (gitignored) on first use.

Each round starts a fresh verdaccio; each run gets a fresh copy of ``bench/fixtures/npm-package``
(a small real-shaped package with a real ``node --test`` suite) with its own package name, in a
fresh clone of a fresh bare origin. Only the contestant's commands are timed. Every run's end
state is verified (tag annotated and on origin at the release commit, branch pushed, tree clean,
1.0.1 on the registry, its tarball downloadable with the integrity the registry states and
holding version 1.0.1); a run that fails verification is reported and left out of the medians.
Contestants rotate their order from round to round. Prints medians, x floor and the load.

``--trace`` runs each contestant once more under ``strace -f -e trace=execve`` and prints how
many processes it started (git and npm ones apart) and the commands shipit repeats.

    .venv/bin/python bench/release_job.py [--runs 5] [--peers] [--only floor,shipit] [--trace]
        [--baseline OTHER/.venv]   # adds shipit@base and shipit-skip-checks@base
        [--baseline flow=/path/to/shipit]  # repeatable: LABEL=... adds shipit@LABEL
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shipit.hashing import sha512_integrity
from shipit.http import client
from shipit.sandbox import process, verdaccio
from shipit.sandbox.isolation import isolated_env

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "bench" / "fixtures" / "npm-package"
PEERS_DIR = ROOT / "bench" / ".peers"
PEER_VERSIONS = {"release-it": "20.2.1", "np": "11.2.2"}
SHIPIT = str(Path(sys.executable).parent / "shipit")
OLD, NEW = "1.0.0", "1.0.1"
TAG = f"v{NEW}"
PEERS = ("release-it", "np")
RUN_TIMEOUT = 600.0


def uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


# ---------------------------------------------------------------- one fixture


@dataclass(frozen=True)
class Fixture:
    """A work clone of a fresh bare origin holding the package, committed and pushed."""

    base: Path
    work: Path
    origin: Path
    name: str
    env: dict[str, str]


def make_fixture(base: Path, name: str, registry: verdaccio.Verdaccio) -> Fixture:
    base.mkdir(parents=True)
    origin = base / "origin.git"
    work = base / "work"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=base)
    git("clone", "--quiet", str(origin), str(work), cwd=base)
    shutil.copytree(FIXTURE, work, dirs_exist_ok=True)
    manifest = json.loads((work / "package.json").read_text())
    manifest["name"] = name
    (work / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for key, value in (
        ("user.name", "Bench Releaser"),
        ("user.email", "bench@example.invalid"),
        ("commit.gpgsign", "false"),
        ("tag.gpgsign", "false"),
    ):
        git("config", "--local", key, value, cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "Initial import", cwd=work)
    git("push", "--quiet", "--set-upstream", "origin", "main", cwd=work)
    npmrc = base / "npmrc"
    npmrc.write_text(registry.npmrc())
    env = isolated_env(
        os.environ,
        {"NPM_CONFIG_REGISTRY": registry.url, "NPM_TOKEN": registry.token},
        npm_userconfig=npmrc,
    )
    for name_ in ("CI", "GITHUB_ACTIONS"):
        env.pop(name_, None)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return Fixture(base=base, work=work, origin=origin, name=name, env=env)


# ---------------------------------------------------------------- contestants


@dataclass(frozen=True)
class Tools:
    """The programs under test: each shipit (by label) and whether it has ``--bump``."""

    shipits: dict[str, tuple[str, bool]]
    peers_bin: Path | None


def _shipit(shipit: tuple[str, bool], extra: Sequence[str]) -> list[list[str]]:
    program, has_bump = shipit
    if has_bump:
        return [[program, "release", "--bump", "patch", "--yes", *extra]]
    return [
        [program, "version", "set", NEW],
        ["git", "commit", "--quiet", "-am", f"Release {NEW}"],
        [program, "release", "--yes", *extra],
    ]


def _release_it(fx: Fixture, tools: Tools) -> list[list[str]]:
    assert tools.peers_bin is not None
    config = fx.base / "release-it.json"
    config.write_text(
        json.dumps(
            {
                "hooks": {"before:init": ["npm test"]},
                "git": {
                    "tagName": "v${version}",
                    "commitMessage": "Release ${version}",
                    "tagAnnotation": "Release ${version}",
                },
                "npm": {"publish": True},
                "github": {"release": False},
            }
        )
    )
    return [[str(tools.peers_bin / "release-it"), "patch", "--ci", "--config", str(config)]]


def _np(fx: Fixture, tools: Tools) -> list[list[str]]:
    assert tools.peers_bin is not None
    return [[str(tools.peers_bin / "np"), "patch", "--no-release-draft", "--no-2fa"]]


def commands_for(contestant: str, fx: Fixture, tools: Tools) -> list[list[str]]:
    if contestant == "floor":
        return [
            ["git", "status", "--porcelain"],
            ["npm", "test"],
            ["npm", "version", "patch", "-m", "Release %s"],
            ["git", "push", "--quiet", "--atomic", "origin", "main", TAG],
            ["npm", "publish"],
        ]
    kind, _, label = contestant.partition("@")
    if kind == "shipit":
        return _shipit(tools.shipits[label], [])
    if kind == "shipit-skip-checks":
        return _shipit(tools.shipits[label], ["--skip-checks"])
    if contestant == "release-it":
        return _release_it(fx, tools)
    if contestant == "np":
        return _np(fx, tools)
    raise SystemExit(f"unknown contestant {contestant}")


def shipit_has_bump(program: str) -> bool:
    done = subprocess.run(
        [program, "release", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    return "--bump" in done.stdout


def install_peers() -> Path:
    """release-it and np at the pinned versions in ``bench/.peers`` (npm, once)."""
    bin_dir = PEERS_DIR / "node_modules" / ".bin"
    stamp = PEERS_DIR / ".installed"
    wanted = json.dumps(PEER_VERSIONS, sort_keys=True)
    if stamp.is_file() and stamp.read_text() == wanted:
        return bin_dir
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    (PEERS_DIR / "package.json").write_text(
        json.dumps({"name": "shipit-bench-peers", "private": True}) + "\n"
    )
    env = {k: v for k, v in os.environ.items() if k.lower() != "npm_config_registry"}
    specs = [f"{name}@{version}" for name, version in PEER_VERSIONS.items()]
    print(f"installing {', '.join(specs)} into {PEERS_DIR} ...", flush=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *specs],
        cwd=PEERS_DIR,
        env=env,
        check=True,
    )
    stamp.write_text(wanted)
    return bin_dir


# ---------------------------------------------------------------- running and verifying


@dataclass
class Run:
    contestant: str
    seconds: float
    ok: bool
    problems: list[str] = field(default_factory=list)
    output: str = ""


def run_job(
    commands: list[list[str]], fx: Fixture, wrap: Callable[[list[str]], list[str]] | None = None
) -> tuple[float, str | None, str]:
    """(wall seconds, the first failure or None, the output of all commands)."""
    out = io.StringIO()
    start = time.perf_counter()
    for argv in commands:
        full = wrap(argv) if wrap else argv
        done = subprocess.run(
            full,
            cwd=fx.work,
            env=fx.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        out.write(f"$ {shlex.join(argv)}\n{done.stdout}{done.stderr}")
        if done.returncode != 0:
            return (
                time.perf_counter() - start,
                f"`{shlex.join(argv)}` exited {done.returncode}",
                (out.getvalue()),
            )
    return time.perf_counter() - start, None, out.getvalue()


def verify(fx: Fixture, registry: verdaccio.Verdaccio) -> list[str]:
    """Everything wrong with the end state (empty when the release is complete)."""
    problems: list[str] = []
    head = git("rev-parse", "HEAD", cwd=fx.work)
    status = git("status", "--porcelain", "--untracked-files=all", cwd=fx.work)
    if status:
        problems.append(f"work tree not clean: {status.splitlines()[:3]}")
    try:
        remote_main = git("rev-parse", "refs/heads/main", cwd=fx.origin)
        kind = git("cat-file", "-t", f"refs/tags/{TAG}", cwd=fx.origin)
        tagged = git("rev-parse", f"refs/tags/{TAG}^{{commit}}", cwd=fx.origin)
        shown = json.loads(git("show", f"{tagged}:package.json", cwd=fx.origin))
    except subprocess.CalledProcessError as exc:
        return [*problems, f"origin lacks the release: {exc.stderr.strip()}"]
    if kind != "tag":
        problems.append(f"{TAG} on origin is a {kind}, not an annotated tag")
    if remote_main != head or tagged != head:
        problems.append(
            f"origin main {remote_main[:12]}, {TAG} -> {tagged[:12]}, local HEAD {head[:12]}"
        )
    if shown.get("version") != NEW:
        problems.append(f"the tagged package.json says {shown.get('version')}")
    with client(base_url=registry.url, timeout=30.0) as http:
        response = http.get(fx.name.replace("/", "%2f"))
        if not response.is_success:
            return [*problems, f"registry: GET {fx.name} answered {response.status_code}"]
        dist = response.json().get("versions", {}).get(NEW, {}).get("dist")
        if not dist:
            return [*problems, f"registry: {fx.name}@{NEW} is not there"]
        tarball = http.get(dist["tarball"])
    if not tarball.is_success:
        return [*problems, f"registry: tarball answered {tarball.status_code}"]
    saved = fx.base / "downloaded.tgz"
    saved.write_bytes(tarball.content)
    if sha512_integrity(saved) != dist.get("integrity"):
        problems.append("registry: the tarball does not match the integrity the registry states")
    with tarfile.open(saved) as tar:
        member = tar.extractfile("package/package.json")
        packed = json.loads(member.read()) if member else {}
    if packed.get("version") != NEW or packed.get("name") != fx.name:
        problems.append(f"registry: the tarball holds {packed.get('name')}@{packed.get('version')}")
    return problems


@contextlib.contextmanager
def fresh_registry(base: Path) -> Iterator[verdaccio.Verdaccio]:
    registry = verdaccio.start(base / "verdaccio", password=secrets.token_hex(12))
    try:
        yield registry
    finally:
        process.stop(registry.process.pid, registry.process.started)


def one_run(
    contestant: str,
    base: Path,
    registry: verdaccio.Verdaccio,
    tools: Tools,
    wrap: Callable[[list[str]], list[str]] | None = None,
) -> Run:
    suffix = re.sub(r"[^a-z0-9]+", "-", contestant)
    fx = make_fixture(base, f"@bench/slugger-{suffix}-{secrets.token_hex(4)}", registry)
    seconds, failure, output = run_job(commands_for(contestant, fx, tools), fx, wrap)
    problems = [failure] if failure else verify(fx, registry)
    return Run(contestant, seconds, not problems, problems, output)


# ---------------------------------------------------------------- trace


_EXECVE = re.compile(r'^\d+\s+execve\("(?P<path>[^"]*)", \[(?P<argv>.*?)\](?:, 0x| /\*)')


def traced_commands(trace: Path) -> list[list[str]]:
    """Each successful execve in an ``strace -f -z -e trace=execve`` log, as an argv."""
    found: list[list[str]] = []
    for line in trace.read_text(errors="replace").splitlines():
        m = _EXECVE.match(line)
        if m:
            found.append(re.findall(r'"((?:[^"\\]|\\.)*)"(?:\.\.\.)?', m.group("argv")))
    return found


def is_git_or_npm(argv: Sequence[str]) -> bool:
    """A git or npm process a program started (not git's own helpers, not a shebang's node)."""
    return bool(argv) and Path(argv[0]).name in ("git", "npm") and "git-core" not in argv[0]


def trace_all(names: Sequence[str], tools: Tools, tmp: Path, keep: Path | None) -> None:
    if shutil.which("strace") is None:
        print("--trace needs strace (apt-get install strace)")
        return
    print(f"\ntrace (strace -f -e trace=execve), one run each; {uptime()}")
    with fresh_registry(tmp / "trace") as registry:
        for name in names:
            log = (keep or tmp) / f"trace-{name}.txt"

            def wrap(argv: list[str], log: Path = log) -> list[str]:
                return [
                    "strace",
                    "-f",
                    "-z",
                    "-qq",
                    "-e",
                    "trace=execve",
                    "-A",
                    "-o",
                    str(log),
                    *argv,
                ]

            log.unlink(missing_ok=True)
            run = one_run(name, tmp / "trace" / name, registry, tools, wrap)
            argvs = traced_commands(log)
            gitnpm = [a for a in argvs if is_git_or_npm(a)]
            state = "verified" if run.ok else f"FAILED: {'; '.join(run.problems)}"
            print(
                f"  {name:<20} {len(gitnpm):>4} git/npm processes, {len(argvs):>4} processes in "
                f"all ({run.seconds:.2f} s traced, {state})"
            )
            if name.startswith("shipit"):
                repeated = Counter(shlex.join(a[:6])[:90] for a in gitnpm)
                for command, count in repeated.most_common(8):
                    if count > 1:
                        print(f"      {count:>3}x  {command}")


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--peers", action="store_true", help="also release-it and np")
    parser.add_argument("--only", help="comma-separated contestants (default: all)")
    parser.add_argument("--trace", action="store_true", help="count processes with strace")
    parser.add_argument("--keep", type=Path, help="keep traces and failed runs' output here")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="[LABEL=]PATH",
        help="another shipit (its venv or program) to run as shipit@LABEL (default label: "
        "base), e.g. a checkout of main from before a change: before and after in the same "
        "run; repeatable",
    )
    args = parser.parse_args()
    shipits = {"": SHIPIT}
    for spec in args.baseline:
        label, _, path = spec.rpartition("=")
        where = Path(path)
        shipits[label or "base"] = str(where / "bin" / "shipit" if where.is_dir() else where)
    known = ["floor"]
    for label in shipits:
        at = f"@{label}" if label else ""
        known += [f"shipit{at}", f"shipit-skip-checks{at}"]
    names = known + (list(PEERS) if args.peers else [])
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(known) - set(PEERS)
    if unknown:
        parser.error(f"unknown contestants: {', '.join(sorted(unknown))}")
    peers_bin = install_peers() if set(names) & set(PEERS) else None
    tools = Tools({k: (v, shipit_has_bump(v)) for k, v in shipits.items()}, peers_bin)
    print(f"contestants: {', '.join(names)}; {args.runs} rounds")
    for label, (program, has_bump) in tools.shipits.items():
        way = "release --bump patch" if has_bump else "version set + git commit + release"
        print(f"  shipit{'@' + label if label else ''}: {program} runs `{way}`")
    print(f"start: {uptime()}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="shipit-bench-release-") as tmp_s:
        tmp = Path(tmp_s)
        for round_no in range(args.runs):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            with fresh_registry(tmp / f"round-{round_no}") as registry:
                for name in order:
                    loads.append(os.getloadavg()[0])
                    run = one_run(name, tmp / f"round-{round_no}" / name, registry, tools)
                    runs.append(run)
                    mark = "ok" if run.ok else "FAILED: " + "; ".join(run.problems)
                    print(f"  round {round_no + 1} {name:<20} {run.seconds:7.2f} s  {mark}")
                    if not run.ok and args.keep:
                        (args.keep / f"failed-{name}-{round_no}.txt").write_text(run.output)
            print(f"  after round {round_no + 1}: {uptime()}", flush=True)
        report(names, runs, loads, args.json)
        if args.trace:
            trace_all(names, tools, tmp, args.keep)
    return 0 if all(r.ok for r in runs) else 1


def report(
    names: Sequence[str], runs: Sequence[Run], loads: Sequence[float], out: Path | None
) -> None:
    medians: dict[str, float] = {}
    for name in names:
        ok = [r.seconds for r in runs if r.contestant == name and r.ok]
        if ok:
            medians[name] = statistics.median(ok)
    floor = medians.get("floor")
    print("\n| contestant | median s | x floor | min-max s | verified |")
    print("| --- | --- | --- | --- | --- |")
    rows = []
    for name in names:
        mine = [r for r in runs if r.contestant == name]
        ok = [r.seconds for r in mine if r.ok]
        median = medians.get(name)
        ratio = f"{median / floor:.2f}" if median is not None and floor else "-"
        spread = f"{min(ok):.2f}-{max(ok):.2f}" if ok else "-"
        shown = f"{median:.2f}" if median is not None else "-"
        print(f"| {name} | {shown} | {ratio} | {spread} | {len(ok)}/{len(mine)} |")
        rows.append(
            {
                "contestant": name,
                "median_s": median,
                "runs_s": ok,
                "verified": len(ok),
                "runs": len(mine),
            }
        )
    print(
        f"load average (1 min) during the runs: median {statistics.median(loads):.2f}, "
        f"max {max(loads):.2f}; {uptime()}"
    )
    if out is not None:
        out.write_text(json.dumps({"rows": rows, "loads": list(loads)}, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
