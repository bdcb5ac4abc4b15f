"""Helpers shared by the binary tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from shipit.config import Config, Settings
from shipit.engine.step import Context, Evidence
from shipit.project.detect import detect
from shipit.steps import binaries

FIVE_TARGETS = (
    "x86_64-linux-gnu",
    "aarch64-linux-gnu",
    "x86_64-macos",
    "aarch64-macos",
    "x86_64-windows-gnu",
)
VERSION = "1.4.2"
REPO_ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"


def example_source() -> Path:
    """The example project's CLI when present, else this folder's fixture."""
    example = REPO_ROOT / "examples" / "hello" / "cli" / "main.c"
    return example if example.exists() else DATA / "main.c"


def make_ctx(
    root: Path,
    binaries_cfg: dict[str, Any],
    *,
    version: str = VERSION,
    extra: dict[str, Any] | None = None,
    evidence: dict[str, Evidence] | None = None,
    env: dict[str, str] | None = None,
) -> Context:
    data: dict[str, Any] = {"binaries": {"enabled": True, "name": "hello", **binaries_cfg}}
    data.update(extra or {})
    config = Config.model_validate(data)
    env = env or {}
    recorded = evidence if evidence is not None else {}
    return Context(
        root=root,
        config=config,
        settings=Settings.from_env(env, config),
        project=detect(root, config, env),
        version=version,
        tag=f"v{version}",
        commit="0" * 40,
        release_dir=root / ".shipit" / "releases" / f"v{version}",
        env=env,
        evidence_of=lambda step_id: recorded.get(step_id, {}),
    )


@dataclasses.dataclass
class Built:
    ctx: Context
    evidence: dict[str, Evidence]
    root: Path

    def binary(self, target: str) -> Path:
        return binaries.plan_build(self.ctx, target).binary
