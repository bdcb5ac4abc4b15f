"""The bad-input corpus: one table of cases, each a way a user's input can be wrong.

A case says how to spoil the template project (``setup``), which command to run, the exit
code, what the message must say (``says``: the what/why; ``next``: the way on) and which
parts of the world may change (``allowed``; nothing by default). ``pending`` names the work
(another branch's) a case waits for: it is a strict xfail until then, so the day it passes
the marker has to go.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from corpus import Workspace


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit: int
    says: tuple[str, ...] = ()
    next: tuple[str, ...] = ()
    setup: Callable[[Workspace], None] | None = None
    env: Mapping[str, str | None] = field(default_factory=dict)
    hide: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    json_out: bool = False
    absent: tuple[str, ...] = ()  # texts (or env names, as $NAME) that must not be printed
    signal: tuple[signal.Signals, str] | None = None  # (signal, phase)
    pending: str | None = None
    slow: bool = False
    needs_next: bool = True  # the message names a next command
    after: Callable[[Workspace, str], None] | None = None  # more checks on (ws, output)


# ---------------------------------------------------------------- setups


def edit_tracked(ws: Workspace) -> None:
    ws.write("index.js", ws.read("index.js") + "// not committed\n")


def untracked_in_package(ws: Workspace) -> None:
    ws.write(f"src/{ws.module}/extra.py", "SECRET_PLAN = 'not committed'\n")


def other_branch(ws: Workspace) -> None:
    ws.git("checkout", "-q", "-b", "feature/greeting")
    ws.git("push", "-q", "-u", "origin", "feature/greeting")


def detached(ws: Workspace) -> None:
    ws.git("checkout", "-q", "--detach", "HEAD")


def behind_origin(ws: Workspace) -> None:
    ws.write("CHANGELOG.md", "# Changes\n")
    ws.commit("changelog")
    ws.push()
    ws.git("reset", "-q", "--hard", "HEAD~1")


def nothing_to_publish(ws: Workspace) -> None:
    ws.write(
        "shipit.toml",
        ws.read("shipit.toml")
        + "\n[npm]\nenabled = false\n[jsr]\nenabled = false\n[pypi]\nenabled = false\n"
        "[github]\nenabled = false\n",
    )
    ws.commit("publish nowhere")
    ws.push()


def disagreeing_versions(ws: Workspace) -> None:
    ws.edit("package.json", f'"version": "{ws.version}"', '"version": "7.99.0"')
    ws.commit("bump npm only")
    ws.push()


def tag_here_and_elsewhere_on_origin(ws: Workspace) -> None:
    first = ws.git("rev-parse", "HEAD~1").strip()
    ws.git("tag", "-a", ws.tag, "-m", "old", first)
    ws.git("push", "-q", "origin", f"refs/tags/{ws.tag}")
    ws.git("tag", "-d", ws.tag)
    ws.git("tag", "-a", ws.tag, "-m", "new")  # locally: HEAD; on origin: the first commit


def tag_local_elsewhere(ws: Workspace) -> None:
    ws.git("tag", "-a", ws.tag, "-m", "old", ws.git("rev-parse", "HEAD~1").strip())


def no_git(ws: Workspace) -> None:
    import shutil

    shutil.rmtree(ws.root / ".git")


def no_remote(ws: Workspace) -> None:
    ws.git("remote", "remove", "origin")


def config(text: str) -> Callable[[Workspace], None]:
    def write(ws: Workspace) -> None:
        ws.write("shipit.toml", ws.read("shipit.toml") + "\n" + text)
        ws.commit("config")
        ws.push()

    return write


def config_raw(data: bytes) -> Callable[[Workspace], None]:
    def write(ws: Workspace) -> None:
        ws.write("shipit.toml", data)
        ws.commit("config")
        ws.push()

    return write


def config_is_a_directory(ws: Workspace) -> None:
    (ws.root / "shipit.toml").unlink()
    ws.write("shipit.toml/README", "not a config file\n")
    ws.commit("oops")
    ws.push()


def all_versions(version: str) -> Callable[[Workspace], None]:
    def write(ws: Workspace) -> None:
        for rel in ("package.json", "deno.json", "pyproject.toml", f"src/{ws.module}/__init__.py"):
            ws.edit(rel, ws.version, version)
        ws.commit(f"version {version}")
        ws.push()

    return write


def later_release_tag(ws: Workspace) -> None:
    ws.git("tag", "-a", "v99.0.0", "-m", "a later release")
    ws.write("CHANGELOG.md", "# Changes\n")
    ws.commit("after 99")
    ws.push()
    ws.git("push", "-q", "origin", "refs/tags/v99.0.0")


def manifest(rel: str, data: str | bytes) -> Callable[[Workspace], None]:
    def write(ws: Workspace) -> None:
        ws.write(rel, data)
        ws.commit(f"spoil {rel}")
        ws.push()

    return write


def package_json_without_name(ws: Workspace) -> None:
    data = json.loads(ws.read("package.json"))
    del data["name"]
    ws.write("shipit.toml", ws.read("shipit.toml") + "\n[npm]\nenabled = true\n")
    manifest("package.json", json.dumps(data, indent=2) + "\n")(ws)


def deno_json_without_name(ws: Workspace) -> None:
    data = json.loads(ws.read("deno.json"))
    del data["name"]
    ws.write("shipit.toml", ws.read("shipit.toml") + "\n[jsr]\nenabled = true\n")
    manifest("deno.json", json.dumps(data, indent=2) + "\n")(ws)


def symlink_outside(ws: Workspace) -> None:
    outside = ws.tmp / "elsewhere" / "package.json"
    outside.parent.mkdir()
    outside.write_text(ws.read("package.json"))
    (ws.root / "package.json").unlink()
    (ws.root / "package.json").symlink_to(outside)
    ws.commit("package.json lives elsewhere")
    ws.push()


def symlink_loop(ws: Workspace) -> None:
    (ws.root / "deno.json").unlink()
    (ws.root / "deno.json").symlink_to("deno.jsonc")
    (ws.root / "deno.jsonc").symlink_to("deno.json")
    ws.commit("a loop")
    ws.push()


def huge_file_in_jsr_package(ws: Workspace) -> None:
    data = json.loads(ws.read("deno.json"))
    data["publish"]["include"].append("data/")
    ws.write("deno.json", json.dumps(data, indent=2) + "\n")
    big = ws.root / "data" / "weights.bin"
    big.parent.mkdir()
    with big.open("wb") as fh:
        fh.write(os.urandom(21 * 1024 * 1024))  # over JSR's 20 MiB, incompressible
    ws.commit("ship the model")
    ws.push()


def huge_manifest(ws: Workspace) -> None:
    data = json.loads(ws.read("package.json"))
    data["description"] = "greets " * 3_000_000  # about 21 MB
    manifest("package.json", json.dumps(data) + "\n")(ws)


def shipit_state(ws: Workspace) -> Path:
    """``.shipit/`` as shipit makes it (kept out of git), for cases that spoil what is in it."""
    from shipit.workspace import protect

    return protect(ws.root)


def shipit_dir_is_a_file(ws: Workspace) -> None:
    ws.write(".shipit", "not a directory\n")


def shipit_dir_unwritable(ws: Workspace) -> None:
    """An immutable .shipit (root ignores modes, not the immutable attribute)."""
    import subprocess

    (ws.root / ".shipit").mkdir()
    done = subprocess.run(["chattr", "+i", str(ws.root / ".shipit")], capture_output=True)
    if done.returncode != 0:
        os.chmod(ws.root / ".shipit", 0o500)  # a user that is not root meets the mode


def lock_is_a_directory(ws: Workspace) -> None:
    (shipit_state(ws) / "lock").mkdir()


def journal(content: bytes) -> Callable[[Workspace], None]:
    def write(ws: Workspace) -> None:
        path = shipit_state(ws) / "releases" / ws.tag / "journal.json"
        path.parent.mkdir(parents=True)
        path.write_bytes(content)

    return write


def truncated_journal(ws: Workspace) -> None:
    text = json.dumps(
        {
            "schema": 1,
            "tag": ws.tag,
            "version": ws.version,
            "state": "failed",
            "steps": {"git:tag": {"state": "done"}},
        },
        indent=2,
    )
    journal(text[: len(text) // 2].encode())(ws)


def corrupt_lock_info(ws: Workspace) -> None:
    (shipit_state(ws) / "lock.json").write_bytes(b"\x00\xffgarbage{")


def check_mark(ws: Workspace) -> None:
    ws.edit(
        "shipit.toml",
        "[checks.test]\nenabled = false\n",
        '[checks.test]\ncommand = "touch \\"$CORPUS_MARK\\" && sleep 120"\n',
    )
    ws.commit("a slow test suite")
    ws.push()


def build_mark(ws: Workspace) -> None:
    config('[npm]\nbuild-command = "touch \\"$CORPUS_MARK\\" && sleep 120"\n')(ws)


def release_then_rollback(ws: Workspace) -> None:
    done = ws.shipit("release", "--yes", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    undone = ws.shipit("rollback", "--yes", timeout=600)
    assert undone.returncode in (0, 1, 3), undone.stderr[-3000:]


def url_password(ws: Workspace) -> None:
    pass  # the env carries it


# ---------------------------------------------------------------- the table

UNREACHABLE = "http://127.0.0.1:9/"
WRONG_PYPI = "pypi-AgEIcHlwaS5vcmcCorpusWrongButWellFormed0123456789"

CASES: list[Case] = [
    # ---- the work tree and git
    Case(
        "dirty-tree-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("uncommitted", "index.js"),
        setup=edit_tracked,
    ),
    Case(
        "untracked-file-a-package-would-include-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("extra.py",),
        setup=untracked_in_package,
    ),
    Case(
        "dirty-tree",
        ("release", "--yes"),
        1,
        says=("uncommitted change", "index.js"),
        # a release invariant, refused when the release is planned (before any check): the
        # way on is a git command (commit or stash), not `shipit check`
        setup=edit_tracked,
    ),
    Case(
        "wrong-branch-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("feature/greeting",),
        setup=other_branch,
    ),
    Case(
        "wrong-branch",
        ("release", "--yes"),
        1,
        says=("feature/greeting",),
        setup=other_branch,
    ),
    Case(
        "detached-head-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("detached",),
        setup=detached,
    ),
    Case("detached-head", ("release", "--yes"), 1, says=("detached",), setup=detached),
    Case(
        "behind-origin-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("behind",),
        setup=behind_origin,
    ),
    Case("behind-origin", ("release", "--yes"), 1, says=("behind",), setup=behind_origin),
    Case(
        "deno-missing-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("deno",),
        hide=("deno",),
    ),
    Case(
        "deno-missing",
        ("release", "--yes"),
        1,
        says=("deno",),
        hide=("deno",),
    ),
    Case(
        "nothing-to-publish",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("nothing to publish",),
        setup=nothing_to_publish,
    ),
    Case(
        "disagreeing-versions-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("7.99.0",),
        setup=disagreeing_versions,
    ),
    Case(
        "disagreeing-versions",
        ("release", "--yes"),
        1,
        says=("7.99.0",),
        next=("shipit version sync",),
        setup=disagreeing_versions,
    ),
    Case(
        "tag-differs-locally-and-on-origin",
        ("release", "--yes"),
        1,
        says=("tag",),
        setup=tag_here_and_elsewhere_on_origin,
    ),
    Case(
        "plan-with-the-tag-on-another-commit",
        ("plan",),
        1,
        says=("conflict", "points at"),
        setup=tag_here_and_elsewhere_on_origin,
        needs_next=False,
    ),
    Case(
        "dry-run-with-the-tag-on-another-commit",
        ("release", "--dry-run"),
        1,
        says=("conflict", "points at"),
        setup=tag_here_and_elsewhere_on_origin,
        needs_next=False,
    ),
    Case(
        "tag-exists-locally-on-another-commit",
        ("release", "--yes"),
        1,
        says=("tag",),
        setup=tag_local_elsewhere,
    ),
    Case("not-a-git-repository", ("release", "--yes"), 1, says=("git",), setup=no_git),
    Case("no-remote", ("release", "--yes"), 1, says=("origin",), setup=no_remote),
    # ---- tokens, each target
    Case(
        "npm-token-missing",
        ("release", "--yes"),
        1,
        says=("no npm token",),
        env={"NPM_TOKEN": None},
    ),
    Case(
        "npm-token-wrong",
        ("release", "--yes"),
        1,
        says=("NPM_TOKEN",),
        env={"NPM_TOKEN": "npm-corpus-wrong-token-0123456789"},
        absent=("npm-corpus-wrong-token-0123456789",),
    ),
    Case(
        "jsr-token-missing",
        ("release", "--yes"),
        1,
        says=("no JSR token",),
        env={"JSR_TOKEN": None},
    ),
    Case(
        "jsr-token-wrong",
        ("release", "--yes"),
        1,
        says=("rejected JSR_TOKEN",),
        env={"JSR_TOKEN": "jsr-corpus-wrong-token-0123456789"},
        absent=("jsr-corpus-wrong-token-0123456789",),
    ),
    Case(
        "pypi-token-missing",
        ("release", "--yes"),
        1,
        says=("no PyPI token",),
        env={"PYPI_TOKEN": None, "TWINE_PASSWORD": None},
    ),
    Case(
        "pypi-token-wrong-but-well-formed",
        ("release", "--yes"),
        1,
        says=("rejected PYPI_TOKEN", "403"),
        env={"PYPI_TOKEN": WRONG_PYPI},
        absent=(WRONG_PYPI,),
    ),
    Case(
        "pypi-token-malformed",
        ("release", "--yes"),
        1,
        says=("does not look like an API token",),
        env={"PYPI_TOKEN": "hunter2-corpus"},
        absent=("hunter2-corpus",),
    ),
    Case(
        "github-token-missing",
        ("release", "--yes"),
        1,
        says=("no GitHub token",),
        env={"GITHUB_TOKEN": None, "GH_TOKEN": None},
    ),
    Case(
        "github-token-wrong",
        ("release", "--yes"),
        1,
        says=("GitHub rejected GITHUB_TOKEN",),
        env={"GITHUB_TOKEN": "ghp_corpusWrongToken0123456789"},
        absent=("ghp_corpusWrongToken0123456789",),
    ),
    Case(
        "github-repository-the-token-cannot-see",
        ("release", "--yes"),
        1,
        says=("someone/else",),
        env={"GITHUB_REPOSITORY": "someone/else"},
    ),
    Case(
        "pypi-token-wrong-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("PYPI_TOKEN",),
        env={"PYPI_TOKEN": WRONG_PYPI},
        absent=(WRONG_PYPI,),
    ),
    Case(
        "jsr-token-wrong-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("JSR_TOKEN",),
        env={"JSR_TOKEN": "jsr-corpus-wrong-token-0123456789"},
        absent=("jsr-corpus-wrong-token-0123456789",),
    ),
    Case(
        "npm-token-wrong-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("NPM_TOKEN",),
        env={"NPM_TOKEN": "npm-corpus-wrong-token-0123456789"},
        absent=("npm-corpus-wrong-token-0123456789",),
    ),
    Case(
        "github-token-wrong-skip-checks",
        ("release", "--yes", "--skip-checks"),
        1,
        says=("GitHub rejected GITHUB_TOKEN",),
        env={"GITHUB_TOKEN": "ghp_corpusWrongToken0123456789"},
        absent=("ghp_corpusWrongToken0123456789",),
    ),
    # ---- registries out of reach
    Case(
        "npm-registry-unreachable",
        ("release", "--yes"),
        1,
        says=("127.0.0.1:9",),
        env={"NPM_CONFIG_REGISTRY": UNREACHABLE},
    ),
    Case(
        "jsr-unreachable",
        ("release", "--yes"),
        1,
        says=("127.0.0.1:9",),
        env={"JSR_URL": UNREACHABLE},
    ),
    Case(
        "pypi-index-unreachable",
        ("release", "--yes"),
        1,
        says=("127.0.0.1:9",),
        env={"TWINE_REPOSITORY_URL": UNREACHABLE},
    ),
    Case(
        "github-api-unreachable",
        ("release", "--yes"),
        1,
        says=("127.0.0.1:9",),
        env={"GITHUB_API_URL": "http://127.0.0.1:9"},
    ),
    # ---- configuration
    Case(
        "config-unknown-key",
        ("release", "--yes"),
        2,
        says=("shipit.toml", "tag-fromat"),
        setup=config('[release]\ntag-fromat = "v{version}"\n'),
    ),
    Case(
        "config-wrong-type",
        ("release", "--yes"),
        2,
        says=("shipit.toml", "attempts"),
        setup=config_raw(b'[retry]\nattempts = "five"\n'),
    ),
    Case(
        "config-toml-syntax",
        ("release", "--yes"),
        2,
        says=("shipit.toml",),
        setup=config_raw(b"[retry\nattempts = 2\n"),
    ),
    Case(
        "config-not-utf8",
        ("release", "--yes"),
        2,
        says=("shipit.toml",),
        setup=config_raw(b'[release]\ntag-format = "v\xff{version}"\n'),
    ),
    Case(
        "config-is-a-directory",
        ("release", "--yes"),
        2,
        says=("shipit.toml",),
        setup=config_is_a_directory,
    ),
    Case(
        "tag-format-unknown-placeholder",
        ("release", "--yes"),
        2,
        says=("{ver}",),
        setup=config('[release]\ntag-format = "v{ver}"\n'),
    ),
    Case(
        "tag-format-without-version",
        ("release", "--yes"),
        2,
        says=("{version}",),
        setup=config('[release]\ntag-format = "release"\n'),
    ),
    Case(
        "config-file-missing",
        ("--config", "nowhere.toml", "release", "--yes"),
        2,
        says=("nowhere.toml",),
    ),
    # ---- versions
    Case(
        "huge-version",
        ("release", "--yes"),
        1,
        says=("99999999999999999999",),
        setup=all_versions("99999999999999999999.0.0"),
    ),
    Case(
        "version-not-semver",
        ("release", "--yes"),
        1,
        says=("banana",),
        setup=all_versions("banana"),
    ),
    Case(
        "release-version-option-invalid",
        ("release", "--yes", "--version", "banana"),
        1,
        says=("banana", "shipit release --version 1.2.0"),
    ),
    Case(
        "version-below-the-last-release",
        ("release", "--yes"),
        1,
        says=("v99.0.0",),
        setup=later_release_tag,
    ),
    Case("version-set-invalid", ("version", "set", "banana"), 2, says=("banana",)),
    # ---- manifests
    Case(
        "package-json-is-an-array",
        ("release", "--yes"),
        2,
        says=("package.json",),
        setup=manifest("package.json", '["not", "an", "object"]\n'),
    ),
    Case(
        "package-json-invalid",
        ("release", "--yes"),
        2,
        says=("package.json",),
        setup=manifest("package.json", '{"name": "x", "version": }\n'),
    ),
    Case(
        "package-json-trailing-comma",  # npm refuses it (EJSONPARSE): shipit must too
        ("release", "--yes"),
        2,
        says=("package.json",),
        setup=manifest("package.json", '{"name": "x", "version": "7.0.0",}\n'),
    ),
    Case(
        "package-json-not-utf8",
        ("release", "--yes"),
        2,
        says=("package.json",),
        setup=manifest("package.json", b'{"name": "\xff\xfe", "version": "7.0.0"}\n'),
    ),
    Case(
        "deno-json-invalid-jsonc",
        ("release", "--yes"),
        2,
        says=("deno.json",),
        setup=manifest(
            "deno.json", '{\n  // a comment\n  "name": "@corpus/x",\n  "version": \n}\n'
        ),
    ),
    Case(
        "pyproject-invalid-toml",
        ("release", "--yes"),
        2,
        says=("pyproject.toml",),
        setup=manifest("pyproject.toml", '[project\nname = "x"\n'),
    ),
    Case(
        "package-json-without-name-but-npm-on",
        ("release", "--yes"),
        1,
        says=("package.json", "name"),
        setup=package_json_without_name,
    ),
    Case(
        "deno-json-without-name-but-jsr-on",
        ("release", "--yes"),
        1,
        says=("deno.json", "name"),
        setup=deno_json_without_name,
    ),
    Case(
        "manifest-symlinked-outside-the-project",
        ("release", "--yes"),
        2,
        says=("package.json", "outside"),
        setup=symlink_outside,
    ),
    Case(
        "manifest-symlink-loop",
        ("release", "--yes"),
        2,
        says=("deno.json",),
        setup=symlink_loop,
    ),
    Case(
        "huge-file-over-jsrs-limit",
        ("release", "--yes"),
        1,
        says=("weights.bin", "20 MiB"),
        setup=huge_file_in_jsr_package,
        slow=True,
    ),
    Case(
        "huge-manifest",
        ("plan",),
        0,
        setup=huge_manifest,
        needs_next=False,
        slow=True,
    ),
    # ---- shipit's own state
    Case(
        "shipit-dir-is-a-file",
        ("release", "--yes"),
        1,
        says=(".shipit",),
        setup=shipit_dir_is_a_file,
    ),
    Case(
        "shipit-dir-not-writable",
        ("release", "--yes"),
        1,
        says=(".shipit",),
        setup=shipit_dir_unwritable,
    ),
    Case(
        "lock-is-a-directory",
        ("release", "--yes"),
        1,
        says=(".shipit/lock", "Is a directory", "lock.old"),
        setup=lock_is_a_directory,
    ),
    Case(
        "journal-truncated-status",
        ("status",),
        1,
        says=("journal.json",),
        setup=truncated_journal,
    ),
    Case(
        "journal-truncated-resume",
        ("resume", "--yes"),
        1,
        says=("journal.json",),
        setup=truncated_journal,
    ),
    Case(
        "journal-garbage-bytes",
        ("resume", "--yes"),
        1,
        says=("journal.json",),
        setup=journal(os.urandom(64) + b"\xff\xfe"),
    ),
    Case(
        "journal-foreign-shape",
        ("resume", "--yes"),
        1,
        says=("journal.json",),
        setup=journal(b'{"hello": "world", "steps": [1, 2, 3]}\n'),
    ),
    Case(
        "journal-empty",
        ("status",),
        1,
        says=("journal.json",),
        setup=journal(b""),
    ),
    Case(
        "json-status-with-a-corrupt-journal",
        ("--json", "status"),
        1,
        says=("journal.json",),
        setup=truncated_journal,
        json_out=True,
    ),
    Case(
        "lock-info-garbage",
        ("plan",),
        0,
        setup=corrupt_lock_info,
        needs_next=False,
    ),
    Case(
        "concurrent-release",
        ("release", "--yes"),
        1,
        says=("another shipit release is running",),
    ),
    # ---- interrupted at every phase
    *(
        Case(
            f"{sig.name.lower()}-during-{phase}",
            ("release", "--yes"),
            130,
            says=("interrupted",),
            setup={"checks": check_mark, "build": build_mark}.get(phase),
            signal=(sig, phase),
            allowed=("resumed",) if phase == "publish" else (),
            slow=phase == "publish",
        )
        for phase in ("checks", "build", "gate", "publish")
        for sig in (signal.SIGINT, signal.SIGTERM)
    ),
    # ---- a version rolled back, then released again
    Case(
        "rollback-then-release-again",
        ("release", "--yes"),
        1,
        says=("registries never let a version be published again",),
        next=("shipit release --version",),
        setup=release_then_rollback,
        slow=True,
    ),
    # ---- secrets in URLs
    Case(
        "registry-url-password-in-plan",
        ("-v", "plan"),
        0,
        env={"TWINE_REPOSITORY_URL": "$PYPI_URL_WITH_PASSWORD"},
        absent=("$PYPI_TOKEN",),
        says=("__token__:***@",),
        needs_next=False,
    ),
    # ---- usage
    Case("unknown-option", ("release", "--frobnicate"), 2, says=("--frobnicate",)),
    Case("unknown-check", ("check", "--only", "lnt"), 2, says=("lnt", "lint")),
    Case(
        "resume-with-nothing-to-resume",
        ("resume", "--yes"),
        2,
        says=("nothing to resume",),
        next=("shipit release",),
    ),
    Case(
        "rollback-with-nothing-to-roll-back",
        ("rollback", "--yes"),
        2,
        says=("nothing to roll",),
        next=("shipit release",),
    ),
]

IDS = [case.id for case in CASES]
assert len(IDS) == len(set(IDS)), "case ids must be unique"


def case_path(name: str) -> Path:
    return Path(__file__).parent / name
