"""gate:release scans what the release built (the npm tarball, the sdist and wheel, binary
archives) with the secrets check before anything is visible; --skip-checks and
[checks.secrets] enabled = false leave the scan out, as they leave the check out."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from shipit.config import Config
from shipit.engine.step import Context, make_context
from shipit.project.detect import detect
from shipit.steps import gate

# a made-up AWS key of the documented shape (not a real credential)
AWS = "AKIA" + "Z7QX3VN5TW2PLK4H"  # pragma: allowlist secret


def _context(root: Path, tarball_files: dict[str, bytes], **kwargs: object) -> Context:
    (root / "package.json").write_text(json.dumps({"name": "acme-lib", "version": "1.0.0"}))
    config = Config.model_validate(kwargs.pop("config", {}))
    ctx = make_context(
        root=root,
        config=config,
        project=detect(root, config, {}),
        version="1.0.0",
        commit="0" * 40,
        env={},
        **kwargs,  # type: ignore[arg-type]
    )
    ctx.dist_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(ctx.dist_dir / "acme-lib-1.0.0.tgz", "w:gz") as tf:
        for name, data in tarball_files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return ctx


def test_a_secret_in_the_built_tarball_stops_the_gate(tmp_path: Path) -> None:
    ctx = _context(
        tmp_path,
        {
            "package.json": b"{}",
            "index.js": b"module.exports = 1;\n",
            ".env": f"K={AWS}\n".encode(),
        },
    )
    assert gate.built_files(ctx) == {"npm": [ctx.dist_dir / "acme-lib-1.0.0.tgz"]}
    problems, scanned = gate.secret_problems(ctx)
    assert scanned == ["acme-lib-1.0.0.tgz"]
    assert any(
        "acme-lib-1.0.0.tgz!package/.env is an environment file" in p.what
        and "published to npm" in p.what
        for p in problems
    ), problems
    assert all(AWS not in p.what + p.hint for p in problems)  # never the secret itself


@pytest.mark.parametrize(
    "kwargs", [{"skip_checks": True}, {"config": {"checks": {"secrets": {"enabled": False}}}}]
)
def test_the_scan_is_a_quality_check(tmp_path: Path, kwargs: dict[str, object]) -> None:
    ctx = _context(tmp_path, {".env": f"K={AWS}\n".encode()}, **kwargs)
    assert gate.secret_problems(ctx) == ([], [])


def test_a_clean_tarball_passes(tmp_path: Path) -> None:
    ctx = _context(tmp_path, {"package.json": b"{}", "index.js": b"module.exports = 1;\n"})
    assert gate.secret_problems(ctx) == ([], ["acme-lib-1.0.0.tgz"])
