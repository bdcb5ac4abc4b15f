"""Fixtures shared by every test: the sandbox's real registries, git repositories, names.

Servers are session-scoped and started lazily (only when a test asks for one), each in its own
process group under a session temp directory, and stopped at session end even when tests
fail. The whole session runs in an isolated environment: no real token, every registry
endpoint on a closed loopback port unless a test uses the sandbox's variables.
The logic lives in ``shipit.sandbox`` (rehearsals use it too); this file only wires it up.
"""

from __future__ import annotations

import atexit
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest

from shipit.sandbox import git_remote
from shipit.sandbox.faults import FaultProxy
from shipit.sandbox.isolation import isolated_env
from shipit.sandbox.manager import Sandbox
from shipit.sandbox.pypiserver import PyPIServer
from shipit.sandbox.servers import TestServer
from shipit.sandbox.verdaccio import Verdaccio

TEST_REPO = "shipit-test/project"
WHEELHOUSE = Path(__file__).resolve().parent.parent / ".venv" / "wheelhouse"


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test may reach a real registry or use a real token."""
    npmrc = tmp_path_factory.mktemp("npm-user") / "npmrc"
    npmrc.write_text("")
    saved = dict(os.environ)
    env = isolated_env(saved, npm_userconfig=npmrc)
    # Python builds (`python -m build`, isolated as users run it) install their build
    # backend from the wheelhouse scripts/setup.sh filled, never from the network
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE))
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # pytest then runs the fixtures' teardown: servers are stopped


@pytest.fixture(scope="session")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    # oidc: the OIDC issuer and exchanges start only when a test asks for `oidc_env`; the
    # JSR server always knows the issuer (githuboidc), the token way is unchanged
    sandbox = Sandbox(tmp_path_factory.mktemp("sandbox"), repo=TEST_REPO, record=False, oidc=True)
    atexit.register(sandbox.down)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        yield sandbox
    finally:
        sandbox.down()


@pytest.fixture(scope="session")
def verdaccio(_sandbox: Sandbox) -> Verdaccio:
    """A real verdaccio: ``.url`` (trailing slash), ``.token``, ``.npmrc()``."""
    service = _sandbox.service("verdaccio")
    assert isinstance(service, Verdaccio)
    return service


@pytest.fixture(scope="session")
def pypiserver(_sandbox: Sandbox) -> PyPIServer:
    """A real pypiserver: ``.upload_url``, ``.index_url``, ``.token`` (user ``__token__``)."""
    service = _sandbox.service("pypiserver")
    assert isinstance(service, PyPIServer)
    return service


@pytest.fixture(scope="session")
def jsr_server(_sandbox: Sandbox) -> TestServer:
    """The JSR test server (``--auto-create``): ``.url`` (no trailing slash), ``.token``."""
    service = _sandbox.service("jsr")
    assert isinstance(service, TestServer)
    return service


@pytest.fixture(scope="session")
def github_server(_sandbox: Sandbox) -> TestServer:
    """The GitHub test server: ``.url`` (API base), ``.token``, ``.repo`` (owner/name)."""
    service = _sandbox.service("github")
    assert isinstance(service, TestServer)
    return service


@pytest.fixture(scope="session")
def sandbox_env(_sandbox: Sandbox) -> dict[str, str]:
    """NPM_CONFIG_REGISTRY, NPM_TOKEN, JSR_URL, JSR_TOKEN, TWINE_REPOSITORY_URL,
    TWINE_USERNAME, PYPI_TOKEN, GITHUB_API_URL, GITHUB_TOKEN, GITHUB_REPOSITORY
    (all four servers, started in parallel)."""
    _sandbox.up(["verdaccio", "pypiserver", "jsr", "github"])
    return {k: v for k, v in _sandbox.token_env().items() if k != "SHIPIT_SANDBOX_GIT_REMOTE"}


@pytest.fixture(scope="session")
def oidc_sandbox(_sandbox: Sandbox) -> Sandbox:
    """The session's sandbox with trusted publishing running (issuer, npm and PyPI exchanges,
    githuboidc in the JSR server), trusting ``TEST_REPO``; use its ``service(...)`` for the
    URLs and tokens tests need to set things up (create packages, change trust)."""
    _sandbox.up()
    return _sandbox


@pytest.fixture(scope="session")
def oidc_env(oidc_sandbox: Sandbox) -> dict[str, str]:
    """A GitHub Actions job with ``id-token: write`` against the sandbox: GITHUB_ACTIONS,
    ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, the registries' URLs (npm and PyPI through their
    exchanges), GITHUB_API_URL/TOKEN/REPOSITORY, and no registry token."""
    env = oidc_sandbox.oidc_env()
    return {k: v for k, v in env.items() if k != "SHIPIT_SANDBOX_GIT_REMOTE"}


@pytest.fixture
def git_repo(tmp_path: Path) -> git_remote.GitRepo:
    """A fresh work clone (``.path``) of a bare ``origin`` (``.remote``), one commit on main,
    pushed with upstream set, local identity, signing off."""
    return git_remote.seeded_repo(tmp_path / "git")


@pytest.fixture
def unique_name() -> str:
    """A package name no other test uses: ``pkg-<hex>``."""
    return f"pkg-{secrets.token_hex(5)}"


class RequestLog:
    """The proxy's request log kept in memory: ``lines`` (requests and faults applied)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[str] = []

    def write(self, text: str) -> None:
        with self._lock:
            self._lines.extend(line for line in text.splitlines() if line)

    def flush(self) -> None:
        pass

    @property
    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    """Factory: ``fault_proxy(upstream_url)`` starts a fault proxy (stopped after the test);
    use ``proxy.url``, ``shipit.sandbox.faults.add_faults(proxy.url, ...)``, and
    ``proxy.app.log.lines`` (a RequestLog) to count what reached it."""
    started: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxy = FaultProxy(upstream.rstrip("/"), log=RequestLog()).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
