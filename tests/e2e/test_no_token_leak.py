"""No token ever leaks: a real release against the sandbox, then every output and every file.

A project going to npm (verdaccio), JSR (the JSR test server, real `deno publish`), PyPI
(pypiserver, real twine) and GitHub (the test server) is released with the real CLI, with
`-v`, in GitHub Actions mode (job summary file), with a notification URL holding a secret
from the environment; then `status`, `plan` and `rollback` run too. PyPI's credentials come
as a password inside the upload URL (``http://__token__:<token>@host/``). While the release
runs, every process's command line (``/proc/*/cmdline``, what any local user reads with
``ps``) is sampled: deno, npm, twine and git run and none of them, nor shipit, carries a
token or the URL's password. Afterwards the tokens (raw, URL-quoted and base64, as in basic
auth) must appear in no output, in no file under the project (``.shipit/`` included), in the
job summary, nor in the logs of the sandbox's own JSR and GitHub servers; and every file
under ``.shipit/`` that holds output is 0600, every directory 0700.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from shipit.sandbox.git_remote import GitRepo
from shipit.sandbox.manager import Sandbox

HOOK_SECRET = "hooksecret-LEAKCANARY-7f3a9c"


@pytest.fixture()
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append({"path": self.path, **json.loads(body or b"{}")})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def _project(repo: GitRepo, name: str, hook: str) -> None:
    files = {
        ".gitignore": "*.egg-info/\nbuild/\ndist/\n",
        "package.json": json.dumps(
            {"name": name, "version": "1.0.0", "license": "MIT", "main": "mod.js"}, indent=2
        )
        + "\n",
        "mod.js": "export const hello = () => 'hi';\n",
        "mod.ts": "export const hello = (): string => 'hi';\n",
        "deno.json": json.dumps(
            {
                "name": f"@leak/{name}",
                "version": "1.0.0",
                "exports": "./mod.ts",
                "license": "MIT",
                "publish": {"exclude": ["*.egg-info", "build", "dist"]},
            },
            indent=2,
        )
        + "\n",
        "LICENSE": "MIT\n",
        f"{name.replace('-', '_')}/__init__.py": "__version__ = '1.0.0'\n",
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "1.0.0"\nlicense = {{text = "MIT"}}\n\n'
            f'[tool.setuptools]\npackages = ["{name.replace("-", "_")}"]\n'
        ),
        "shipit.toml": (
            "[checks.typecheck]\nenabled = false\n[checks.lint]\nenabled = false\n"
            "[checks.test]\nenabled = false\n[checks.security]\nenabled = false\n\n"
            "[retry]\ninitial-wait = 0.1\nmax-wait = 0.5\n\n"
            f'[notify]\nurls = ["json://{hook}/${{HOOK_SECRET}}"]\n'
            'events = ["started", "succeeded", "failed", "rolled-back"]\n'
        ),
    }
    repo.commit("the project", files)
    repo.push()


def _delete_github_releases(env: dict[str, str], tag: str) -> None:
    api, repo = env["GITHUB_API_URL"], env["GITHUB_REPOSITORY"]
    headers = {"Authorization": f"Bearer {env['GITHUB_TOKEN']}"}
    listed = httpx.get(f"{api}/repos/{repo}/releases", headers=headers, timeout=10)
    for release in listed.json():
        if release["tag_name"] == tag:
            httpx.delete(
                f"{api}/repos/{repo}/releases/{release['id']}", headers=headers, timeout=10
            )


def _forms(secret: str) -> list[str]:
    """The secret and the encodings it could hide in: URL-quoted, base64 (alone and as twine's
    basic auth ``__token__:<secret>``, standard and URL-safe)."""
    forms = [secret, quote(secret, safe="")]
    for raw in (secret, f"__token__:{secret}"):
        forms.append(base64.b64encode(raw.encode()).decode().rstrip("="))
        forms.append(base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="))
    return list(dict.fromkeys(forms))


class CmdlineSampler(threading.Thread):
    """Reads every process's command line over and over, as ``ps`` would, until stopped;
    notes which publishing tools it saw and every command line holding a secret."""

    TOOLS = {
        "deno publish": ("deno", " publish"),
        "npm publish": ("npm", " publish"),
        "twine upload": ("twine", " upload"),
        "git push": ("git", " push"),
    }

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.forms = {name: _forms(value) for name, value in secrets.items()}
        self.seen: set[str] = set()
        self.leaks: list[str] = []
        self.rounds = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                text = raw.replace(b"\0", b" ").decode("utf-8", "replace")
                for tool, (program, action) in self.TOOLS.items():
                    if program in text and action in text:
                        self.seen.add(tool)
                for name, forms in self.forms.items():
                    if any(form in text for form in forms):
                        leak = f"pid {pid} runs with {name} in argv: {text[:120]}"
                        if leak not in self.leaks:
                            self.leaks.append(leak)
            self.rounds += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)


@pytest.mark.slow
def test_a_full_release_leaks_no_token(
    git_repo: GitRepo,
    unique_name: str,
    sandbox_env: dict[str, str],
    webhook: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
    _sandbox: Sandbox,
) -> None:
    hook, received = webhook
    _project(git_repo, unique_name, hook)
    summary = tmp_path / "step-summary.md"
    env = dict(os.environ)
    env.update(sandbox_env)
    env.update(
        HOOK_SECRET=HOOK_SECRET,
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
        NO_COLOR="1",
    )
    secrets = {name: env[name] for name in ("NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "GITHUB_TOKEN")}
    secrets["HOOK_SECRET"] = HOOK_SECRET
    assert all(len(v) >= 8 for v in secrets.values())
    # PyPI's credentials as a password in the upload URL, nowhere else
    pypi_password = env.pop("PYPI_TOKEN")
    env.pop("TWINE_USERNAME", None)
    env["TWINE_REPOSITORY_URL"] = env["TWINE_REPOSITORY_URL"].replace(
        "http://", f"http://__token__:{quote(pypi_password, safe='')}@"
    )
    secrets["PYPI_TOKEN"] = pypi_password

    outputs: dict[str, str] = {}

    def shipit(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "shipit", "-C", str(git_repo.path), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        outputs[" ".join(args)] = result.stdout + "\n" + result.stderr
        return result

    sampler = CmdlineSampler(secrets)
    sampler.start()
    try:
        release = shipit("-v", "release", "--yes")
    finally:
        sampler.stop()
    assert release.returncode == 0, release.stderr[-3000:]
    # the sampler did watch the publishing tools run (a check that could not fail otherwise)
    assert sampler.seen >= {"deno publish", "npm publish", "twine upload"}, (
        sampler.seen,
        sampler.rounds,
    )
    assert not sampler.leaks, "\n".join(sampler.leaks)
    # the release really went everywhere, with the secrets in use
    status = shipit("--json", "status")
    assert status.returncode == 0, status.stderr
    live = {lv["target"]: lv for lv in json.loads(status.stdout)["live"]}
    for target in ("npm", "jsr", "pypi", "github"):
        assert live[target]["has_current"] is True, live[target]
    assert any(r["path"] == f"/{HOOK_SECRET}" for r in received), received
    assert any("Released" in r.get("title", "") for r in received)
    shipit("-v", "status")
    shipit("--json", "plan")
    again = shipit("-v", "release", "--yes")  # again: everything found done, nothing twice
    assert again.returncode == 0, again.stderr[-3000:]
    shipit("-v", "rollback", "--yes")  # undo what can be undone (exit code does not matter)
    # that rollback undoes the second run's journal, which created nothing (every step was
    # already done), so the first run's GitHub release stays; the session's GitHub repository
    # is shared by every test: remove it
    _delete_github_releases(env, "v1.0.0")

    leaks: list[str] = []
    for label, text in outputs.items():
        for name, secret in secrets.items():
            if any(form in text for form in _forms(secret)):
                leaks.append(f"output of `shipit {label}` holds {name}")
    files = [p for p in git_repo.path.rglob("*") if p.is_file()]
    files += [summary] if summary.exists() else []
    sandbox_logs = [p for p in _sandbox.dir.rglob("*.log") if p.name in ("jsr.log", "github.log")]
    assert len(sandbox_logs) == 2, sandbox_logs
    files += sandbox_logs
    assert any(".shipit" in p.parts and p.name == "shipit.log" for p in files)
    assert any(".shipit" in p.parts and p.name == "journal.json" for p in files)
    for path in files:
        data = path.read_bytes()
        for name, secret in secrets.items():
            if any(form.encode() in data for form in _forms(secret)):
                leaks.append(f"{path} holds {name}")
    assert not leaks, "\n".join(leaks)
    log = next(p for p in files if p.name == "shipit.log").read_text()
    assert "***" in log  # the log did meet the secrets, and masked them
    assert "http://__token__:***@127.0.0.1:" in log  # the URL is shown, its password is not

    # .shipit/ is private: directories 0700, files holding output 0600
    shipit_dir = git_repo.path / ".shipit"
    wide = []
    for path in [shipit_dir, *shipit_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        output = path.suffix in (".log", ".jsonl", ".json") or path.name == "lock"
        if (path.is_dir() and mode != 0o700) or (path.is_file() and output and mode != 0o600):
            wide.append(f"{path.relative_to(git_repo.path)} is {oct(mode)}")
    assert not wide, "\n".join(wide)
