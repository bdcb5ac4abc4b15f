"""The sandbox: verdaccio, pypiserver, the JSR and GitHub test servers and a bare git remote.

``Sandbox(dir).up()`` starts every service that is not running, in parallel, waits until each
is ready and records ``sandbox.json`` in the directory: the services (name, url, pid, port,
log), the environment a release needs and the sandbox user's password. That file holds
throw-away sandbox tokens, so it is written with mode 0600 and never printed. ``down()`` stops
the recorded process groups (SIGTERM, then SIGKILL) and leaves the data, so a later ``up``
finds every package and release again, on the same ports when they are still free.
``service(name)`` starts one service lazily (what the pytest fixtures use).

``Sandbox(dir, oidc=True)`` (``shipit sandbox up --oidc``) adds trusted publishing as in GitHub
Actions: an OIDC issuer (``oidc_issuer``), the npm and PyPI token exchanges in front of
verdaccio and pypiserver (``oidc_exchange``, their URLs become the registries' URLs) and
``githuboidc`` in the JSR server, each trusting the issuer for the sandbox's repository. Its
``env()`` then holds ``GITHUB_ACTIONS=true`` and the ``ACTIONS_ID_TOKEN_REQUEST_*`` pair and no
registry token (``token_env()`` still gives the token way).

``npm_upstream`` / ``jsr_upstream`` (a rehearsal's): the registries the sandbox reads packages
it does not hold from, so a project's dependencies resolve (verdaccio's uplink; the JSR
server's upstream) while everything published stays in the sandbox; ``npm_local`` names the
project's own npm packages and ``jsr_local`` its JSR packages, never read from the upstream.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from filelock import FileLock

from shipit.errors import SandboxError, ShipitError
from shipit.files import write_text_atomic
from shipit.http import client
from shipit.redact import register
from shipit.sandbox import git_remote, process, pypiserver, servers, verdaccio
from shipit.sandbox.process import Running

log = logging.getLogger("shipit.sandbox")

STATE_FILE = "sandbox.json"
STATE_VERSION = 1
DEFAULT_REPO = "shipit-sandbox/project"
SERVICES = ("verdaccio", "pypiserver", "jsr", "github", "git")
#: what ``--oidc`` adds: the issuer, then the npm and PyPI exchanges
OIDC_SERVICES = ("oidc", "npm-oidc", "pypi-oidc")
ALL_SERVICES = (*SERVICES, *OIDC_SERVICES)
#: the deployment environment of the sandbox's job (as in examples/workflows/release.yml)
OIDC_ENVIRONMENT = "release"
#: variables of ``env`` that hold secrets
SECRET_VARS = (
    "NPM_TOKEN",
    "JSR_TOKEN",
    "PYPI_TOKEN",
    "GITHUB_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


@dataclass(frozen=True)
class GitRemote:
    """The bare repository that plays ``origin``."""

    path: Path

    @property
    def url(self) -> str:
        return self.path.as_uri()


Service = (
    verdaccio.Verdaccio
    | pypiserver.PyPIServer
    | servers.TestServer
    | servers.OidcIssuer
    | servers.ExchangeFrontEnd
    | GitRemote
)


@dataclass(frozen=True)
class ServiceStatus:
    """What ``status`` reports for one service."""

    name: str
    url: str
    pid: int | None
    alive: bool
    ready: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "pid": self.pid,
            "alive": self.alive,
            "ready": self.ready,
        }


def default_dir(project_root: Path) -> Path:
    return project_root / ".shipit" / "sandbox"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to ``path``, readable by the owner only (0600)."""
    write_text_atomic(path, text, mode=0o600)


def _running_of(service: Service) -> Running | None:
    return None if isinstance(service, GitRemote) else service.process


class Sandbox:
    """Local registries under one directory; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        *,
        repo: str = DEFAULT_REPO,
        record: bool = True,
        timeout: float = 60.0,
        oidc: bool = False,
        npm_upstream: str | None = None,
        jsr_upstream: str | None = None,
        npm_local: tuple[str, ...] = (),
        jsr_local: tuple[str, ...] = (),
    ) -> None:
        self.dir = directory.resolve()
        self.npm_upstream = npm_upstream or None
        self.jsr_upstream = jsr_upstream or None
        self.npm_local = npm_local
        self.jsr_local = jsr_local
        self.repo = repo
        self.record = record
        self.timeout = timeout
        self.oidc = oidc
        self.names = ALL_SERVICES if oidc else SERVICES
        self._lock = threading.Lock()
        self._starting: dict[str, threading.Lock] = {
            name: threading.Lock() for name in ALL_SERVICES
        }
        self._services: dict[str, Service] = {}
        self._secrets: dict[str, str] = {}
        self._ports: dict[str, int] = {}
        self._file_lock: FileLock | None = None

    # --- state file ---------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.dir / STATE_FILE

    def read_state(self) -> dict[str, Any] | None:
        """The recorded state, or None if this directory holds no sandbox."""
        try:
            data = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SandboxError(
                f"cannot read {self.state_path}",
                why=str(exc),
                hint=f"stop leftover servers by hand, then remove {self.state_path}",
            ) from None
        if not isinstance(data, dict):
            raise SandboxError(f"{self.state_path} is not a sandbox state file")
        env = data.get("env") or {}
        register(*(env.get(name) for name in SECRET_VARS), *(data.get("secrets") or {}).values())
        return data

    def _load_previous(self) -> None:
        """Reuse the previous run's secrets and ports so exported variables stay valid."""
        state = self.read_state() if self.record else None
        if not state:
            return
        for key, value in (state.get("secrets") or {}).items():
            if isinstance(value, str):
                self._secrets.setdefault(key, value)
        for name, port in (state.get("ports") or {}).items():
            if isinstance(port, int):
                self._ports.setdefault(str(name), port)

    def _secret(self, key: str, make: Callable[[], str]) -> str:
        with self._lock:
            if key not in self._secrets:
                self._secrets[key] = make()
            value = self._secrets[key]
        register(value)
        return value

    def _started(self) -> Iterator[tuple[str, Service, Running | None]]:
        """(name, service, its process or None for the git remote), in ALL_SERVICES order."""
        for name in ALL_SERVICES:
            service = self._services.get(name)
            if service is not None:
                yield name, service, _running_of(service)

    def _save(self) -> None:
        if not self.record:
            return
        services = []
        for name, service, running in self._started():
            entry: dict[str, Any] = {"name": name, "url": service.url, "pid": None}
            if running is not None:
                entry.update(running.to_json())
            services.append(entry)
        state = {
            "version": STATE_VERSION,
            "note": "throw-away sandbox tokens; keep this file private (mode 0600)",
            "dir": str(self.dir),
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "repo": self.repo,
            "oidc": self.oidc,
            "env": self.env(),
            "services": services,
            "ports": {e["name"]: e["port"] for e in services if isinstance(e.get("port"), int)},
            "secrets": dict(self._secrets),
        }
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.state_path, json.dumps(state, indent=2) + "\n")

    # --- starting -----------------------------------------------------------------------

    def _start(self, name: str) -> Service:
        sub = self.dir / name
        # the previous run's port when it is still free, so exported URLs stay valid
        previous = self._ports.get(name)
        port = process.pick_port(previous) if previous else None
        if name == "verdaccio":
            password = self._secret("npm_password", lambda: secrets.token_urlsafe(24))
            npm = verdaccio.start(
                sub,
                password=password,
                port=port,
                token=self._secrets.get("npm_token"),
                timeout=self.timeout,
                upstream=self.npm_upstream,
                local=self.npm_local,
            )
            with self._lock:
                self._secrets["npm_token"] = npm.token
            return npm
        if name == "pypiserver":
            token = self._secret("pypi_token", pypiserver.new_token)
            return pypiserver.start(sub, token=token, port=port, timeout=self.timeout)
        if name == "jsr":
            token = self._secret("jsr_token", servers.new_jsr_token)
            issuer = self._issuer().url if self.oidc else None
            return servers.start_jsr(
                sub,
                token=token,
                port=port or 0,
                oidc_issuer=issuer,
                trust_repo=self.repo if self.oidc else None,
                upstream=self.jsr_upstream,
                local=self.jsr_local,
                timeout=self.timeout,
            )
        if name == "oidc":
            request_token = self._secret("oidc_request_token", servers.new_request_token)
            return servers.start_oidc_issuer(
                sub,
                request_token=request_token,
                repo=self.repo,
                environment=OIDC_ENVIRONMENT,
                port=port or 0,
                timeout=self.timeout,
            )
        if name in ("npm-oidc", "pypi-oidc"):
            kind = name.split("-")[0]
            upstream, secret = self._exchange_upstream(kind)
            return servers.start_exchange(
                kind,
                sub,
                upstream=upstream,
                issuer=self._issuer().url,
                secret=secret,
                trust_repo=self.repo,
                port=port or 0,
                timeout=self.timeout,
            )
        if name == "github":
            token = self._secret("github_token", servers.new_github_token)
            return servers.start_github(
                sub, token=token, repo=self.repo, port=port or 0, timeout=self.timeout
            )
        if name == "git":
            return GitRemote(git_remote.create_bare(sub / "origin.git"))
        raise ValueError(f"unknown sandbox service {name!r}")

    def _issuer(self) -> servers.OidcIssuer:
        issuer = self.service("oidc")
        assert isinstance(issuer, servers.OidcIssuer)
        return issuer

    def _exchange_upstream(self, kind: str) -> tuple[str, str]:
        """The registry an exchange fronts, and the secret it needs to hand out tokens."""
        if kind == "npm":
            npm = self.service("verdaccio")
            assert isinstance(npm, verdaccio.Verdaccio)
            return npm.url, self._secrets["npm_password"]
        pypi = self.service("pypiserver")
        assert isinstance(pypi, pypiserver.PyPIServer)
        return pypi.url, pypi.token

    def service(self, name: str) -> Service:
        """The running service ``name``, started now if needed (thread-safe)."""
        with self._starting[name]:
            existing = self._services.get(name)
            if existing is not None:
                return existing
            started = self._start(name)
            with self._lock:
                self._services[name] = started
            return started

    def up(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Start every service of ``names`` (default: all of this sandbox's) that is not
        running, in parallel; record the state.

        If a recorded sandbox still runs completely, it is returned as it is.
        """
        chosen = set(self.names if names is None else names)
        wanted = [n for n in ALL_SERVICES if n in chosen]
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._dir_lock():
            if self.record and not self._services:
                self._adopt_or_clean()
            self._load_previous()
            todo = [n for n in wanted if n not in self._services]
            errors: list[BaseException] = []
            with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
                futures: list[Future[Service]] = [pool.submit(self.service, n) for n in todo]
                for future in futures:
                    try:
                        future.result()
                    except BaseException as exc:
                        errors.append(exc)
            if errors:
                self.down()
                first = errors[0]
                for error in errors:
                    if isinstance(error, KeyboardInterrupt):
                        raise error
                if isinstance(first, ShipitError):
                    raise first
                raise SandboxError(
                    "the sandbox could not be started",
                    why=f"{type(first).__name__}: {first}",
                    hint=f"look at the logs under {self.dir}",
                ) from first
            self._save()
            return self.describe()

    def _dir_lock(self) -> FileLock:
        if self._file_lock is None:
            self._file_lock = FileLock(str(self.dir / ".lock"), timeout=120)
        return self._file_lock

    def _adopt_or_clean(self) -> None:
        """A sandbox recorded as running: keep it if every service lives, else stop the rest."""
        state = self.read_state()
        if state and state.get("services"):
            statuses = self._statuses(state)
            same_mode = bool(state.get("oidc", False)) == self.oidc
            if same_mode and statuses and all(s.alive for s in statuses if s.pid is not None):
                self._adopt(state)
                return
            for entry in state.get("services") or []:
                if isinstance(entry.get("pid"), int):
                    process.stop(entry["pid"], entry.get("started"))
        self._stop_strays()  # servers of a run whose state was lost (a crash)

    def _adopt(self, state: Mapping[str, Any]) -> None:
        env = state.get("env") or {}
        saved = state.get("secrets") or {}

        def secret(key: str, var: str) -> str:
            return str(saved.get(key) or env.get(var))

        for entry in state.get("services") or []:
            name = str(entry.get("name"))
            if name == "git":
                self._services[name] = GitRemote(Path(str(env.get("SHIPIT_SANDBOX_GIT_REMOTE"))))
                continue
            running = Running.from_json(entry)
            if name == "verdaccio":
                self._services[name] = verdaccio.Verdaccio(
                    url=running.url,
                    token=secret("npm_token", "NPM_TOKEN"),
                    user="shipit",
                    process=running,
                )
            elif name == "pypiserver":
                self._services[name] = pypiserver.PyPIServer(
                    url=running.url,
                    token=secret("pypi_token", "PYPI_TOKEN"),
                    packages=self.dir / "pypiserver" / "packages",
                    process=running,
                )
            elif name in ("jsr", "github"):
                token = (
                    secret("jsr_token", "JSR_TOKEN")
                    if name == "jsr"
                    else secret("github_token", "GITHUB_TOKEN")
                )
                self._services[name] = servers.TestServer(
                    name=name,
                    url=running.url,
                    token=token,
                    process=running,
                    repo=str(state.get("repo")) if name == "github" else None,
                )
            elif name == "oidc":
                self._services[name] = servers.OidcIssuer(
                    url=running.url,
                    request_token=secret("oidc_request_token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
                    process=running,
                )
            elif name in ("npm-oidc", "pypi-oidc"):
                self._services[name] = servers.ExchangeFrontEnd(
                    kind=name.split("-")[0], url=running.url, process=running
                )

    # --- what callers read --------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment a release against this sandbox needs (holds tokens!): trusted
        publishing from a simulated GitHub Actions job with ``oidc``, else registry tokens."""
        return self.oidc_env() if self.oidc else self.token_env()

    def oidc_env(self) -> dict[str, str]:
        """A GitHub Actions job with ``id-token: write``: no registry token at all (the npm and
        PyPI URLs are the exchange front-ends'); ``GITHUB_TOKEN`` stays, as in Actions."""
        env = self.token_env()
        for name in ("NPM_TOKEN", "JSR_TOKEN", "PYPI_TOKEN", "TWINE_USERNAME"):
            env.pop(name, None)
        s = self._services
        npm = s.get("npm-oidc")
        if isinstance(npm, servers.ExchangeFrontEnd):
            env["NPM_CONFIG_REGISTRY"] = npm.url + "/"
        pypi = s.get("pypi-oidc")
        if isinstance(pypi, servers.ExchangeFrontEnd):
            env["TWINE_REPOSITORY_URL"] = pypi.url + "/"
        issuer = s.get("oidc")
        if isinstance(issuer, servers.OidcIssuer):
            env["GITHUB_ACTIONS"] = "true"
            env["ACTIONS_ID_TOKEN_REQUEST_URL"] = issuer.request_url
            env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = issuer.request_token
        return env

    def token_env(self) -> dict[str, str]:
        """Registry tokens for verdaccio, pypiserver and the JSR server (no OIDC)."""
        env: dict[str, str] = {}
        s = self._services
        npm = s.get("verdaccio")
        if isinstance(npm, verdaccio.Verdaccio):
            env["NPM_CONFIG_REGISTRY"] = npm.url
            env["NPM_TOKEN"] = npm.token
        jsr = s.get("jsr")
        if isinstance(jsr, servers.TestServer):
            env["JSR_URL"] = jsr.url + "/"
            env["JSR_TOKEN"] = jsr.token
        pypi = s.get("pypiserver")
        if isinstance(pypi, pypiserver.PyPIServer):
            env["TWINE_REPOSITORY_URL"] = pypi.upload_url
            env["TWINE_USERNAME"] = pypiserver.TOKEN_USER
            env["PYPI_TOKEN"] = pypi.token
        github = s.get("github")
        if isinstance(github, servers.TestServer):
            env["GITHUB_API_URL"] = github.url
            env["GITHUB_TOKEN"] = github.token
            env["GITHUB_REPOSITORY"] = github.repo or self.repo
        git = s.get("git")
        if isinstance(git, GitRemote):
            env["SHIPIT_SANDBOX_GIT_REMOTE"] = str(git.path)
        return env

    def describe(self) -> dict[str, Any]:
        """``{"dir", "env", "services": [{"name", "url", "pid"}]}`` (env holds tokens)."""
        services = [
            {"name": name, "url": service.url, "pid": running.pid if running else None}
            for name, service, running in self._started()
        ]
        return {"dir": str(self.dir), "env": self.env(), "services": services}

    # --- status and stopping ------------------------------------------------------------

    def _statuses(self, state: Mapping[str, Any]) -> list[ServiceStatus]:
        result = []
        for entry in state.get("services") or []:
            name = str(entry.get("name"))
            url = str(entry.get("url"))
            pid = entry.get("pid")
            if not isinstance(pid, int):
                exists = Path(str((state.get("env") or {}).get("SHIPIT_SANDBOX_GIT_REMOTE")))
                ok = (exists / "HEAD").is_file()
                result.append(ServiceStatus(name, url, None, ok, ok))
                continue
            is_alive = process.alive(pid, entry.get("started"))
            result.append(ServiceStatus(name, url, pid, is_alive, is_alive and _ready(name, url)))
        return result

    def status(self) -> list[ServiceStatus]:
        """Each recorded service, whether its process lives and whether it answers."""
        state = self.read_state()
        if not state:
            return []
        return self._statuses(state)

    def down(self) -> list[str]:
        """Stop every service this sandbox started or recorded; return the names stopped."""
        if self.dir.is_dir():
            with self._dir_lock():
                return self._down()
        return self._down()

    def _down(self) -> list[str]:
        stopped: list[str] = []
        records: dict[int, tuple[str, str | None]] = {}
        for name, service in list(self._services.items()):
            running = _running_of(service)
            if running is not None:
                records[running.pid] = (name, running.started)
        state = self.read_state() if self.record and self.dir.is_dir() else None
        for entry in (state or {}).get("services") or []:
            pid = entry.get("pid")
            if isinstance(pid, int):
                records.setdefault(pid, (str(entry.get("name")), entry.get("started")))
        threads = []
        for pid, (name, started) in records.items():

            def stop_one(pid: int = pid, name: str = name, started: str | None = started) -> None:
                try:
                    if process.stop(pid, started):
                        stopped.append(name)
                except OSError as exc:  # reported below as "did not stop"
                    log.warning("stopping %s (pid %s) failed: %s", name, pid, exc)

            thread = threading.Thread(target=stop_one)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        stopped.extend(self._stop_strays(exclude=records))
        left = [pid for pid, (_, started) in records.items() if process.alive(pid, started)]
        self._services.clear()
        if state is not None:
            state["services"] = []
            _write_private(self.state_path, json.dumps(state, indent=2) + "\n")
        if left:
            raise SandboxError(
                "some sandbox processes did not stop",
                why="still running: " + ", ".join(str(p) for p in left),
                hint="kill them by PID: kill -9 " + " ".join(str(p) for p in left),
            )
        return sorted(stopped, key=ALL_SERVICES.index)

    def _stop_strays(self, exclude: Mapping[int, object] | None = None) -> list[str]:
        """Stop servers running in this sandbox's directories that no record names."""
        names = [n for n in ALL_SERVICES if n != "git"]
        stopped = []
        for pid in process.strays([self.dir / n for n in names]):
            if exclude and pid in exclude:
                continue
            try:
                cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            except OSError:
                continue
            log.warning("stopping a stray %s server (pid %s) left in %s", cwd.name, pid, cwd)
            if process.stop(pid):
                stopped.append(cwd.name)
        return stopped

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()


def _ready(name: str, url: str) -> bool:
    path = {
        "verdaccio": "-/ping",
        "pypiserver": "health",
    }.get(name, servers.HEALTH.lstrip("/"))
    try:
        with client(timeout=2.0) as http:
            return http.get(url.rstrip("/") + "/" + path).is_success
    except httpx.HTTPError:
        return False
