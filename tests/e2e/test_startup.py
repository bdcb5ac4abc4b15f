"""`shipit --version` and `shipit --help` start without the heavy parts: no pydantic, rich,
httpx, typer, engine or command modules are imported, and they print what the full CLI
prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pydantic", "rich", "httpx", "typer", "click", "shipit.engine", "shipit.commands")
PROBE = """
import json, sys
from shipit.__main__ import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
loaded = sorted(k for k, v in sys.modules.items() if v is not None)  # None: refused imports
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": loaded}))
"""


def run(*args: str) -> tuple[str, dict[str, object]]:
    env = {**os.environ, "COLUMNS": "100"}
    for name in ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TTY_COMPATIBLE"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=60
    )
    _, _, tail = done.stderr.rpartition("\nMODULES ")
    return done.stdout, json.loads(tail)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-C", ".", "--json", "--help"]])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    out, seen = run(*args)
    assert seen["code"] == 0
    modules = seen["modules"]
    assert isinstance(modules, list)
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
    assert out.startswith("shipit ") if args == ["--version"] else "Commands" in out


def test_console_script_answers_like_the_cli() -> None:
    shipit = str(Path(sys.executable).parent / "shipit")
    env = {**os.environ, "COLUMNS": "100"}
    version = subprocess.run([shipit, "--version"], capture_output=True, text=True, env=env)
    from shipit import __version__

    assert (version.returncode, version.stdout) == (0, f"shipit {__version__}\n")
    bare = subprocess.run([shipit], capture_output=True, text=True, env=env)
    assert bare.returncode == 2  # no command: the help, as a usage error
    assert "Usage: shipit [OPTIONS] COMMAND [ARGS]..." in bare.stdout


def test_http_comes_without_the_httpx_command_line_client() -> None:
    """httpx's __init__ imports its own CLI (rich.progress, pygments, click) when they are
    installed: about 100 ms of every shipit command that talks HTTP, for nothing."""
    probe = (
        "import json, sys\n"
        "import shipit.http, httpx\n"
        "with httpx.Client() as c: pass\n"
        "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = json.loads(done.stdout)
    assert "httpx" in modules
    assert [m for m in modules if m.startswith(("pygments", "rich.progress", "click"))] == []
