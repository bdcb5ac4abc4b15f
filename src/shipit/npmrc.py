"""npm's configuration as npm reads it, for the settings shipit honours on npm's behalf.

``npm_config(key, env, project)``: the first of the ``npm_config_<key>`` environment variables
(any case, ``-`` as ``_``), the project's ``.npmrc``, and the user's (``NPM_CONFIG_USERCONFIG``
or ``~/.npmrc``), in npm's order of precedence (builtin and global configs are left out).
Used for the registry a rehearsal's sandbox reads through, and ``cafile`` / ``strict-ssl``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def read_npmrc(path: Path) -> dict[str, str]:
    """``key=value`` lines of an ``.npmrc`` (keys lower-cased; quotes and comments dropped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().lower()] = value.strip().strip("\"'")
    return values


def npm_config(
    key: str, env: Mapping[str, str] | None = None, project: Path | None = None
) -> str | None:
    """npm's value for ``key`` (e.g. ``registry``, ``cafile``, ``strict-ssl``), or None."""
    source = os.environ if env is None else env
    wanted = "npm_config_" + key.lower().replace("-", "_")
    for name, value in source.items():
        if name.lower() == wanted and value:
            return value
    layers = []
    if project is not None:
        layers.append(read_npmrc(project / ".npmrc"))
    user = next((v for k, v in source.items() if k.lower() == "npm_config_userconfig" and v), None)
    layers.append(read_npmrc(Path(user).expanduser() if user else Path.home() / ".npmrc"))
    for layer in layers:
        if layer.get(key):
            return layer[key]
    return None
