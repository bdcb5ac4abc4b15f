"""Part manifests: the committed schema is current, bad manifests are named precisely, and
every reason not to release a set of parts is found (and each says what to do)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from shipit import parts
from shipit.errors import PartInvalid, PartsRejected

ROOT = Path(__file__).resolve().parents[3]
COMMIT = "a" * 40
OTHER = "b" * 40
NAMES = {
    "x86_64-linux-gnu": "hello-1.2.0-x86_64-linux-gnu.tar.gz",
    "aarch64-macos": "hello-1.2.0-aarch64-macos.tar.gz",
}


def make_part(
    directory: Path,
    target: str,
    *,
    commit: str = COMMIT,
    version: str = "1.2.0",
    content: bytes | None = None,
) -> Path:
    name = NAMES.get(target, f"hello-{version}-{target}.tar.gz").replace("1.2.0", version)
    data = content if content is not None else f"binary of {target}".encode()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)
    manifest = parts.PartManifest(
        format=parts.FORMAT,
        shipit="0.1.0",
        project="hello",
        version=version,
        tag=f"v{version}",
        commit=commit,
        target=target,
        files=[parts.PartFile(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())],
        build=parts.HowBuilt(
            command="zig cc",
            preset="zig",
            host="linux/x86_64",
            format="elf",
            archs=["x86_64"],
            smoke="hello 1.2.0",
            built_at="2026-01-01T00:00:00Z",
            duration_s=0.5,
        ),
    )
    return parts.write(manifest, directory)


def expected(**kw: object) -> parts.Expected:
    values: dict[str, object] = {
        "version": "1.2.0",
        "tag": "v1.2.0",
        "commit": COMMIT,
        "names": NAMES,
    }
    values.update(kw)
    return parts.Expected(**values)  # type: ignore[arg-type]


def test_schema_snapshot_is_current() -> None:
    committed = json.loads((ROOT / parts.SCHEMA_PATH).read_text())
    assert committed == parts.schema(), (
        "the part manifest changed: run `python -m shipit.parts --schema > "
        "docs/schemas/part-manifest.schema.json` and review the diff (it is a contract)"
    )
    assert set(committed["required"]) == {
        "format",
        "shipit",
        "project",
        "version",
        "tag",
        "commit",
        "target",
        "files",
        "build",
    }


def test_a_good_set_of_parts_has_no_problem(tmp_path: Path) -> None:
    make_part(tmp_path / "a", "x86_64-linux-gnu")
    make_part(tmp_path / "b", "aarch64-macos")
    found = parts.collect([tmp_path])  # one sub-directory per artifact, as unmerged downloads
    assert sorted(found) == sorted(NAMES)
    assert parts.problems(found, expected()) == []


def test_every_problem_is_found_at_once(tmp_path: Path) -> None:
    make_part(tmp_path, "x86_64-linux-gnu", commit=OTHER)
    make_part(tmp_path, "aarch64-macos")
    (tmp_path / NAMES["aarch64-macos"]).write_bytes(b"tampered")
    make_part(tmp_path, "riscv64-linux-gnu")
    problems = parts.problems(parts.collect([tmp_path]), expected())
    whats = {(p.target, p.what.split(":")[0].split(",")[0]) for p in problems}
    assert ("x86_64-linux-gnu", f"built from commit {OTHER[:12]}") in whats
    assert ("aarch64-macos", "hello-1.2.0-aarch64-macos.tar.gz differs from its manifest") in whats
    assert any(p.target == "riscv64-linux-gnu" and "does not build" in p.what for p in problems)
    error = parts.rejected(problems)
    assert error.what == "the parts cannot be released: 3 problem(s); nothing was published"
    assert error.code == "parts-rejected"
    assert "re-run the build job of x86_64-linux-gnu" in (error.why or "")


def test_missing_part_other_version_and_missing_file(tmp_path: Path) -> None:
    make_part(tmp_path, "x86_64-linux-gnu", version="1.1.0")
    problems = parts.problems(parts.collect([tmp_path]), expected())
    texts = [f"{p.target}: {p.what} / {p.hint}" for p in problems]
    assert any(
        t.startswith(
            "aarch64-macos: no part was given for this target / re-run its build job, "
            "or build it: shipit build --target aarch64-macos"
        )
        for t in texts
    ), texts
    assert any("built for v1.1.0 (version 1.1.0), but the release is v1.2.0" in t for t in texts)
    assert any("but the configuration names the file hello-1.2.0-x86_64" in t for t in texts)
    (tmp_path / "hello-1.1.0-x86_64-linux-gnu.tar.gz").unlink()
    problems = parts.problems(parts.collect([tmp_path]), expected())
    assert any("is missing from" in p.what for p in problems)


def test_a_build_other_than_the_recorded_one_is_refused(tmp_path: Path) -> None:
    make_part(tmp_path, "x86_64-linux-gnu")
    make_part(tmp_path, "aarch64-macos")
    recorded = {"x86_64-linux-gnu": "c" * 64}
    problems = parts.problems(parts.collect([tmp_path]), expected(recorded=recorded.get))
    [p] = problems
    assert p.target == "x86_64-linux-gnu"
    assert "another build than the one this release started with" in p.what
    assert "shipit rollback" in p.hint


def test_two_different_parts_for_one_target_are_refused(tmp_path: Path) -> None:
    make_part(tmp_path / "one", "x86_64-linux-gnu")
    make_part(tmp_path / "two", "x86_64-linux-gnu", content=b"another build")
    with pytest.raises(PartsRejected) as info:
        parts.collect([tmp_path])
    assert "two different parts" in (info.value.why or "")
    make_part(tmp_path / "two", "x86_64-linux-gnu")  # the same part twice is fine
    assert list(parts.collect([tmp_path])) == ["x86_64-linux-gnu"]


def test_bad_manifests_are_named_with_the_field(tmp_path: Path) -> None:
    path = make_part(tmp_path, "x86_64-linux-gnu")
    data = json.loads(path.read_text())
    del data["commit"]
    data["files"][0]["sha256"] = "nothex"
    path.write_text(json.dumps(data))
    with pytest.raises(PartInvalid) as info:
        parts.collect([tmp_path])
    assert info.value.what == f"{path} is not a valid part manifest"
    assert "commit: Field required" in (info.value.why or "")
    assert "files.0.sha256" in (info.value.why or "")
    path.write_text("{not json")
    with pytest.raises(PartInvalid, match="is not a part manifest"):
        parts.read(path)
    path.write_text(json.dumps({**data, "format": "shipit-part/9", "shipit": "9.0"}))
    with pytest.raises(PartInvalid) as info:
        parts.read(path)
    assert "another format" in info.value.what and "shipit 9.0" in (info.value.why or "")


def test_missing_directory_says_how_to_fill_it(tmp_path: Path) -> None:
    with pytest.raises(PartsRejected) as info:
        parts.collect([tmp_path / "nowhere"])
    assert "shipit build --all-local --out" in (info.value.hint or "")


def test_copy_verified_refuses_a_changed_file(tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"abc")
    dest = tmp_path / "dist" / "a.bin"
    parts.copy_verified(src, dest, hashlib.sha256(b"abc").hexdigest())
    assert dest.read_bytes() == b"abc"
    with pytest.raises(PartsRejected):
        parts.copy_verified(src, tmp_path / "dist" / "b.bin", "0" * 64)
    assert not (tmp_path / "dist" / "b.bin").exists()


def test_ci_run_keeps_ids_never_tokens() -> None:
    env = {
        "GITHUB_RUN_ID": "42",
        "GITHUB_JOB": "build",
        "GITHUB_TOKEN": "ghs_secret",
        "RUNNER_NAME": "GitHub Actions 7",
    }
    assert parts.ci_run(env) == {"run_id": "42", "job": "build", "runner": "GitHub Actions 7"}
