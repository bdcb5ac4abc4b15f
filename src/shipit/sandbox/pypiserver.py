"""The sandbox's PyPI: a real pypiserver on a free loopback port, token auth like PyPI's.

PyPI takes uploads as basic auth ``__token__`` / ``pypi-...``; the sandbox writes exactly that
user into an htpasswd file (passlib), so twine with ``TWINE_USERNAME=__token__`` and the token
as password works unchanged. ``--disable-fallback`` keeps unknown names from redirecting to
pypi.org. Packages live in the sandbox directory and survive a restart.
"""

from __future__ import annotations

import secrets
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from shipit import proc
from shipit.errors import ToolMissingError
from shipit.redact import masked, register
from shipit.sandbox import process
from shipit.sandbox.process import ProcessService, Running

TOKEN_USER = "__token__"


def new_token() -> str:
    """A fresh PyPI-style API token (throw-away, sandbox only)."""
    return masked("pypi-" + secrets.token_urlsafe(32))


def executable() -> str:
    """The ``pypi-server`` script installed beside the running Python (or on PATH)."""
    beside = Path(sys.executable).parent / "pypi-server"
    if beside.is_file():
        return str(beside)
    found = proc.which("pypi-server")
    if found is None:
        raise ToolMissingError(
            "pypiserver is not installed",
            why="the sandbox's PyPI registry is pypiserver, a Python package",
            hint="pip install 'shipit-release[sandbox]' (or run scripts/setup.sh)",
        )
    return found


def write_htpasswd(path: Path, token: str) -> None:
    """Write an htpasswd file whose only user is ``__token__`` with ``token`` as password."""
    try:
        with warnings.catch_warnings():  # passlib imports the deprecated `crypt` module
            warnings.simplefilter("ignore", DeprecationWarning)
            from passlib.apache import HtpasswdFile
    except ImportError:  # pragma: no cover - part of the sandbox extra
        raise ToolMissingError(
            "passlib is not installed",
            why="the sandbox writes pypiserver's password file with passlib",
            hint="pip install 'shipit-release[sandbox]' (or run scripts/setup.sh)",
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    htpasswd = HtpasswdFile(str(path), new=True)
    htpasswd.set_password(TOKEN_USER, token)
    htpasswd.save()
    path.chmod(0o600)


@dataclass(frozen=True)
class PyPIServer(ProcessService):
    """A running pypiserver. ``upload_url`` is what twine takes (trailing slash required)."""

    url: str
    token: str
    packages: Path
    process: Running

    @property
    def upload_url(self) -> str:
        return self.url

    @property
    def index_url(self) -> str:
        return self.url + "simple/"

    @property
    def username(self) -> str:
        return TOKEN_USER


def start(
    data_dir: Path, *, token: str, port: int | None = None, timeout: float = 30.0
) -> PyPIServer:
    """Start pypiserver serving ``data_dir/packages``; uploads need ``__token__``/``token``."""
    register(token)
    packages = data_dir / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    htpasswd = data_dir / "htpasswd"
    write_htpasswd(htpasswd, token)
    port = process.pick_port(port)
    log = data_dir / "pypiserver.log"
    argv = [
        executable(),
        "run",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-P",
        str(htpasswd),
        "-a",
        "update",
        "--disable-fallback",
        "--backend",
        "simple-dir",
        "--hash-algo",
        "sha256",
        str(packages),
    ]
    popen = process.spawn(argv, log=log, cwd=data_dir)
    url = f"http://127.0.0.1:{port}/"
    with process.stopped_on_error(popen):
        process.wait_ready(popen, url + "health", name="pypiserver", log=log, timeout=timeout)
        record = process.running(popen, name="pypiserver", url=url, port=port, log=log)
        return PyPIServer(url=url, token=token, packages=packages, process=record)
