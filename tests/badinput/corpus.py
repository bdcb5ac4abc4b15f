"""The bad-input corpus's machinery: a project copied from one template repository per case,
the real CLI as a subprocess, and the before/after picture of everything a release could
touch (work tree, refs, origin's refs, the four sandbox registries).

A case (``cases.py``) is data: how to spoil the project, the command, the exit code and what
the message must say. ``run_case`` does the rest the same way for every case: it snapshots
the world, runs the command, checks the message (what, why, a next command the real CLI
accepts, no traceback, no "internal error") and compares the world with the snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.cli_tree import command_tree, prose_cut

TEMPLATE_NAME = "corpus-template"
TEMPLATE_MODULE = "corpus_template"
TEMPLATE_VERSION = "7.0.0"
JSR_SCOPE = "corpus"
WIDTH = "250"  # wide enough that rich never wraps a hint inside its panel

_COMMAND = re.compile(
    r"(?<![\w/.-])(`?)shipit((?: (?:-[\w.=-]+|[a-z0-9][\w.@-]*|X\.Y\.Z|X|<[a-z][\w-]*>))+)"
)
# a placeholder in a named command (``--version X.Y.Z``, ``<next>``) is parsed as a real value
_PLACEHOLDER = re.compile(r"X\.Y\.Z|X|<[a-z][\w-]*>")
_SAMPLE = "9.9.9"
_ANGLED = re.compile(r"<[A-Za-z][\w .-]*>")
_STOP = re.compile(r"[`'\")(\[\],;:!?│]|\.(?:\s|$)")


# ---------------------------------------------------------------- the template project


def template_files(name: str, module: str, version: str) -> dict[str, str]:
    """A small library published to npm, JSR and PyPI (and released on GitHub), shaped like
    a real one: README, LICENSE, a src/ layout, explicit package file lists."""
    return {
        ".gitignore": "node_modules/\n*.egg-info/\nbuild/\ndist/\n__pycache__/\n",
        "README.md": f"# {name}\n\nGreets people.\n",
        "LICENSE": "MIT License\n\nCopyright (c) 2026 Corpus Authors\n",
        "package.json": json.dumps(
            {
                "name": name,
                "version": version,
                "description": "Greets people",
                "license": "MIT",
                "main": "index.js",
                "files": ["index.js"],
                "repository": {"type": "git", "url": "https://github.com/shipit-test/project"},
            },
            indent=2,
        )
        + "\n",
        "index.js": "exports.greet = (who) => `hello ${who}`;\n",
        "deno.json": json.dumps(
            {
                "name": f"@{JSR_SCOPE}/{name}",
                "version": version,
                "license": "MIT",
                "exports": "./mod.ts",
                "publish": {"include": ["mod.ts", "README.md", "LICENSE"]},
            },
            indent=2,
        )
        + "\n",
        "mod.ts": "export function greet(who: string): string {\n  return `hello ${who}`;\n}\n",
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\n'
            'description = "Greets people"\nreadme = "README.md"\n'
            'license = {text = "MIT"}\nrequires-python = ">=3.9"\n\n'
            '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
        ),
        f"src/{module}/__init__.py": (
            f'"""Greets people."""\n\n__version__ = "{version}"\n\n\n'
            "def greet(who: str) -> str:\n    return f'hello {who}'\n"
        ),
        "shipit.toml": (
            "[checks.typecheck]\nenabled = false\n[checks.lint]\nenabled = false\n"
            "[checks.test]\nenabled = false\n[checks.security]\nenabled = false\n"
            "[checks.secrets]\nenabled = false\n\n"
            "[retry]\nattempts = 2\ninitial-wait = 0.05\nmax-wait = 0.1\nmax-total = 5\n"
        ),
    }


def git(*args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *map(str, args)],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(map(str, args))} failed: {done.stderr}")
    return done.stdout


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="Corpus",
        GIT_AUTHOR_EMAIL="corpus@example.com",
        GIT_COMMITTER_NAME="Corpus",
        GIT_COMMITTER_EMAIL="corpus@example.com",
    )
    return env


def make_template(where: Path) -> Path:
    """The template repository (``where/work``, origin ``where/origin.git``), made once."""
    work = where / "work"
    for path, text in template_files(TEMPLATE_NAME, TEMPLATE_MODULE, TEMPLATE_VERSION).items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text, encoding="utf-8")
    env = _git_env()
    git("init", "-q", "-b", "main", cwd=work, env=env)
    for key, value in (
        ("user.name", "Corpus"),
        ("user.email", "corpus@example.com"),
        ("commit.gpgsign", "false"),
        ("tag.gpgsign", "false"),
    ):
        git("config", key, value, cwd=work, env=env)
    git("add", "-A", cwd=work, env=env)
    git("commit", "-q", "-m", "the project", cwd=work, env=env)
    git("init", "-q", "--bare", "-b", "main", where / "origin.git", cwd=where, env=env)
    git("remote", "add", "origin", where / "origin.git", cwd=work, env=env)
    git("push", "-q", "-u", "origin", "main", cwd=work, env=env)
    return where


# ---------------------------------------------------------------- one case's project


@dataclass
class Workspace:
    """A copy of the template under its own name and version, with its own origin."""

    root: Path
    remote: Path
    tmp: Path
    name: str
    version: str
    env: dict[str, str]

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")

    @property
    def jsr_name(self) -> str:
        return f"@{JSR_SCOPE}/{self.name}"

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write(self, rel: str, text: str | bytes) -> Path:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
        return target

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert old in text, f"{rel} has no {old!r}"
        self.write(rel, text.replace(old, new))

    def git(self, *args: str | Path) -> str:
        return git(*args, cwd=self.root, env=_git_env())

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def push(self) -> None:
        self.git("push", "-q", "origin", "HEAD")

    def command_env(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
        env = dict(self.env)
        for key, value in (extra or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def python(self, hide: Sequence[str] = ()) -> str:
        """An interpreter with none of ``hide`` beside it (shipit also looks there): inside a
        virtualenv, a view of it without its bin/."""
        beside = Path(sys.executable).parent
        if not any((beside / tool).exists() for tool in hide):
            return sys.executable
        view = self.tmp / "python"
        if not view.exists():
            (view / "bin").mkdir(parents=True)
            shutil.copy(Path(sys.prefix) / "pyvenv.cfg", view / "pyvenv.cfg")
            (view / "lib").symlink_to(Path(sys.prefix) / "lib")
            (view / "bin" / "python").symlink_to(Path(sys.executable).resolve())
        return str(view / "bin" / "python")

    def shipit(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 240,
        hide: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python(hide), "-m", "shipit", "-C", str(self.root), *args],
            capture_output=True,
            text=True,
            env=self.command_env(env),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def popen(
        self, *args: str, env: Mapping[str, str | None] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "shipit", "-C", str(self.root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.command_env(env),
        )


def make_workspace(
    template: Path, tmp: Path, name: str, version: str, env: Mapping[str, str]
) -> Workspace:
    """Copy the template repository and its origin, then rename the package and set the
    version in one pushed commit."""
    shutil.copytree(template / "work", tmp / "work", symlinks=True)
    shutil.copytree(template / "origin.git", tmp / "origin.git", symlinks=True)
    ws = Workspace(tmp / "work", tmp / "origin.git", tmp, name, version, dict(env))
    ws.git("remote", "set-url", "origin", ws.remote)
    module = name.replace("-", "_")
    ws.git("mv", f"src/{TEMPLATE_MODULE}", f"src/{module}")
    for rel in ("package.json", "deno.json", "pyproject.toml", f"src/{module}/__init__.py"):
        text = ws.read(rel).replace(TEMPLATE_NAME, name).replace(TEMPLATE_MODULE, module)
        ws.write(rel, text.replace(TEMPLATE_VERSION, version))
    ws.commit(f"{name} {version}")
    ws.push()
    return ws


# ---------------------------------------------------------------- the world, before and after


def _tree(root: Path) -> dict[str, str]:
    """Every file of the work tree but .git/ and .shipit/, with a digest (a symlink by its
    target)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in (".git", ".shipit"):
            continue
        if path.is_symlink():
            out[str(rel)] = "-> " + os.readlink(path)
        elif path.is_file():
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _get(url: str, headers: Mapping[str, str] | None = None) -> httpx.Response | None:
    try:
        return httpx.get(url, headers=dict(headers or {}), timeout=10, follow_redirects=True)
    except httpx.HTTPError:
        return None


@dataclass(frozen=True)
class World:
    tree: dict[str, str]
    status: str
    head: str
    refs: str
    origin: str
    npm: Any
    jsr: Any
    pypi: Any
    github: Any

    @classmethod
    def of(cls, ws: Workspace, sandbox: Mapping[str, str]) -> World:
        def quiet_git(*args: str) -> str:
            try:
                return ws.git(*args)
            except AssertionError as exc:
                return f"<{exc}>"

        registry = sandbox["NPM_CONFIG_REGISTRY"].rstrip("/")
        npm = _get(f"{registry}/{ws.name}")
        jsr_url = sandbox["JSR_URL"].rstrip("/")
        jsr = _get(f"{jsr_url}/{ws.jsr_name}/meta.json", {"Accept": "application/json"})
        index = sandbox["TWINE_REPOSITORY_URL"].rstrip("/")
        pypi = _get(f"{index}/simple/{ws.name}/")
        api = sandbox["GITHUB_API_URL"].rstrip("/")
        github = _get(
            f"{api}/repos/{sandbox['GITHUB_REPOSITORY']}/releases?per_page=100",
            {"Authorization": f"Bearer {sandbox['GITHUB_TOKEN']}"},
        )
        return cls(
            tree=_tree(ws.root),
            status=quiet_git("status", "--porcelain", "--untracked-files=all"),
            head=quiet_git("rev-parse", "HEAD"),
            refs=quiet_git("for-each-ref", "--format=%(refname) %(objectname)"),
            origin=git("for-each-ref", "--format=%(refname) %(objectname)", cwd=ws.remote),
            npm=(npm.status_code, sorted(npm.json().get("versions", {})))
            if npm is not None and npm.status_code == 200
            else (npm.status_code if npm is not None else None),
            jsr=sorted(jsr.json().get("versions", {}))
            if jsr is not None and jsr.status_code == 200
            else (jsr.status_code if jsr is not None else None),
            pypi=re.findall(r">([^<]+)</a>", pypi.text)
            if pypi is not None and pypi.status_code == 200
            else (pypi.status_code if pypi is not None else None),
            github=sorted((r["id"], r["tag_name"], r["draft"]) for r in github.json())
            if github is not None and github.status_code == 200
            else None,
        )

    def differences(self, after: World, *, allowed: Sequence[str] = ()) -> list[str]:
        out = []
        for key in ("tree", "status", "head", "refs", "origin", "npm", "jsr", "pypi", "github"):
            if key in allowed:
                continue
            before_value, after_value = getattr(self, key), getattr(after, key)
            if before_value != after_value:
                out.append(f"{key} changed: {before_value!r} -> {after_value!r}")
        return out

    def nothing_published(self) -> list[str]:
        """The case's package is on no registry (the sandbox is shared: GitHub's release
        list is compared, not required empty)."""
        out = []
        if self.npm != 404:
            out.append(f"npm holds the package: {self.npm!r}")
        if self.jsr not in (404, []):
            out.append(f"JSR holds versions: {self.jsr!r}")
        if self.pypi not in (404, []):
            out.append(f"the index holds files: {self.pypi!r}")
        return out


# ---------------------------------------------------------------- the message


def panel_text(output: str) -> str:
    """Rich's panel borders and padding taken off, so hints read as one line each."""
    lines = []
    for line in output.splitlines():
        line = line.strip()
        line = line.strip("│╭╮╰╯─ ")
        lines.append(line)
    return "\n".join(lines)


def named_commands(output: str) -> list[str]:
    """Every ``shipit ...`` command the text names (cut where prose starts)."""
    root = command_tree()
    found = []
    text = _ANGLED.sub(_SAMPLE, panel_text(output))  # ``<next version>``: one placeholder
    for m in _COMMAND.finditer(text):
        tail = _STOP.split(m.group(2))[0]
        words = [_SAMPLE if _PLACEHOLDER.fullmatch(w) else w for w in tail.split()]
        if not m.group(1):
            words = prose_cut(words, root)
        if words and not re.fullmatch(r"v?\d.*", words[0]):
            found.append(" ".join(words))
    return found


# ---------------------------------------------------------------- signals


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 180) -> None:
    """Wait until ``path`` exists (the process reached the phase), or fail with its output."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"shipit ended ({proc.returncode}) before {path.name}:\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(f"shipit never reached {path.name}:\n{err[-3000:]}")
        time.sleep(0.05)


def interrupt(
    ws: Workspace,
    args: Sequence[str],
    sig: signal.Signals,
    *,
    mark: Path,
    env: Mapping[str, str | None] | None = None,
    release: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run shipit, wait until ``mark`` exists, send ``sig`` to it, let a paused fault point
    go on (``release``), and collect what it printed."""
    proc = ws.popen(*args, env=env)
    wait_for(mark, proc)
    proc.send_signal(sig)
    if release is not None:
        release()
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"shipit did not stop after {sig.name}:\n{err[-3000:]}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@dataclass
class Outcome:
    """What one run of a case produced."""

    result: subprocess.CompletedProcess[str]
    notes: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.result.stdout + "\n" + self.result.stderr
