"""Binaries taken from parts (`release --parts`): the build step copies the part's file into
dist/ with its sha256 checked, verification reads its header here and reports the smoke run of
the machine that built it, and SHA256SUMS covers it like a local build."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest
from binhelp import VERSION, Built, example_source, make_ctx

from shipit import parts
from shipit.engine.step import Context, NullProgress, ProbeState
from shipit.errors import PartsRejected, PermanentError
from shipit.steps import binaries, checksums

TARGETS = ["x86_64-linux-gnu", "aarch64-macos"]


def _part(built: Built, target: str, directory: Path) -> parts.Part:
    """A part for ``target`` holding the session's zig build (archive = none)."""
    source = built.evidence[binaries.BUILD_PREFIX + target]["path"]
    name = Path(source).name
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, directory / name)
    data = (directory / name).read_bytes()
    manifest = parts.PartManifest(
        format=parts.FORMAT,
        shipit="0.1.0",
        project="hello",
        version=VERSION,
        tag=f"v{VERSION}",
        commit="0" * 40,
        target=target,
        files=[parts.PartFile(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())],
        build=parts.HowBuilt(
            command="zig cc",
            preset="zig",
            host="macos/aarch64",
            format="macho",
            archs=["aarch64"],
            smoke=f"hello {VERSION}",
            built_at="2026-01-01T00:00:00Z",
            duration_s=1.0,
            ci={"run_id": "77"},
        ),
    )
    parts.write(manifest, directory)
    return parts.Part(manifest, directory)


def _ctx(tmp_path: Path, part: parts.Part) -> Context:
    root = tmp_path / "publisher"
    root.mkdir(parents=True)
    shutil.copy(example_source(), root / "main.c")
    ctx = make_ctx(root, {"preset": "zig", "entry": "main.c", "targets": TARGETS})
    return dataclasses.replace(ctx, parts={part.target: part})


def test_a_part_replaces_the_build_of_its_target_only(zig_built: Built, tmp_path: Path) -> None:
    part = _part(zig_built, "aarch64-macos", tmp_path / "parts")
    ctx = _ctx(tmp_path, part)
    steps = {s.id: type(s).__name__ for s in binaries.build_steps(ctx)}
    assert steps == {
        "binaries:build:x86_64-linux-gnu": "BuildBinary",
        "binaries:build:aarch64-macos": "PartArtifact",
    }


def test_part_artifact_copies_checks_and_probes(zig_built: Built, tmp_path: Path) -> None:
    part = _part(zig_built, "aarch64-macos", tmp_path / "parts")
    ctx = _ctx(tmp_path, part)
    [step] = [s for s in binaries.build_steps(ctx) if s.id.endswith("aarch64-macos")]
    assert step.probe(ctx).state is ProbeState.TODO
    assert "from its part (built on macos/aarch64, CI run 77)" in step.describe(ctx)
    evidence = step.run(ctx, NullProgress())
    artifact = binaries.plan_build(ctx, "aarch64-macos").artifact
    assert artifact.read_bytes() == part.path_of(artifact.name).read_bytes()
    assert evidence["sha256"] == part.manifest.files[0].sha256
    assert evidence["part"]["ci"] == {"run_id": "77"}
    assert step.probe(ctx).state is ProbeState.ALREADY_DONE
    artifact.write_bytes(b"not the part")
    assert step.probe(ctx).state is ProbeState.TODO
    part.path_of(artifact.name).write_bytes(b"tampered after the check")
    with pytest.raises(PartsRejected):
        step.run(ctx, NullProgress())


def test_verify_reads_the_part_here_and_reports_its_smoke_run(
    zig_built: Built, tmp_path: Path
) -> None:
    part = _part(zig_built, "aarch64-macos", tmp_path / "parts")
    ctx = _ctx(tmp_path, part)
    [take] = [s for s in binaries.build_steps(ctx) if s.id.endswith("aarch64-macos")]
    recorded = {take.id: take.run(ctx, NullProgress())}
    ctx = dataclasses.replace(ctx, evidence_of=lambda i: recorded.get(i, {}))
    [verify] = [s for s in binaries.verify_steps(ctx) if s.id.endswith("aarch64-macos")]
    evidence = verify.run(ctx, NullProgress())
    assert (evidence["format"], evidence["archs"]) == ("macho", ["aarch64"])
    assert evidence["smoke"] == f"on the build machine (macos/aarch64): hello {VERSION}"
    assert evidence["sha256"] == part.manifest.files[0].sha256


def test_a_part_of_the_wrong_platform_fails_verification(zig_built: Built, tmp_path: Path) -> None:
    # the x86_64 Linux binary, declared as the part of aarch64-macos
    wrong = _part(zig_built, "x86_64-linux-gnu", tmp_path / "parts")
    name = binaries.plan_build(_ctx(tmp_path / "a", wrong), "aarch64-macos").artifact.name
    shutil.copy(wrong.path_of(wrong.manifest.files[0].name), wrong.directory / name)
    item = parts.PartFile(
        name=name, size=wrong.manifest.files[0].size, sha256=wrong.manifest.files[0].sha256
    )
    fake = parts.Part(
        wrong.manifest.model_copy(update={"target": "aarch64-macos", "files": [item]}),
        wrong.directory,
    )
    ctx = _ctx(tmp_path / "b", fake)
    [take] = [s for s in binaries.build_steps(ctx) if s.id.endswith("aarch64-macos")]
    take.run(ctx, NullProgress())
    [verify] = [s for s in binaries.verify_steps(ctx) if s.id.endswith("aarch64-macos")]
    with pytest.raises(PermanentError, match="wrong binary for target aarch64-macos"):
        verify.run(ctx, NullProgress())


def test_sha256sums_cover_parts_like_local_builds(zig_built: Built, tmp_path: Path) -> None:
    part = _part(zig_built, "aarch64-macos", tmp_path / "parts")
    ctx = _ctx(tmp_path, part)
    for step in binaries.build_steps(ctx):
        step.run(ctx, NullProgress())
    text, hashes = checksums.render(ctx)
    mac = binaries.plan_build(ctx, "aarch64-macos").artifact.name
    assert hashes[mac] == part.manifest.files[0].sha256
    assert f"{part.manifest.files[0].sha256}  {mac}\n" in text
    assert len(hashes) == 2
