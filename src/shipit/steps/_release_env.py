"""What every configured command of a release receives: the version and the tag.

A command configured anywhere (``[npm] build-command``, ``[pypi] build-command``,
``[binaries] command``, ``[[commands]]``) sees ``SHIPIT_VERSION`` (SemVer, ``1.2.0-rc.1``),
``SHIPIT_PEP440_VERSION`` (``1.2.0rc1``), ``SHIPIT_TAG``, ``SHIPIT_COMMIT`` and
``SHIPIT_RELEASE_DIR`` in its environment, and ``{version}`` / ``{tag}`` in its text are
replaced (``{pep440}`` too). Only those names are replaced, so a shell's own ``${VAR}`` or a
``{}`` of ``find -exec`` stays as written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from shipit.engine.step import Context
from shipit.errors import ShipitError
from shipit.project.versions import to_pep440


def pep440_of(version: str) -> str:
    """The PEP 440 form of ``version``, or ``version`` itself when it has none."""
    try:
        return to_pep440(version)
    except ShipitError:
        return version


def release_values(ctx: Context) -> dict[str, str]:
    """The placeholders every command template knows."""
    return {"version": ctx.version, "tag": ctx.tag, "pep440": pep440_of(ctx.version)}


def expand(command: str, ctx: Context, extra: Mapping[str, str] | None = None) -> str:
    """``command`` with ``{version}``, ``{tag}``, ``{pep440}`` (and ``extra``) replaced."""
    for key, value in {**release_values(ctx), **(extra or {})}.items():
        command = command.replace("{" + key + "}", value)
    return command


def release_env(ctx: Context, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: the release's environment) with the release's variables set."""
    env = dict(base if base is not None else (ctx.env or os.environ))
    env.update(
        SHIPIT_VERSION=ctx.version,
        SHIPIT_PEP440_VERSION=pep440_of(ctx.version),
        SHIPIT_TAG=ctx.tag,
        SHIPIT_COMMIT=ctx.commit,
        SHIPIT_RELEASE_DIR=str(ctx.release_dir),
    )
    return env
