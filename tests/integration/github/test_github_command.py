"""`shipit github` as a user runs it: builds zig binaries, then draft -> assets -> publish."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

from ghhelp import assets_of, releases_for

from shipit.sandbox.git_remote import GitRepo
from shipit.sandbox.servers import TestServer

MAIN_C = (Path(__file__).parents[2] / "unit" / "binaries" / "data" / "main.c").read_text()

TOML = """\
[npm]
enabled = false

[github]
enabled = true

[binaries]
enabled = true
name = "hello"
preset = "zig"
entry = "main.c"
targets = ["x86_64-linux-gnu", "aarch64-macos"]
archive = "tar.gz"
"""


def _shipit(repo: GitRepo, server: TestServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.pop("CI", None)
    env.update(
        NO_COLOR="1",
        GITHUB_API_URL=server.url,
        GITHUB_TOKEN=server.token,
        GITHUB_REPOSITORY=server.repo or "",
    )
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def test_shipit_github_builds_and_publishes(
    git_repo: GitRepo, github_server: TestServer, tmp_path: Path
) -> None:
    version = f"3.{uuid.uuid4().int % 100000}.0"
    git_repo.commit(
        "add project",
        {
            "package.json": f'{{\n  "name": "hello",\n  "version": "{version}"\n}}\n',
            "shipit.toml": TOML,
            "main.c": MAIN_C,
            "CHANGELOG.md": f"# Changelog\n\n## v{version}\n\n- first binaries\n",
        },
    )
    git_repo.push()
    result = _shipit(git_repo, github_server, "github", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert github_server.token not in result.stdout + result.stderr
    [rel] = releases_for(github_server, f"v{version}")
    assert rel["draft"] is False and rel["body"] == "- first binaries"
    assets = {a["name"]: a for a in assets_of(github_server, rel["id"])}
    names = [f"hello-{version}-x86_64-linux-gnu.tar.gz", f"hello-{version}-aarch64-macos.tar.gz"]
    assert sorted(assets) == sorted([*names, "SHA256SUMS"])
    dist = git_repo.path / ".shipit" / "releases" / f"v{version}" / "dist"
    for name in [*names, "SHA256SUMS"]:
        digest = hashlib.sha256((dist / name).read_bytes()).hexdigest()
        assert assets[name]["digest"] == f"sha256:{digest}"
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True)
    assert check.returncode == 0
    with tarfile.open(dist / names[0]) as tar:
        assert tar.getnames() == ["hello"]
    # running it again finds everything done and uploads nothing twice
    again = _shipit(git_repo, github_server, "github", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(assets_of(github_server, rel["id"])) == 3
