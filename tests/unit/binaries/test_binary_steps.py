"""binaries:build / binaries:verify with real zig builds: five targets, wrong arch, smoke runs."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from binhelp import FIVE_TARGETS, VERSION, Built, make_ctx

from shipit.engine.step import NullProgress, ProbeState
from shipit.errors import BinaryFormatError, PermanentError
from shipit.steps import binaries

ZIG = "{python} -m ziglang cc -target {target} -O2 '-DVERSION=\"{version}\"' main.c -o {output}"


@pytest.mark.parametrize("target", FIVE_TARGETS)
def test_five_targets_pass_verification(zig_built: Built, target: str) -> None:
    step = binaries.VerifyBinary(binaries.plan_build(zig_built.ctx, target))
    evidence = step.run(zig_built.ctx, NullProgress())
    assert evidence["target"] == target
    assert evidence["sha256"] == zig_built.evidence[binaries.BUILD_PREFIX + target]["sha256"]
    if target == "x86_64-linux-gnu":
        assert evidence["smoke"] == f"hello {VERSION}"
    else:
        assert evidence["smoke"].startswith("skipped")


def test_artifact_names_follow_the_template(zig_built: Built) -> None:
    names = sorted(p.name for p in binaries.artifacts(zig_built.ctx))
    assert names == [
        f"hello-{VERSION}-aarch64-linux-gnu",
        f"hello-{VERSION}-aarch64-macos",
        f"hello-{VERSION}-x86_64-linux-gnu",
        f"hello-{VERSION}-x86_64-macos",
        f"hello-{VERSION}-x86_64-windows-gnu.exe",
    ]
    for path in binaries.artifacts(zig_built.ctx):
        assert path.exists()
    for target in FIVE_TARGETS:
        assert (zig_built.ctx.log_dir / f"build-{target}.log").read_text().startswith("$ ")


def test_build_probe_is_done_with_recorded_hash(zig_built: Built) -> None:
    step = binaries.BuildBinary(binaries.plan_build(zig_built.ctx, "aarch64-macos"))
    probe = step.probe(zig_built.ctx)
    assert probe.state is ProbeState.ALREADY_DONE
    assert probe.evidence["sha256"] == zig_built.evidence[step.id]["sha256"]


def _project(tmp_path: Path, source: str | None = None) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    if source is None:
        shutil.copy(Path(__file__).parent / "data" / "main.c", root / "main.c")
    else:
        (root / "main.c").write_text(source)
    return root


def test_wrong_architecture_is_caught_and_named(tmp_path: Path) -> None:
    root = _project(tmp_path)
    wrong = ZIG.replace("-target {target}", "-target aarch64-linux-gnu")
    ctx = make_ctx(root, {"command": wrong, "targets": ["x86_64-linux-gnu"]})
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    binaries.BuildBinary(build).run(ctx, NullProgress())
    with pytest.raises(PermanentError) as err:
        binaries.VerifyBinary(build).run(ctx, NullProgress())
    assert "x86_64-linux-gnu" in err.value.what
    assert "aarch64" in (err.value.why or "")
    assert "x86_64" in (err.value.why or "")


def test_empty_smoke_output_fails_naming_the_target(tmp_path: Path) -> None:
    root = _project(tmp_path, "int main(void) { return 0; }\n")
    ctx = make_ctx(root, {"command": ZIG, "targets": ["x86_64-linux-gnu"]})
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    binaries.BuildBinary(build).run(ctx, NullProgress())
    with pytest.raises(PermanentError) as err:
        binaries.VerifyBinary(build).run(ctx, NullProgress())
    assert "x86_64-linux-gnu" in err.value.what and "printed nothing" in err.value.what


def test_wrong_version_in_smoke_output_fails(tmp_path: Path) -> None:
    root = _project(tmp_path)
    fixed = ZIG.replace("{version}", "0.9.0")
    ctx = make_ctx(root, {"command": fixed, "targets": ["x86_64-linux-gnu"]})
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    binaries.BuildBinary(build).run(ctx, NullProgress())
    with pytest.raises(PermanentError) as err:
        binaries.VerifyBinary(build).run(ctx, NullProgress())
    assert "another version" in err.value.what
    assert "0.9.0" in (err.value.why or "") and VERSION in (err.value.why or "")


def test_failed_build_names_target_and_log(tmp_path: Path) -> None:
    root = _project(tmp_path, "int main(void) { this is not C }\n")
    ctx = make_ctx(root, {"command": ZIG, "targets": ["aarch64-linux-gnu"]})
    build = binaries.plan_build(ctx, "aarch64-linux-gnu")
    with pytest.raises(PermanentError) as err:
        binaries.BuildBinary(build).run(ctx, NullProgress())
    assert "aarch64-linux-gnu" in err.value.what
    log = ctx.log_dir / "build-aarch64-linux-gnu.log"
    assert str(log) in (err.value.hint or "")
    assert "error" in log.read_text()
    assert not build.artifact.exists()


def test_build_timeout_is_reported(tmp_path: Path) -> None:
    root = _project(tmp_path)
    ctx = make_ctx(root, {"command": "sleep 5", "targets": ["x86_64-linux-gnu"], "timeout": 0.5})
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    with pytest.raises(PermanentError) as err:
        binaries.BuildBinary(build).run(ctx, NullProgress())
    assert "timed out" in (err.value.why or "")


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archives_are_deterministic_and_hold_the_binary(tmp_path: Path, kind: str) -> None:
    root = _project(tmp_path)
    target = "x86_64-windows-gnu" if kind == "zip" else "x86_64-linux-gnu"
    ctx = make_ctx(root, {"command": ZIG, "targets": [target], "archive": kind})
    build = binaries.plan_build(ctx, target)
    assert build.artifact.name == f"hello-{VERSION}-{target}.{kind}"
    first = binaries.BuildBinary(build).run(ctx, NullProgress())
    build.artifact.unlink()
    second = binaries.BuildBinary(build).run(ctx, NullProgress())
    assert first["sha256"] == second["sha256"]
    binaries.VerifyBinary(build).run(ctx, NullProgress())
    member = "hello.exe" if kind == "zip" else "hello"
    if kind == "zip":
        with zipfile.ZipFile(build.artifact) as zf:
            assert zf.namelist() == [member]
            assert zf.read(member)[:2] == b"MZ"
    else:
        with tarfile.open(build.artifact) as tar:
            info = tar.getmember(member)
            assert info.mode == 0o755 and info.mtime == 0
            out = tmp_path / "x"
            tar.extractall(out, filter="data")
        assert (out / member).read_bytes()[:4] == b"\x7fELF"


def test_go_preset_sets_goos_goarch(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"preset": "go", "targets": ["darwin/arm64"]})
    argv, env = binaries.command_argv(ctx, binaries.plan_build(ctx, "darwin/arm64"))
    assert env["GOOS"] == "darwin" and env["GOARCH"] == "arm64"
    assert argv[:2] == ["go", "build"] and argv[-1] == "."


def test_cargo_preset_copies_from_target_dir(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"preset": "cargo", "targets": ["x86_64-pc-windows-msvc"]})
    build = binaries.plan_build(ctx, "x86_64-pc-windows-msvc")
    argv, _ = binaries.command_argv(ctx, build)
    assert argv == ["cargo", "build", "--release", "--locked", "--target", "x86_64-pc-windows-msvc"]
    assert binaries.built_path(ctx, build) == (
        tmp_path / "target" / "x86_64-pc-windows-msvc" / "release" / "hello.exe"
    )


def test_disabled_binaries_have_no_steps(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"enabled": False, "targets": ["x86_64-linux-gnu"]})
    assert binaries.build_steps(ctx) == [] and binaries.verify_steps(ctx) == []


def test_build_command_does_not_see_publish_tokens(tmp_path: Path) -> None:
    root = _project(tmp_path)
    command = "/bin/sh -c 'printenv GITHUB_TOKEN NPM_TOKEN > {output}.tok; cp /bin/true {output}'"
    secrets = {"GITHUB_TOKEN": "ghp_buildmustnotsee1234", "NPM_TOKEN": "npm_buildmustnotsee"}
    ctx = make_ctx(root, {"command": command, "targets": ["x86_64-linux-gnu"]}, env=secrets)
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    binaries.BuildBinary(build).run(ctx, NullProgress())
    assert build.artifact.exists()
    assert Path(f"{build.binary}.tok").read_text() == ""


def test_a_file_that_is_no_executable_is_named(tmp_path: Path) -> None:
    root = _project(tmp_path)
    command = "/bin/sh -c 'printf \"not a program\" > {output}'"
    ctx = make_ctx(root, {"command": command, "targets": ["x86_64-linux-gnu"]})
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    binaries.BuildBinary(build).run(ctx, NullProgress())
    with pytest.raises(BinaryFormatError) as err:
        binaries.VerifyBinary(build).run(ctx, NullProgress())
    assert err.value.what == "hello is not an executable shipit recognises"
    assert "expected ELF, Mach-O or PE/COFF" in (err.value.why or "")


def test_an_executable_the_system_cannot_start_is_named(tmp_path: Path) -> None:
    """A right-looking ELF header on a truncated file: exec fails (ENOEXEC), reported as such."""
    root = _project(tmp_path)
    command = "/bin/sh -c 'head -c 64 /bin/true > {output} && chmod +x {output}'"
    ctx = make_ctx(root, {"command": command, "targets": ["x86_64-linux-gnu"]})
    build = binaries.plan_build(ctx, "x86_64-linux-gnu")
    binaries.BuildBinary(build).run(ctx, NullProgress())
    with pytest.raises(PermanentError) as err:
        binaries.VerifyBinary(build).run(ctx, NullProgress())
    assert err.value.what == "the binary for x86_64-linux-gnu does not start"
    assert "format" in (err.value.why or "").lower()
