"""`shipit check` as a user runs it: exit codes, --json, --only/--skip, plain output,
timeouts, and Ctrl-C leaving no child process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shipit.checks.base import Status

from .conftest import DENO_MOD, ExampleFactory


def test_json_output_of_a_good_project(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    done = ex.shipit("--json", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)  # stdout holds the JSON and nothing else
    assert data["ok"] is True and isinstance(data["duration_s"], float)
    names = [c["name"] for c in data["checks"]]
    assert names == [
        "git",
        "versions",
        "typecheck",
        "lint",
        "test",
        "security",
        "secrets",
        "registry",
    ]
    for c in data["checks"]:
        assert set(c) >= {"name", "status", "duration_s", "summary", "findings"}
    assert ex.env["JSR_TOKEN"] not in done.stdout + done.stderr


def test_json_output_of_a_broken_project(deno_project: ExampleFactory) -> None:
    ex = deno_project(mod_DOT_ts=DENO_MOD + 'export const n: number = "x";\n')
    (ex.path / "scratch.txt").write_text("dirty\n")
    done = ex.shipit("--json", "check", "--only", "git,typecheck,versions")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["ok"] is False
    by = {c["name"]: c for c in data["checks"]}
    assert set(by) == {"git", "typecheck", "versions"}
    assert by["versions"]["status"] == "passed"
    assert by["git"]["status"] == "failed"  # every problem in one pass
    [f] = by["typecheck"]["findings"]
    assert f == {
        "message": "TS2322: Type 'string' is not assignable to type 'number'.",
        "file": "mod.ts",
        "line": 8,
        "hint": "fix the type error shown, then shipit check --only typecheck",
        "kind": "type error",
    }


def test_plain_output_shows_findings_fixes_and_log_path(deno_project: ExampleFactory) -> None:
    ex = deno_project(mod_DOT_ts=DENO_MOD + 'export const n: number = "x";\n')
    done = ex.shipit("check", "--skip", "registry,security,secrets", env={"CI": "true"})
    assert done.returncode == 1
    out = done.stdout  # the report: `shipit check > file` keeps it
    assert "FAILED  typecheck" in out
    assert "PASSED  lint" in out
    assert "mod.ts:8: TS2322: Type 'string' is not assignable to type 'number'." in out
    assert "fix: fix the type error shown, then shipit check --only typecheck" in out
    assert "full output: .shipit/checks/typecheck.log" in out
    # deno test type-checks too, so the test check fails on the same error
    assert "FAILED  test" in out
    assert "not ready to release — 3 passed, 2 failed in" in out
    assert "registry" not in out
    # progress (one line per finished check) goes to stderr, the findings do not
    assert "FAILED  typecheck" in done.stderr and "TS2322" not in done.stderr


def test_disabled_check_is_not_run(deno_project: ExampleFactory) -> None:
    ex = deno_project(
        mod_DOT_ts=DENO_MOD + 'export const n: number = "x";\n',
        shipit_toml="[checks.typecheck]\nenabled = false\n",
    )
    done = ex.shipit("check", "--only", "typecheck,lint", env={"CI": "true"})
    assert done.returncode == 0, done.stderr
    assert "ready to release — 1 passed, 1 disabled (typecheck)" in done.stdout
    data = json.loads(ex.shipit("check", "--only", "typecheck,lint", "--json").stdout)
    assert data["ok"] is True
    assert [(c["name"], c["status"], c["summary"]) for c in data["checks"]] == [
        (
            "typecheck",
            "skipped",
            "disabled in the configuration (checks.typecheck.enabled = false)",
        ),
        ("lint", "passed", "no lint problems (deno lint)"),
    ]
    assert data["plan"]["lint"] == {
        "commands": [{"command": "deno lint", "why": 'the "lint" section of deno.json'}],
        "skipped": [
            {
                "tool": "deno fmt --check",
                "reason": "deno.json has no `fmt` section and neither a task nor CI runs "
                "`deno fmt --check`",
                "enable": 'add "fmt": {} to deno.json',
            }
        ],
    }


def test_explain_shows_each_command_and_why_and_runs_nothing(
    deno_project: ExampleFactory,
) -> None:
    ex = deno_project(mod_DOT_ts=DENO_MOD + 'export const n: number = "x";\n')
    done = ex.shipit("check", "--explain", "--only", "typecheck,lint,test")
    assert done.returncode == 0, done.stderr  # nothing ran, so the type error is not seen
    lines = [ln.rstrip() for ln in done.stdout.splitlines()]
    assert lines == [
        "typecheck",
        "  runs  deno check ./mod.ts",
        "        because the exports of deno.json (what `deno publish` type-checks)",
        "lint",
        "  runs  deno lint",
        '        because the "lint" section of deno.json',
        "  skips deno fmt --check: deno.json has no `fmt` section and neither a task nor CI "
        "runs `deno fmt --check`",
        '        to run it: add "fmt": {} to deno.json',
        "test",
        "  runs  deno test",
        "        because a Deno project",
    ]
    assert not (ex.path / ".shipit" / "checks" / "typecheck.log").exists()


def test_unknown_check_name_is_a_usage_error(deno_project: ExampleFactory) -> None:
    done = deno_project().shipit("check", "--only", "tests")
    assert done.returncode == 2
    assert "unknown check name: tests" in done.stderr
    text = " ".join(done.stderr.replace("│", " ").split())
    assert (
        "check names are: git, versions, typecheck, lint, test, security, secrets, registry" in text
    )


def test_bad_configuration_exits_2(deno_project: ExampleFactory) -> None:
    ex = deno_project(shipit_toml="[checks.test]\nmin-coverag = 80\n")
    done = ex.shipit("check")
    assert done.returncode == 2
    assert "min-coverage" in done.stderr  # the did-you-mean names the real key


def test_a_check_over_its_timeout_is_an_error_and_its_process_is_gone(
    deno_project: ExampleFactory,
) -> None:
    ex = deno_project(shipit_toml='[checks.test]\ncommand = "sleep 41.7"\ntimeout = 1\n')
    started = time.monotonic()
    r = ex.check("test")
    assert time.monotonic() - started < 15
    assert r.status is Status.ERROR
    assert r.summary == "`sleep 41.7` timed out after 1s"
    assert r.findings[0].hint == "raise checks.test.timeout in shipit.toml, or make it faster"
    assert not _pids_running("sleep 41.7")


def _pids_running(needle: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if needle in cmdline and "sh -c" not in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


def test_ctrl_c_stops_every_check_and_leaves_no_child(deno_project: ExampleFactory) -> None:
    ex = deno_project(
        shipit_toml='[checks.test]\ncommand = "sleep 53.1"\n[checks.lint]\ncommand = "sleep 53.2"\n'
    )
    shipit = Path(sys.executable).parent / "shipit"
    p = subprocess.Popen(
        [str(shipit), "-C", str(ex.path), "check", "--only", "test,lint,git"],
        env={**ex.env, "CI": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and len(_pids_running("sleep 53.1") + _pids_running("sleep 53.2")) < 2
        ):
            time.sleep(0.1)
        assert _pids_running("sleep 53.1") and _pids_running("sleep 53.2")
        os.kill(p.pid, signal.SIGINT)
        _out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert not _pids_running("sleep 53.1") and not _pids_running("sleep 53.2")
