"""Whether this Python can build a project's sdist and wheel without an isolated environment.

``python -m build --no-isolation`` builds with the interpreter's installed packages: seconds
faster than an isolated build (a fresh virtualenv and a pip install of the build backend, per
distribution), but only when the backend and what it asks for are installed. Finding out by
trying costs a failed build (about 2 s on a loaded machine); ``has_build_backend`` answers
in-process from ``[build-system]`` and the installed distributions, so a caller goes straight
to the isolated build when the answer is no. setuptools before 70.1 also needs ``wheel`` to
make a wheel (what its ``get_requires_for_build_wheel`` asks for); extras of a requirement
are not followed (a wrong yes only costs the failed try the caller falls back from).
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

# PEP 517/518: a project without [build-system] is built by setuptools' legacy backend
_DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
_DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
_SETUPTOOLS_WITH_BDIST_WHEEL = Version("70.1")


def has_build_backend(directory: Path) -> bool:
    """Whether this interpreter has everything ``directory``'s build backend requires."""
    try:
        with (directory / "pyproject.toml").open("rb") as handle:
            table = tomllib.load(handle).get("build-system", {})
    except FileNotFoundError:
        table = {}
    except (OSError, tomllib.TOMLDecodeError):
        return False  # the build will say what is wrong
    if not isinstance(table, dict):
        return False
    requires = table.get("requires", list(_DEFAULT_REQUIRES))
    if not isinstance(requires, list):
        return False
    needed = [str(r) for r in requires]
    if str(table.get("build-backend", _DEFAULT_BACKEND)).startswith("setuptools"):
        setuptools = _installed("setuptools")
        if setuptools is None or setuptools < _SETUPTOOLS_WITH_BDIST_WHEEL:
            needed.append("wheel")
    return all(_satisfied(spec) for spec in needed)


def _installed(name: str) -> Version | None:
    try:
        return Version(metadata.version(name))
    except (metadata.PackageNotFoundError, InvalidVersion):
        return None


def _satisfied(spec: str) -> bool:
    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return False
    if requirement.marker is not None and not requirement.marker.evaluate():
        return True  # not for this Python or platform
    version = _installed(requirement.name)
    return version is not None and requirement.specifier.contains(version, prereleases=True)
