"""[binaries] as real projects write it: on when it lists targets, deno compile's permissions
from the project's own compile task or `flags`, asset names that follow existing downloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipit.config import BinariesConfig, Config
from shipit.engine.step import make_context
from shipit.errors import PermanentError
from shipit.project.detect import detect
from shipit.steps.binaries import builds, command_argv, deno_compile_flags

TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"]


def _ctx(root: Path, binaries: BinariesConfig):  # type: ignore[no-untyped-def]
    config = Config(binaries=binaries)
    return make_context(
        root=root,
        config=config,
        project=detect(root, config, {}),
        version="1.1.0",
        commit="c" * 40,
        env={},
    )


def test_a_table_with_targets_is_on_unless_switched_off(tmp_path: Path) -> None:
    on = detect(tmp_path, Config(binaries=BinariesConfig(targets=TARGETS[:1])), {})
    assert on.targets["binaries"].enabled
    assert on.targets["binaries"].reason == "[binaries] lists targets (x86_64-unknown-linux-gnu)"
    off = detect(tmp_path, Config(binaries=BinariesConfig(targets=TARGETS, enabled=False)), {})
    assert not off.targets["binaries"].enabled
    assert off.targets["binaries"].reason == "[binaries] enabled = false in config"
    assert not detect(tmp_path, Config(), {}).targets["binaries"].enabled


def test_binaries_nothing_publishes_are_a_warning(tmp_path: Path) -> None:
    project = detect(tmp_path, Config(binaries=BinariesConfig(targets=TARGETS[:1])), {})
    assert len(project.warnings) == 1
    assert project.warnings[0].startswith(
        "binaries are built ([binaries] lists targets (x86_64-unknown-linux-gnu)) but nothing "
        "publishes them: the GitHub release is off"
    )


def test_deno_preset_takes_the_permissions_of_the_compile_task(tmp_path: Path) -> None:
    tasks = {"compile": "deno compile -A --unstable-kv --output dist/tool --include x main.ts"}
    (tmp_path / "deno.json").write_text(json.dumps({"tasks": tasks}))
    assert deno_compile_flags(tmp_path) == ["-A", "--unstable-kv"]
    ctx = _ctx(tmp_path, BinariesConfig(preset="deno", name="tool", targets=TARGETS[:1]))
    argv, _ = command_argv(ctx, builds(ctx)[0])
    assert argv[:4] == ["deno", "compile", "-A", "--unstable-kv"]
    assert argv[4:6] == ["--target", "x86_64-unknown-linux-gnu"] and argv[-1] == "main.ts"


def test_flags_in_the_configuration_win(tmp_path: Path) -> None:
    (tmp_path / "deno.json").write_text(json.dumps({"tasks": {"c": "deno compile -A m.ts"}}))
    flags = ["--allow-net", "--allow-read=."]
    ctx = _ctx(tmp_path, BinariesConfig(preset="deno", targets=TARGETS[:1], flags=flags))
    argv, _ = command_argv(ctx, builds(ctx)[0])
    assert argv[2:4] == flags and "-A" not in argv


def test_asset_names_per_target_follow_existing_download_names(tmp_path: Path) -> None:
    names = {
        "x86_64-unknown-linux-gnu": "tool-linux-x64",
        "aarch64-apple-darwin": "tool-macos-arm64",
        "x86_64-pc-windows-msvc": "tool-win-x64.exe",
    }
    ctx = _ctx(tmp_path, BinariesConfig(name="tool", targets=TARGETS, asset_names=names))
    assert [b.artifact.name for b in builds(ctx)] == list(names.values())
    template = "{name}-{os}-{arch}{ext}"
    ctx = _ctx(tmp_path, BinariesConfig(name="tool", targets=TARGETS, asset_names=template))
    assert [b.artifact.name for b in builds(ctx)] == [
        "tool-linux-x86_64",
        "tool-macos-aarch64",
        "tool-windows-x86_64.exe",
    ]


def test_a_target_the_mapping_forgets_or_two_equal_names_are_refused(tmp_path: Path) -> None:
    ctx = _ctx(
        tmp_path,
        BinariesConfig(targets=TARGETS[:2], asset_names={TARGETS[0]: "tool"}),
    )
    with pytest.raises(PermanentError, match="asset-names has no name for the target"):
        builds(ctx)
    same = {TARGETS[0]: "tool", TARGETS[1]: "tool"}
    ctx = _ctx(tmp_path, BinariesConfig(targets=TARGETS[:2], asset_names=same))
    with pytest.raises(PermanentError, match="two targets would make the same file tool"):
        builds(ctx)
