"""The workflow generator's pure parts: tag filters, runners per target, drift in words."""

from __future__ import annotations

import re

import pytest

from shipit import release_workflow as rw
from shipit.workflow_actions import ALL


@pytest.mark.parametrize(
    ("tag_format", "pattern"),
    [
        ("v{version}", "v[0-9]+.[0-9]+.[0-9]+*"),
        ("{version}", "[0-9]+.[0-9]+.[0-9]+*"),
        ("hello@{version}", "hello@[0-9]+.[0-9]+.[0-9]+*"),
        ("release/{version}", "release/[0-9]+.[0-9]+.[0-9]+*"),
    ],
)
def test_tag_pattern_follows_the_tag_format(tag_format: str, pattern: str) -> None:
    assert rw.tag_pattern(tag_format) == pattern


@pytest.mark.parametrize(
    ("target", "runner", "native"),
    [
        ("x86_64-linux-gnu", "ubuntu-24.04", True),
        ("aarch64-unknown-linux-gnu", "ubuntu-24.04-arm", True),
        ("aarch64-apple-darwin", "macos-15", True),
        ("darwin/amd64", "macos-15-intel", True),
        ("universal-apple-darwin", "macos-15", True),
        ("x86_64-pc-windows-msvc", "windows-2025", True),
        ("windows/arm64", "windows-11-arm", True),
        ("x86_64-freebsd", "ubuntu-24.04", False),
        ("riscv64gc-unknown-linux-gnu", "ubuntu-24.04", False),
    ],
)
def test_each_target_gets_a_native_runner_when_github_has_one(
    target: str, runner: str, native: bool
) -> None:
    assert rw.runner_for(target, {}) == (runner, native)


def test_configured_runner_wins() -> None:
    assert rw.runner_for("x86_64-freebsd", {"x86_64-freebsd": "self-hosted"}) == (
        "self-hosted",
        True,
    )


def test_safe_name_is_an_artifact_name() -> None:
    assert rw.safe_name("linux/amd64") == "linux-amd64"
    assert rw.safe_name("x86_64-pc-windows-msvc") == "x86_64-pc-windows-msvc"


def test_differences_in_words() -> None:
    node = {"version": "24", "version_file": "", "install": "", "manager": "npm"}
    old = {"builds": [["a", "r1"], ["b", "r2"]], "shipit": "0.1.0", "npm": True, "node": None}
    new = {
        "builds": [["a", "r9"], ["c", "r3"]],
        "shipit": "0.2.0",
        "npm": False,
        "node": node,
        "deno": None,
    }
    assert rw.differences(old, new) == [
        "target a: runner r1 -> r9",
        "target c is configured but has no build job (runner r3)",
        "target b has a build job but is no longer configured",
        "shipit version: 0.1.0 -> 0.2.0",
        "npm publishing: on -> off",
        "Node.js set-up: none -> version 24, manager npm",
    ]
    assert rw.differences(new, new) == []
    locked = {**node, "version": "", "version_file": ".nvmrc", "install": "npm ci"}
    assert rw.differences({"node": node}, {"node": locked}) == [
        "Node.js set-up, install: none -> npm ci",
        "Node.js set-up, version: 24 -> none",
        "Node.js set-up, version file: none -> .nvmrc",
    ]


def test_recorded_inputs_round_trip() -> None:
    assert rw.recorded_inputs("name: x\n") is None
    assert rw.recorded_inputs(rw.INPUTS_MARK + "{not json\n") is None
    assert rw.recorded_inputs(f'# a\n{rw.INPUTS_MARK}{{"shipit": "1"}}\nname: x\n') == {
        "shipit": "1"
    }


def test_every_action_is_pinned_to_a_full_commit_sha() -> None:
    assert len(ALL) >= 9
    for action in ALL:
        assert re.fullmatch(r"[0-9a-f]{40}", action.sha), action
        assert re.fullmatch(r"v\d+\.\d+\.\d+", action.version), action
        assert action.uses() == f"{action.repo}@{action.sha} # {action.version}"
    assert len({a.repo for a in ALL}) == len(ALL)  # one pinned release per action
    # the workflow module names every one of them
    assert {v for v in vars(rw).values() if isinstance(v, rw.Action)} == set(ALL)
