"""The bundled example project is what the demo and the other tests expect it to be."""

from __future__ import annotations

import shutil
from pathlib import Path

from shipit.config import load
from shipit.project.detect import detect

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hello"


def test_example_is_detected_as_a_consistent_four_target_project(tmp_path: Path) -> None:
    root = tmp_path / "hello"
    shutil.copytree(EXAMPLE, root)
    loaded = load(root)
    assert loaded.path == root / "shipit.toml"
    project = detect(root, loaded.config, {})
    assert project.version == "0.1.0" and project.consistent
    assert [str(s.file) for s in project.sources] == ["deno.json", "package.json", "pyproject.toml"]
    enabled = {t.name: t.package for t in project.enabled_targets}
    assert enabled == {
        "npm": "@shipit-demo/hello",
        "jsr": "@shipit-demo/hello",
        "pypi": "shipit-demo-hello",
        "binaries": "hello",
    }
    binaries = loaded.config.binaries
    assert binaries.preset == "zig" and binaries.entry == "cli/main.c"
    assert binaries.targets == [
        "x86_64-linux-gnu",
        "aarch64-linux-gnu",
        "x86_64-macos",
        "aarch64-macos",
        "x86_64-windows-gnu",
    ]
    assert "## 0.1.0" in (root / "CHANGELOG.md").read_text()
    assert (root / "LICENSE").is_file() and (root / "mod.ts").is_file()
