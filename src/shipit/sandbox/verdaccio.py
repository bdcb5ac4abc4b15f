"""The sandbox's npm registry: a real verdaccio, installed once into shipit's cache.

``install()`` runs ``npm install verdaccio@6`` (with the ``node-fetch`` override it needs, see
PROTOCOLS.md) in a temporary directory and renames it into place under a file lock, so two
processes never race and a half-finished install is never used. ``start()`` writes a config
(storage in the sandbox directory, htpasswd auth, loopback port, no web UI; with ``upstream``
an uplink that serves reads of packages the sandbox does not hold, except the project's own
``local`` packages, which stay purely local so a rehearsed publish never meets the real one),
launches verdaccio detached, waits for ``/-/ping`` and logs a user in through the REST API to
get its token. ``python -m shipit.sandbox.verdaccio --install`` prints the install path.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
from filelock import FileLock

from shipit import proc
from shipit.errors import SandboxInstallError, ServerStartError, ShipitError, ToolMissingError
from shipit.http import client
from shipit.redact import register
from shipit.sandbox import process
from shipit.sandbox.process import ProcessService, Running

VERDACCIO_SPEC = "verdaccio@6"
#: verdaccio 6 depends on ``node-fetch@cjs``, a tag that no longer resolves (PROTOCOLS.md)
OVERRIDES = {"node-fetch": "2.7.0"}
MIN_NODE_MAJOR = 18
_STAMP = ".shipit-installed"
_NODE_HINT = (
    "install Node.js 18 or newer with npm (https://nodejs.org), then run "
    "`python -m shipit.sandbox.verdaccio --install`"
)


def cache_root(env: dict[str, str] | None = None) -> Path:
    """shipit's cache: ``$SHIPIT_CACHE_DIR``, ``$XDG_CACHE_HOME/shipit`` or ``~/.cache/shipit``."""
    source = os.environ if env is None else env
    explicit = source.get("SHIPIT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = source.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "shipit"


def install_dir(env: dict[str, str] | None = None) -> Path:
    """Where verdaccio is (or will be) installed."""
    return cache_root(env) / "verdaccio"


def entry_point(root: Path) -> Path:
    return root / "node_modules" / "verdaccio" / "bin" / "verdaccio"


def is_installed(root: Path | None = None) -> bool:
    root = root or install_dir()
    return (root / _STAMP).is_file() and entry_point(root).is_file()


def require_node() -> str:
    """The path of ``node`` (18+), or a ToolMissingError saying how to get it."""
    return _checked_node(proc.which("node"))


@functools.lru_cache(maxsize=8)
def _checked_node(node: str | None) -> str:
    """Check ``node``'s version once per process (failures are not cached)."""
    if node is None:
        raise ToolMissingError(
            "Node.js (`node`) is not installed or not on PATH",
            why="the sandbox's npm registry is verdaccio, a Node.js program",
            hint=_NODE_HINT,
        )
    result = proc.run([node, "--version"], timeout=30)
    version = result.stdout.strip().lstrip("v")
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 0
    if not result.ok or major < MIN_NODE_MAJOR:
        raise ToolMissingError(
            f"Node.js {version or '(unknown version)'} is too old for verdaccio",
            why=f"verdaccio 6 needs Node.js {MIN_NODE_MAJOR} or newer",
            hint=_NODE_HINT,
        )
    return node


def _install_env() -> dict[str, str]:
    """The environment for ``npm install``: never the sandbox registry itself."""
    env = dict(os.environ)
    for name in list(env):
        if name.lower() == "npm_config_registry":
            value = env[name]
            if "127.0.0.1" in value or "localhost" in value:
                del env[name]
    mirror = env.get("SHIPIT_VERDACCIO_INSTALL_REGISTRY")
    if mirror:
        env["NPM_CONFIG_REGISTRY"] = mirror
    env.setdefault("NPM_CONFIG_UPDATE_NOTIFIER", "false")
    return env


def install(root: Path | None = None, *, timeout: float = 900.0) -> Path:
    """Install verdaccio into ``root`` (default: the cache) unless it is there; return ``root``.

    Safe to call from several processes at once: the first installs, the others wait.
    """
    root = root or install_dir()
    if is_installed(root):
        return root
    require_node()
    npm = proc.which("npm")
    if npm is None:
        raise ToolMissingError(
            "npm is not installed or not on PATH",
            why="verdaccio is installed with npm",
            hint=_NODE_HINT,
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root.parent / f".{root.name}.lock"), timeout=timeout + 60):
        if is_installed(root):
            return root
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            manifest = {
                "name": "shipit-sandbox-verdaccio",
                "private": True,
                "description": "verdaccio for shipit's sandbox (installed by shipit)",
                "overrides": OVERRIDES,
            }
            (tmp / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
            result = proc.run(
                [npm, "install", VERDACCIO_SPEC, "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=tmp,
                env=_install_env(),
                timeout=timeout,
            )
            if not result.ok or not entry_point(tmp).is_file():
                raise SandboxInstallError(
                    "could not install verdaccio (the sandbox's npm registry)",
                    why=f"`npm install {VERDACCIO_SPEC}` exited with {result.returncode}:\n"
                    + result.tail(),
                    hint="check your network or npm registry settings, then run "
                    "`python -m shipit.sandbox.verdaccio --install`",
                )
            (tmp / _STAMP).write_text(VERDACCIO_SPEC + "\n")
            if root.exists():  # an older, unfinished install: replace it
                shutil.rmtree(root)
            os.rename(tmp, root)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return root


@dataclass(frozen=True)
class Verdaccio(ProcessService):
    """A running verdaccio: ``url`` (with trailing slash, as npm writes registries) and token."""

    url: str
    token: str
    user: str
    process: Running

    def auth_key(self) -> str:
        """The ``.npmrc`` key for this registry's token: ``//127.0.0.1:PORT/:_authToken``."""
        return "//" + self.url.split("://", 1)[1] + ":_authToken"

    def npmrc(self) -> str:
        """``.npmrc`` text pointing npm at this registry with this token."""
        return f"registry={self.url}\n{self.auth_key()}={self.token}\n"


def _package_rules(pattern: str, proxy: bool) -> str:
    q = json.dumps
    return (
        f"  {q(pattern)}:\n"
        "    access: $all\n"
        "    publish: $authenticated\n"
        "    unpublish: $authenticated\n" + ("    proxy: upstream\n" if proxy else "")
    )


def write_config(
    data_dir: Path, port: int, *, upstream: str | None = None, local: Iterable[str] = ()
) -> Path:
    """Write verdaccio's config for a sandbox under ``data_dir``; return its path.

    ``upstream``: the registry reads of other packages go to (verdaccio's uplink); ``local``:
    package names never read from it (the project's own packages)."""
    storage = data_dir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = data_dir / "config.yaml"
    q = json.dumps  # JSON strings are valid YAML scalars, whatever the path holds
    uplinks = "uplinks: {}\n"
    if upstream:
        uplinks = (
            "uplinks:\n"
            "  upstream:\n"
            f"    url: {q(upstream)}\n"
            "    timeout: 30s\n"
            "    max_fails: 5\n"
            "    fail_timeout: 10s\n"
            # `npm audit` through the sandbox: verdaccio forwards it to npm's advisory service
            "middlewares:\n"
            "  audit:\n"
            "    enabled: true\n"
            # a publish never waits for (or fails with) the upstream: it stays here
            "publish:\n"
            "  allow_offline: true\n"
        )
    rules = "".join(_package_rules(name, proxy=False) for name in local)
    rules += _package_rules("@*/*", proxy=bool(upstream))
    rules += _package_rules("**", proxy=bool(upstream))
    config.write_text(
        "# generated by shipit's sandbox: rewritten on every start\n"
        f"storage: {q(str(storage))}\n"
        "auth:\n"
        "  htpasswd:\n"
        f"    file: {q(str(data_dir / 'htpasswd'))}\n"
        "    max_users: 1000\n"
        "    rounds: 4\n"  # throw-away passwords: cheap bcrypt, fast authenticated requests
        + uplinks
        + "packages:\n"
        + rules
        + f"listen: 127.0.0.1:{port}\n"
        "web:\n"
        "  enable: false\n"
        "max_body_size: 200mb\n"
        "log:\n"
        "  type: file\n"
        f"  path: {q(str(data_dir / 'verdaccio.log'))}\n"
        "  level: warn\n"
    )
    return config


def login(url: str, user: str, password: str) -> str:
    """Create ``user`` (or log in if it exists) through verdaccio's REST API; return a token."""
    path = f"/-/user/org.couchdb.user:{user}"
    body = {"name": user, "password": password}
    with client(base_url=url, timeout=15.0) as http:
        response = http.put(path, json=body)
        if response.status_code == 409:  # exists (a restart): log in for a new token
            response = http.put(path, json=body, auth=httpx.BasicAuth(user, password))
    token = response.json().get("token") if response.is_success else None
    if not isinstance(token, str) or not token:
        raise ServerStartError(
            f"verdaccio refused to create the sandbox user {user!r}",
            why=f"PUT {path} answered {response.status_code}: {response.text[:200]}",
            hint="run `shipit sandbox down` and remove the sandbox directory to start afresh",
        )
    register(token)
    return token


def whoami(url: str, token: str) -> str | None:
    """The user ``token`` belongs to on this registry, or None if it is not accepted."""
    register(token)
    with client(base_url=url, token=token, timeout=15.0) as http:
        response = http.get("/-/whoami")
    if not response.is_success:
        return None
    name = response.json().get("username")
    return name if isinstance(name, str) else None


def start(
    data_dir: Path,
    *,
    password: str,
    user: str = "shipit",
    root: Path | None = None,
    timeout: float = 60.0,
    port: int | None = None,
    token: str | None = None,
    upstream: str | None = None,
    local: Iterable[str] = (),
) -> Verdaccio:
    """Start verdaccio with its data under ``data_dir`` and return it with a user's token.
    ``upstream``/``local``: see ``write_config``.

    ``password`` is the sandbox user's password; keep it to log in again after a restart.
    ``token`` (from an earlier start on the same data) is kept if verdaccio still accepts it.
    """
    register(password)
    node = require_node()
    root = install(root)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = process.pick_port(port)
    config = write_config(data_dir, port, upstream=upstream, local=local)
    log = data_dir / "verdaccio.out"
    env = dict(os.environ)
    env["NODE_ENV"] = "production"
    popen = process.spawn(
        [node, str(entry_point(root)), "--config", str(config)], log=log, env=env, cwd=data_dir
    )
    url = f"http://127.0.0.1:{port}/"
    with process.stopped_on_error(popen):
        process.wait_ready(popen, url + "-/ping", name="verdaccio", log=log, timeout=timeout)
        if token is None or whoami(url, token) != user:
            token = login(url, user, password)
        record = process.running(popen, name="verdaccio", url=url, port=port, log=log)
        return Verdaccio(url=url, token=token, user=user, process=record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shipit.sandbox.verdaccio", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--install", action="store_true", help="install verdaccio if missing")
    args = parser.parse_args(argv)
    if not args.install:
        parser.print_help()
        return 2
    try:
        path = install()
    except ShipitError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return int(exc.exit_code)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
