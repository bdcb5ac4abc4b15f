"""Launch shipit's own test servers (JSR, GitHub, fault proxy, OIDC issuer and the npm/PyPI
trusted-publishing front-ends) as detached subprocesses.

Each runs as ``python -m shipit.sandbox.<module> --port N ...``, announces
``listening on http://127.0.0.1:PORT`` on stdout (captured in its log file) and is ready when
``/_shipit/health`` answers 200.
"""

from __future__ import annotations

import secrets
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from shipit.files import write_text_atomic
from shipit.redact import masked, register
from shipit.sandbox import process
from shipit.sandbox.process import ProcessService, Running

HEALTH = "/_shipit/health"
#: the OIDC issuer's ID-token endpoint
TOKEN_PATH = "/idtoken"


def new_jsr_token() -> str:
    """A throw-away JSR-style personal access token."""
    return masked("jsrp_" + secrets.token_hex(24))


def new_github_token() -> str:
    """A throw-away GitHub-style token (``ghp_`` and 36 letters or digits)."""
    alphabet = string.ascii_letters + string.digits
    return masked("ghp_" + "".join(secrets.choice(alphabet) for _ in range(36)))


def new_request_token() -> str:
    """A throw-away ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` like the one Actions gives a job."""
    return masked("sbx-idtoken-" + secrets.token_urlsafe(24))


def request_url(issuer: str) -> str:
    """``ACTIONS_ID_TOKEN_REQUEST_URL`` for an issuer: it has a query string already, as
    GitHub's does (deno appends ``&audience=``, npm and ``id`` add a parameter)."""
    return issuer.rstrip("/") + TOKEN_PATH + "?api-version=2.0"


def _prepare(data_dir: Path, secret: str, file_name: str = "tokens") -> tuple[Path, Path]:
    """``data_dir/data`` (created) and a private file holding ``secret`` for the server."""
    register(secret)
    data = data_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    secret_file = data_dir / file_name
    write_text_atomic(secret_file, secret + "\n", mode=0o600)  # kept out of argv
    return data, secret_file


@dataclass(frozen=True)
class TestServer(ProcessService):
    """A running JSR or GitHub test server: ``url`` without trailing slash, and its token."""

    __test__ = False  # not a pytest test class

    name: str
    url: str
    token: str
    process: Running
    repo: str | None = None


def _launch(
    module: str,
    name: str,
    args: list[str],
    *,
    log: Path,
    port: int = 0,
    timeout: float = 30.0,
) -> Running:
    log.parent.mkdir(parents=True, exist_ok=True)
    offset = log.stat().st_size if log.exists() else 0
    argv = [sys.executable, "-m", f"shipit.sandbox.{module}", "--port", str(port), *args]
    popen = process.spawn(argv, log=log, cwd=log.parent)
    with process.stopped_on_error(popen):
        url = process.wait_for_url_line(popen, log, name=name, offset=offset, timeout=timeout)
        process.wait_ready(popen, url + HEALTH, name=name, log=log, timeout=timeout)
        actual_port = int(url.rsplit(":", 1)[1])
        return process.running(popen, name=name, url=url, port=actual_port, log=log)


def start_jsr(
    data_dir: Path,
    *,
    token: str,
    port: int = 0,
    auto_create: bool = True,
    oidc_issuer: str | None = None,
    trust_repo: str | None = None,
    upstream: str | None = None,
    local: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> TestServer:
    """Start the JSR test server with its state in ``data_dir/data``; with ``oidc_issuer`` it
    takes that issuer's ID tokens (``githuboidc``) for packages linked to ``trust_repo``; with
    ``upstream`` it reads packages it does not hold from that JSR."""
    data, token_file = _prepare(data_dir, token)
    args = ["--data", str(data), "--token-file", str(token_file)]
    if auto_create:
        args.append("--auto-create")
    if oidc_issuer:
        args += ["--oidc-issuer", oidc_issuer]
    if trust_repo:
        args += ["--trust-repo", trust_repo]
    if upstream:
        args += ["--upstream", upstream]
        for name in local:
            args += ["--local", name]
    running = _launch(
        "jsr_server", "jsr", args, log=data_dir / "jsr.log", port=port, timeout=timeout
    )
    return TestServer(name="jsr", url=running.url, token=token, process=running)


def start_github(
    data_dir: Path, *, token: str, repo: str, port: int = 0, timeout: float = 30.0
) -> TestServer:
    """Start the GitHub test server knowing ``repo`` (owner/name), state in ``data_dir/data``."""
    data, token_file = _prepare(data_dir, token)
    args = ["--data", str(data), "--token-file", str(token_file), "--repo", repo]
    running = _launch(
        "github_server", "github", args, log=data_dir / "github.log", port=port, timeout=timeout
    )
    return TestServer(name="github", url=running.url, token=token, process=running, repo=repo)


@dataclass(frozen=True)
class OidcIssuer:
    """The running OIDC issuer: ``url`` (its ``iss``) and the job's default request token."""

    url: str
    request_token: str
    process: Running

    @property
    def request_url(self) -> str:
        """``ACTIONS_ID_TOKEN_REQUEST_URL`` (with GitHub's query string)."""
        return request_url(self.url)


@dataclass(frozen=True)
class ExchangeFrontEnd:
    """A trusted-publishing front-end (``kind`` npm or pypi) in front of a sandbox registry."""

    kind: str
    url: str
    process: Running


def start_oidc_issuer(
    data_dir: Path,
    *,
    request_token: str,
    repo: str,
    environment: str | None = None,
    port: int = 0,
    timeout: float = 30.0,
) -> OidcIssuer:
    """Start the OIDC issuer (its signing key and profiles in ``data_dir/data``)."""
    data, token_file = _prepare(data_dir, request_token)
    args = ["--data", str(data), "--token-file", str(token_file), "--repo", repo]
    if environment:
        args += ["--environment", environment]
    running = _launch(
        "oidc_issuer", "oidc", args, log=data_dir / "oidc.log", port=port, timeout=timeout
    )
    return OidcIssuer(url=running.url, request_token=request_token, process=running)


def start_exchange(
    kind: str,
    data_dir: Path,
    *,
    upstream: str,
    issuer: str,
    secret: str,
    trust_repo: str | None,
    port: int = 0,
    timeout: float = 30.0,
) -> ExchangeFrontEnd:
    """Start the npm or PyPI trusted-publishing front-end; ``secret`` (verdaccio's sandbox-user
    password or pypiserver's token) goes to it in a private file, never on its command line."""
    data, secret_file = _prepare(data_dir, secret, "secret")
    args = [
        "--kind",
        kind,
        "--upstream",
        upstream,
        "--issuer",
        issuer,
        "--data",
        str(data),
        "--secret-file",
        str(secret_file),
    ]
    if trust_repo:
        args += ["--trust-repo", trust_repo]
    name = f"{kind}-oidc"
    running = _launch(
        "oidc_exchange", name, args, log=data_dir / f"{name}.log", port=port, timeout=timeout
    )
    return ExchangeFrontEnd(kind=kind, url=running.url, process=running)


def start_fault_proxy(upstream: str, *, log: Path, timeout: float = 30.0) -> Running:
    """Start a fault proxy in front of ``upstream`` as its own process."""
    return _launch("faults", "fault-proxy", ["--upstream", upstream], log=log, timeout=timeout)
