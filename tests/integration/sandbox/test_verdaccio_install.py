"""Installing verdaccio into the cache: once, atomically, under a lock, with clear failures.

The npm registry is not reachable from tests, so ``npm`` here is a stand-in script on PATH
that records each call and lays out what ``npm install verdaccio`` would; the install logic
around it (temp dir, lock, rename, stamp, error message) is the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAKE_NPM = """#!{python}
import json, os, sys, time
from pathlib import Path
with open(os.environ["FAKE_NPM_CALLS"], "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
manifest = json.loads(Path("package.json").read_text())
assert manifest["overrides"] == {{"node-fetch": "2.7.0"}}, manifest
time.sleep(0.5)
if os.environ.get("FAKE_NPM_FAIL"):
    sys.stderr.write("npm error code ETARGET\\nnpm error notarget No matching version\\n")
    sys.exit(1)
bin_dir = Path("node_modules/verdaccio/bin")
bin_dir.mkdir(parents=True)
(bin_dir / "verdaccio").write_text("#!/usr/bin/env node\\n")
"""


@pytest.fixture
def fake_npm_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SHIPIT_CACHE_DIR": str(tmp_path / "cache"),
        "FAKE_NPM_CALLS": str(tmp_path / "calls"),
    }


def install(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shipit.sandbox.verdaccio", "--install"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_installs_run_npm_once(fake_npm_env: dict[str, str], tmp_path: Path):
    first, second = install(fake_npm_env), install(fake_npm_env)
    outputs = [p.communicate(timeout=60) for p in (first, second)]

    assert first.returncode == 0 and second.returncode == 0, outputs
    target = tmp_path / "cache" / "verdaccio"
    assert [out.strip() for out, _ in outputs] == [str(target)] * 2
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == ["install verdaccio@6 --no-audit --no-fund --loglevel=error"]
    assert (target / "node_modules/verdaccio/bin/verdaccio").is_file()
    assert json.loads((target / "package.json").read_text())["overrides"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        ".verdaccio.lock",
        "verdaccio",
    ]
    again = install(fake_npm_env)  # installed: npm is not called again
    assert again.communicate(timeout=60)[0].strip() == str(target)
    assert len((tmp_path / "calls").read_text().splitlines()) == 1


def test_failed_install_is_explained_and_leaves_nothing(
    fake_npm_env: dict[str, str], tmp_path: Path
) -> None:
    result = install({**fake_npm_env, "FAKE_NPM_FAIL": "1"})
    out, err = result.communicate(timeout=60)

    assert result.returncode == 1
    assert "could not install verdaccio" in err
    assert "ETARGET" in err
    assert "python -m shipit.sandbox.verdaccio --install" in err
    assert "Traceback" not in err
    assert out == ""
    leftovers = [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
