"""An environment that cannot reach a real registry: for tests and rehearsals.

``isolated_env`` copies an environment, drops every real token, points every registry and API
endpoint at a closed loopback port (so a stray call fails fast instead of publishing to the
world), silences update checks and colours, then overlays the sandbox's own variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shipit.redact import SECRET_ENV_VARS

#: nothing listens on port 9 (discard) on a loopback address: connections are refused at once
CLOSED_URL = "http://127.0.0.1:9/"

#: endpoints read by shipit, npm, deno, twine and gh
ENDPOINT_VARS = (
    "NPM_CONFIG_REGISTRY",
    "JSR_URL",
    "TWINE_REPOSITORY_URL",
    "GITHUB_API_URL",
)
#: variables that could carry real credentials or point a tool somewhere real
DROPPED_VARS = (
    *SECRET_ENV_VARS,
    "npm_config_registry",
    "npm_config__auth",
    "NPM_CONFIG__AUTH",
    "TWINE_USERNAME",
    "TWINE_REPOSITORY",
    "TWINE_CONFIG_FILE",
    "GITHUB_REPOSITORY",
    "GH_HOST",
    "GH_ENTERPRISE_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
QUIET = {
    "NO_COLOR": "1",
    "DENO_NO_UPDATE_CHECK": "1",
    "DENO_NO_PROMPT": "1",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "NPM_CONFIG_AUDIT": "false",
    "NPM_CONFIG_FUND": "false",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def isolated_env(
    base: Mapping[str, str],
    sandbox: Mapping[str, str] | None = None,
    *,
    npm_userconfig: Path | None = None,
) -> dict[str, str]:
    """``base`` without real credentials, endpoints on loopback, then ``sandbox`` on top.

    ``npm_userconfig`` (an empty or sandbox-only ``.npmrc``) replaces the user's ``~/.npmrc``.
    """
    env = {k: v for k, v in base.items() if k not in DROPPED_VARS}
    for name in ENDPOINT_VARS:
        env[name] = CLOSED_URL
    env.update(QUIET)
    for name in ("NO_PROXY", "no_proxy"):  # the user's own exceptions stay, loopback added
        hosts = [h.strip() for h in base.get(name, "").split(",") if h.strip()]
        env[name] = ",".join(dict.fromkeys([*hosts, "127.0.0.1", "localhost"]))
    if npm_userconfig is not None:
        env["NPM_CONFIG_USERCONFIG"] = str(npm_userconfig)
    if sandbox:
        env.update(sandbox)
    return env
