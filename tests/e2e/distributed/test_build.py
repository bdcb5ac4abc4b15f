"""`shipit build`: a build job's command. It builds and verifies the chosen targets from the
checkout into a directory with one part manifest each, and changes nothing else: no ref, no
tag, no journal, nothing pushed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from playhelp import Origin, checkout, job_env, make_origin, shipit

from shipit import hashing, parts
from shipit.sandbox import git_remote


def _origin(tmp_path: Path) -> Origin:
    return make_origin(
        tmp_path / "origin", version="1.4.0", npm_name=f"hello-{secrets.token_hex(4)}"
    )


def _refs(path: Path) -> str:
    return git_remote.git("for-each-ref", "--format=%(refname) %(objectname)", cwd=path)


def test_build_writes_verified_parts_and_touches_nothing_else(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    job = checkout(origin, tmp_path / "job")
    refs_before, remote_before = _refs(job), _refs(origin.remote)
    env = job_env({"RUNNER_NAME": "runner-7"}, job="build")
    result = shipit(job, env, "build", "--target", "x86_64-linux-gnu", "--out", "shipit-parts")
    assert result.returncode == 0, result.stderr
    out = job / "shipit-parts"
    assert sorted(p.name for p in out.iterdir()) == [
        ".gitignore",
        "hello-1.4.0-x86_64-linux-gnu.tar.gz",
        "x86_64-linux-gnu.part.json",
    ]
    manifest = parts.read(out / "x86_64-linux-gnu.part.json")
    assert (manifest.version, manifest.tag, manifest.commit) == ("1.4.0", "v1.4.0", origin.commit)
    assert manifest.target == "x86_64-linux-gnu" and manifest.project == "hello"
    [item] = manifest.files
    archive = out / item.name
    assert item.sha256 == hashing.sha256_file(archive) and item.size == archive.stat().st_size
    assert manifest.build.preset == "zig" and "-target x86_64-linux-gnu" in manifest.build.command
    assert (manifest.build.format, manifest.build.archs) == ("elf", ["x86_64"])
    assert manifest.build.smoke == "hello 1.4.0"  # this machine runs it: the smoke run happened
    assert manifest.build.ci == {
        "run_id": "4242",
        "run_attempt": "1",
        "job": "build",
        "runner": "runner-7",
    }
    assert "x86_64-linux-gnu: hello-1.4.0-x86_64-linux-gnu.tar.gz" in result.stderr
    # nothing visible and nothing of a release: same refs here and on origin, no tag, no journal
    assert _refs(job) == refs_before and _refs(origin.remote) == remote_before
    assert origin.tags() == []
    assert not (job / ".shipit" / "releases").exists()
    assert git_remote.git("status", "--porcelain", cwd=job) == ""  # parts are never committed
    assert (out / ".gitignore").read_text().endswith("*\n")


def test_all_local_builds_every_target_with_json_output(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    job = checkout(origin, tmp_path / "job")
    out = tmp_path / "artifacts"  # outside the checkout
    result = shipit(
        job, job_env({}, job="build"), "--json", "build", "--all-local", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["failed"] == []
    assert sorted(p["target"] for p in doc["parts"]) == ["aarch64-macos", "x86_64-linux-gnu"]
    mac = parts.read(out / "aarch64-macos.part.json")
    assert (mac.build.format, mac.build.archs) == ("macho", ["aarch64"])
    assert mac.build.smoke == "skipped: does not run on this machine"


def test_one_failing_target_fails_the_job_and_keeps_the_others(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    seed = checkout(origin, tmp_path / "seed")
    toml = (
        (seed / "shipit.toml")
        .read_text()
        .replace(
            'preset = "zig"',
            'preset = "zig"\ncommand = "sh build.sh {target} {output} {version} {python}"',
        )
    )
    (seed / "shipit.toml").write_text(toml)
    (seed / "build.sh").write_text(
        'if [ "$1" = aarch64-macos ]; then echo "ld: cannot find -lSystem" >&2; exit 1; fi\n'
        '"$4" -m ziglang cc -target "$1" -O2 "-DVERSION=\\"$3\\"" cli/main.c -o "$2"\n'
    )
    git_remote.git("add", "-A", cwd=seed)
    git_remote.git("commit", "--quiet", "-m", "a build script", cwd=seed)
    git_remote.git("push", "--quiet", "origin", "main", cwd=seed)
    job = checkout(origin, tmp_path / "job")
    result = shipit(job, job_env({}, job="build"), "build", "--all-local", "--out", "parts")
    assert result.returncode == 1
    assert "building the binary for aarch64-macos failed" in result.stderr
    assert "ld: cannot find -lSystem" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (job / "parts").glob("*.part.json")) == [
        "x86_64-linux-gnu.part.json"
    ]


def test_refusals_say_what_and_what_next(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    job = checkout(origin, tmp_path / "job")
    env = job_env({}, job="build")
    unknown = shipit(job, env, "build", "--target", "x86_64-windows-gnu", "--out", "p")
    assert unknown.returncode == 2
    assert "not a configured target: x86_64-windows-gnu" in unknown.stderr
    assert "x86_64-linux-gnu, aarch64-macos" in unknown.stderr
    neither = shipit(job, env, "build", "--out", "p")
    assert (
        neither.returncode == 2 and "pass --target T (repeatable) or --all-local" in neither.stderr
    )
    (job / "cli" / "main.c").write_text("int main(void) { return 1; }\n")
    dirty = shipit(job, env, "build", "--all-local", "--out", "p")
    assert dirty.returncode == 1
    assert "uncommitted change(s): cli/main.c" in dirty.stderr
    assert "a part says which commit it was built from" in dirty.stderr
    assert not (job / "p").exists()
    for result in (unknown, neither, dirty):
        assert "Traceback" not in result.stderr
