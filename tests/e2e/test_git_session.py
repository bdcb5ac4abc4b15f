"""One git session per release: `shipit -v release` (checks included) asks git each question
once: the checks' reads are what the plan and the probes use, and the release commit and its
tag reach the remote in one push."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

from shipit.sandbox.git_remote import GitRepo

COMMAND = re.compile(r"shipit\.proc: \$ (?:\S*/)?git (\S+)(?: '?([-\w]+))?")


def test_a_release_reads_git_once_and_pushes_once(git_repo: GitRepo) -> None:
    git_repo.commit(
        "the project",
        {
            "package.json": json.dumps({"name": "acme-lib", "version": "1.0.0"}) + "\n",
            # a release publishes something (a bare tag is refused): here a command of the
            # user's, last, so that git stays the whole story
            "shipit.toml": "[npm]\nenabled = false\n\n"
            '[[commands]]\nid = "announce"\nrun = "true"\nafter = "github"\n',
        },
    )
    git_repo.git("tag", "-a", "v1.0.0", "-m", "Release v1.0.0")
    git_repo.push("main", "v1.0.0")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env["NO_COLOR"] = "1"
    argv = ["-C", str(git_repo.path), "-v", "release", "--yes", "--version", "1.1.0"]
    done = subprocess.run(
        [sys.executable, "-m", "shipit", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    # what a user sees on origin: the release commit on main and its annotated tag
    head = git_repo.head()
    assert git_repo.remote_head() == head
    assert git_repo.git("ls-remote", "origin", "refs/tags/v1.1.0^{}").split()[0] == head

    commands = Counter(" ".join(p for p in m.groups() if p) for m in COMMAND.finditer(done.stderr))
    once = [
        "rev-parse --show-toplevel",
        "remote get-url",
        "for-each-ref --format",
        "ls-remote --symref",
        "fetch --quiet",
        "push --porcelain",
        "tag -a",
    ]
    for command in once:
        assert commands[command] == 1, (command, sorted(commands.items()))
    # the work tree is read when the release is planned (its invariants), again once the
    # version is written, and a last time, fresh, by gate:release (a file edited while the
    # release ran must stop it before anything is visible)
    assert commands["status --porcelain"] == 3, commands
    assert commands["tag --list"] == 1, commands  # the release commit reaches the same tags
    # with ahead/behind counted after the fetch, the release commit (add, diff, commit, its
    # id) and the ancestry of the remote's branch, and the gate's fresh status: 18 (74 before
    # the snapshot, each fact read where it was needed)
    assert sum(commands.values()) <= 18, sorted(commands.items())
