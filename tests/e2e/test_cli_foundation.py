"""The `shipit` console script as a user runs it: help, global options, exit codes,
configuration errors, `shipit version`, and tokens never shown."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SHIPIT = str(Path(sys.executable).parent / "shipit")
COMMANDS = [
    "check",
    "plan",
    "release",
    "resume",
    "rollback",
    "status",
    "rehearse",
    "version",
    "schema",
]
TOKENS = {
    "NPM_TOKEN": "npm_SECRETnpmTOKEN4f2a9b7c",
    "JSR_TOKEN": "jsrSECRETtoken7d1e0c3b",
    "PYPI_TOKEN": "pypi-SECRETpypiAgEIcHlwaS5vcmc",
    "GITHUB_TOKEN": "ghp_SECRETgithubToken0123456789ab",
}
ANSI_COLOR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def shipit(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    full = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    for name, value in list(full.items()):
        if value == "":
            del full[name]
    proc = subprocess.run(
        [SHIPIT, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


DENO = (
    '{\n  // the JSR package\n  "name": "@acme/hello",\n  "version": "1.0.0",\n'
    '  "exports": "./mod.ts"\n}\n'
)
PKG = (
    '{\n  "name": "@acme/hello",\n  "version": "0.9.0",\n  "files": ["index.js"],\n'
    '  "license": "MIT"\n}\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository whose deno.json (1.0.0) and package.json (0.9.0) disagree."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "deno.json").write_text(DENO)
    (root / "package.json").write_text(PKG)
    (root / "mod.ts").write_text("export const x = 1;\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture(scope="module")
def help_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    r = shipit("--help", cwd=tmp_path_factory.mktemp("help"))
    assert r.code == 0
    return r.out


def test_help_lists_every_command_and_plain_flags(help_text: str) -> None:
    for name in COMMANDS:
        assert re.search(rf"^\W*{name}\s", help_text, re.M), f"{name} missing from --help"
    assert "<bool>" not in help_text
    assert re.search(r"--json\s+Machine-readable", help_text)


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    for args in (["--bogus"], ["version", "set"]):
        r = shipit(*args, cwd=tmp_path)
        assert r.code == 2, (args, r.both)
        assert "Traceback" not in r.both and "internal error" not in r.both
    r = shipit("-C", str(tmp_path / "nope"), "version", cwd=tmp_path)
    assert r.code == 2 and "does not exist" in r.err


def test_version_json_names_both_files_then_sync_fixes_only_version_lines(
    project: Path, tmp_path: Path
) -> None:
    r = shipit("-C", str(project), "--json", "version", cwd=tmp_path)
    assert r.code == 1
    doc = json.loads(r.out)  # stdout is one JSON document and nothing else
    assert doc["version"] == "1.0.0" and doc["consistent"] is False
    assert doc["sources"][:2] == [
        {"file": "deno.json", "kind": "deno.json", "version": "1.0.0", "line": 4},
        {"file": "package.json", "kind": "package.json", "version": "0.9.0", "line": 3},
    ]
    targets = {t["name"]: t for t in doc["targets"]}
    assert targets["npm"]["enabled"] and targets["jsr"]["enabled"]
    assert targets["npm"]["reason"] == "package.json found (@acme/hello)"
    assert not targets["binaries"]["enabled"]
    assert "deno.json says 1.0.0" in r.err and "package.json says 0.9.0" in r.err

    human = shipit("version", cwd=project)
    assert human.code == 1
    assert "deno.json says 1.0.0, package.json says 0.9.0" in human.err
    assert "shipit version sync" in human.err

    synced = shipit("version", "sync", cwd=project)
    assert synced.code == 0, synced.both
    assert "package.json: 0.9.0 -> 1.0.0" in synced.out
    diff = git(project, "diff", "-U0")
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ['-  "version": "0.9.0",', '+  "version": "1.0.0",']
    again = shipit("--json", "version", cwd=project)
    assert again.code == 0 and json.loads(again.out)["consistent"] is True


def test_version_set_writes_every_file_and_rejects_invalid(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "acme-hello"  # dist name\nversion = "1.0.0"\n'
    )
    r = shipit("--json", "version", "set", "1.1.0-rc.1", cwd=project)
    assert r.code == 0, r.both
    changed = {c["file"]: c["new"] for c in json.loads(r.out)["changed"]}
    assert changed == {
        "deno.json": "1.1.0-rc.1",
        "package.json": "1.1.0-rc.1",
        "pyproject.toml": "1.1.0rc1",
    }
    assert 'version = "1.1.0rc1"' in (project / "pyproject.toml").read_text()
    assert "// the JSR package" in (project / "deno.json").read_text()
    before = (project / "deno.json").read_text()
    bad = shipit("version", "set", "1.2.0-next.1", cwd=project)
    assert bad.code == 2
    assert "pyproject.toml" in bad.err and "no PEP 440 form" in bad.err
    assert (project / "deno.json").read_text() == before


def test_directory_option_acts_as_if_started_there(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = shipit("-C", str(project), "--json", "version", "sync", cwd=elsewhere)
    assert r.code == 0
    assert json.loads(r.out)["changed"] == [
        {"file": "package.json", "old": "0.9.0", "new": "1.0.0"}
    ]
    assert not (elsewhere / "package.json").exists()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[release]\nremote = "origin"\ntag-format = "v{version}\n',
            ["shipit.toml:3: not valid TOML", "line 3"],
        ),
        (
            '[release]\nremote = "origin"\ntag-fromat = "v{version}"\n',
            [
                "shipit.toml:3: unknown key `release.tag-fromat` (did you mean `tag-format`?)",
                "rename `tag-fromat` to `tag-format`",
            ],
        ),
        (
            '[retry]\nattempts = "many"\n',
            ["shipit.toml:2: `retry.attempts`", "takes a whole number"],
        ),
    ],
    ids=["bad-toml", "unknown-key", "wrong-type"],
)
def test_broken_config_exits_2_with_file_key_line_and_hint(
    project: Path, toml: str, expected: list[str]
) -> None:
    (project / "shipit.toml").write_text(toml)
    r = shipit("version", cwd=project)
    assert r.code == 2
    flat = " ".join(r.err.split())  # the error panel wraps long lines
    for text in expected:
        assert " ".join(text.split()) in flat, (text, r.err)
    assert "next:" in r.err
    assert "Traceback" not in r.both


def test_broken_config_under_json_prints_only_the_error_document(project: Path) -> None:
    (project / "shipit.toml").write_text('[retry]\nattempts = "many"\n')
    r = shipit("--json", "version", cwd=project)
    assert r.code == 2
    assert json.loads(r.out)["error"]["code"] == "config-invalid"


def test_config_in_two_places_names_both(project: Path) -> None:
    (project / "shipit.toml").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1.0.0"\n[tool.shipit]\n'
    )
    r = shipit("version", cwd=project)
    assert r.code == 2
    flat = " ".join(r.err.split())
    assert "shipit.toml" in flat and "[tool.shipit]" in flat and "pyproject.toml" in flat


def test_no_color_is_honoured(project: Path) -> None:
    forced = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    coloured = shipit("version", cwd=project, env={**forced, "NO_COLOR": ""})
    assert ANSI_COLOR.search(coloured.out + coloured.err), "expected colour when forced"
    for extra_args, env in (
        ([], {**forced, "NO_COLOR": "1"}),
        (["--no-color"], {**forced, "NO_COLOR": ""}),
    ):
        r = shipit(*extra_args, "version", cwd=project, env=env)
        assert r.code == 1
        assert not ANSI_COLOR.search(r.out + r.err), (extra_args, r.both)


def test_tokens_never_appear_in_any_output(project: Path) -> None:
    secret_config = f'[notify]\nurls = "json://example.invalid/{TOKENS["GITHUB_TOKEN"]}"\n'
    runs = [
        ("-v", "version"),
        ("-v", "--json", "version", "sync"),
        ("-v", "version", "set", TOKENS["JSR_TOKEN"]),
        ("--json", "version", "set", TOKENS["NPM_TOKEN"]),
        ("--bogus", TOKENS["PYPI_TOKEN"]),
    ]
    outputs: list[str] = []
    for args in runs:
        outputs.append(shipit(*args, cwd=project, env=TOKENS).both)
    (project / "shipit.toml").write_text(secret_config)
    for args in (("-v", "--json", "version"),):
        r = shipit(*args, cwd=project, env=TOKENS)
        assert r.code == 2
        outputs.append(r.both)
    assert any("***" in text for text in outputs), "the redaction was never exercised"
    for text in outputs:
        for name, value in TOKENS.items():
            assert value not in text, f"{name} leaked"


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello"


def test_the_bundled_example_works_as_shipped(tmp_path: Path) -> None:
    """examples/hello: its Deno and Node tests pass offline, its C program reports the version
    it was built with, and `shipit version` in a git copy says 0.1.0 everywhere."""
    import shutil

    root = tmp_path / "hello"
    shutil.copytree(EXAMPLE, root)
    env = {**os.environ, "NO_COLOR": "1", "DENO_NO_UPDATE_CHECK": "1"}
    bindir = Path(sys.executable).parent
    deno = subprocess.run(
        [str(bindir / "deno"), "test"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deno.returncode == 0, deno.stdout + deno.stderr
    assert "2 passed" in deno.stdout
    node = subprocess.run(
        ["npm", "test"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert node.returncode == 0, node.stdout + node.stderr
    assert "# pass 2" in node.stdout
    exe = tmp_path / "hello-bin"
    cc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ziglang",
            "cc",
            "-target",
            "x86_64-linux-gnu",
            "-O2",
            '-DVERSION="0.1.0"',
            "cli/main.c",
            "-o",
            str(exe),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cc.returncode == 0, cc.stderr
    assert subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout == (
        "hello 0.1.0\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hello 0.1.0")
    r = shipit("--json", "version", cwd=root)
    assert r.code == 0, r.both
    doc = json.loads(r.out)
    assert doc["version"] == "0.1.0" and doc["consistent"] is True
    assert [s["file"] for s in doc["sources"]] == ["deno.json", "package.json", "pyproject.toml"]


def test_json_is_accepted_after_the_command_too(project: Path) -> None:
    """`shipit X --json` is `shipit --json X`, for every command and subcommand."""
    before = shipit("--json", "version", cwd=project)
    after = shipit("version", "--json", cwd=project)
    assert (after.code, json.loads(after.out)) == (before.code, json.loads(before.out))
    assert json.loads(after.out)["consistent"] is False  # only JSON on stdout
    synced = shipit("version", "sync", "--json", cwd=project)
    assert synced.code == 0, synced.err
    assert isinstance(json.loads(synced.out), dict)
    status = shipit("status", "--json", cwd=project)
    assert isinstance(json.loads(status.out), dict), status.err
    plan = shipit("plan", "--json", cwd=project)
    assert isinstance(json.loads(plan.out), dict), plan.err
    check = shipit("check", "--only", "versions", "--json", cwd=project)
    assert [c["name"] for c in json.loads(check.out)["checks"]] == ["versions"]
