"""A throw-away npm user config holding the registry's credentials, so they never sit in argv.

npm reads ``//host:port/path/:_authToken=...`` lines (or ``:username=`` and a base64
``:_password=`` for a registry URL with ``user:password@``) from the file named by
``NPM_CONFIG_USERCONFIG``; the file is created 0600 in a private temporary directory and
deleted as soon as the npm command is over. It replaces the user's own ``.npmrc`` for that
command, so the user's network settings (``cafile``, ``ca``, ``strict-ssl``, ``proxy``,
``https-proxy``, ``noproxy``, client certificates) are carried over: npm behind a proxy or a
company CA publishes as it does by hand. ``public_url`` is the registry URL as npm's
command line gets it: without ``user:password@``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from shipit.redact import register, split_userinfo


def nerf_dart(registry: str) -> str:
    """npm's key for a registry's credentials: ``//host:port/path/`` (no scheme)."""
    parts = urlsplit(registry)
    path = parts.path or "/"
    if not path.endswith("/"):
        path = path.rsplit("/", 1)[0] + "/"
    return f"//{parts.netloc}{path}"


NETWORK_KEYS = frozenset(
    {
        "cafile",
        "ca",
        "ca[]",
        "strict-ssl",
        "proxy",
        "https-proxy",
        "noproxy",
        "cert",
        "key",
        "local-address",
        "maxsockets",
    }
)


def network_lines(env: Mapping[str, str] | None = None) -> list[str]:
    """The network settings of the user's ``.npmrc`` (``NPM_CONFIG_USERCONFIG`` or
    ``~/.npmrc``), as written there."""
    source = os.environ if env is None else env
    named = next((v for k, v in source.items() if k.lower() == "npm_config_userconfig"), None)
    path = Path(named).expanduser() if named else Path.home() / ".npmrc"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    kept = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if "=" in line and key in NETWORK_KEYS:
            kept.append(line.strip())
    return kept


def public_url(registry: str) -> str:
    """``registry`` without ``user:password@``: what npm's command line may show."""
    return split_userinfo(registry)[0]


@contextlib.contextmanager
def userconfig(
    registry: str, token: str | None, env: Mapping[str, str] | None = None
) -> Iterator[Path]:
    """Yield the path of a private ``.npmrc`` that authenticates ``registry`` with ``token``,
    else with the URL's own ``user:password@`` (with the network settings of the user's
    ``.npmrc`` named in ``env``)."""
    url, user, password = split_userinfo(registry)
    register(token, password)
    carried = network_lines(env)
    directory = Path(tempfile.mkdtemp(prefix="shipit-npmrc-"))
    try:
        os.chmod(directory, 0o700)
        path = directory / ".npmrc"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(f"{line}\n" for line in carried)
            fh.write(f"registry={url}\n")
            if token:
                fh.write(f"{nerf_dart(url)}:_authToken={token}\n")
            elif user and password:
                encoded = base64.b64encode(password.encode("utf-8")).decode("ascii")
                fh.write(f"{nerf_dart(url)}:username={user}\n")
                fh.write(f"{nerf_dart(url)}:_password={encoded}\n")
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def auth_env(
    registry: str, token: str | None, env: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """``NPM_CONFIG_USERCONFIG`` for a private ``.npmrc`` when there are credentials (a
    token, or a password in the registry URL); nothing otherwise."""
    _, user, password = split_userinfo(registry)
    if not token and not (user and password):
        yield {}
        return
    with userconfig(registry, token, env) as rc:
        yield {"NPM_CONFIG_USERCONFIG": str(rc)}
