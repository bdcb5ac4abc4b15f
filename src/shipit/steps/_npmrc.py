"""A throw-away npm user config holding the registry token, so the token never sits in argv.

npm reads ``//host:port/path/:_authToken=...`` lines from the file named by
``NPM_CONFIG_USERCONFIG``; the file is created 0600 in a private temporary directory and
deleted as soon as the npm command is over.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from shipit.redact import register


def nerf_dart(registry: str) -> str:
    """npm's key for a registry's credentials: ``//host:port/path/`` (no scheme)."""
    parts = urlsplit(registry)
    path = parts.path or "/"
    if not path.endswith("/"):
        path = path.rsplit("/", 1)[0] + "/"
    return f"//{parts.netloc}{path}"


@contextlib.contextmanager
def userconfig(registry: str, token: str) -> Iterator[Path]:
    """Yield the path of a private ``.npmrc`` that authenticates ``token`` for ``registry``."""
    register(token)
    directory = Path(tempfile.mkdtemp(prefix="shipit-npmrc-"))
    try:
        os.chmod(directory, 0o700)
        path = directory / ".npmrc"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"registry={registry}\n")
            fh.write(f"{nerf_dart(registry)}:_authToken={token}\n")
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)
