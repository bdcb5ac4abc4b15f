"""The GitHub actions the generated release workflow uses, each pinned by a full commit SHA.

A tag can be moved; a commit cannot. Each SHA is the commit its release tag names
(``git rev-parse <tag>^{commit}`` in the action's own repository), written with the version
in a comment (``uses: actions/checkout@<sha> # v7.0.1``) so a reader and Dependabot both
see which release it is. To update one: fetch the action's repository, read the new tag's
commit the same way, change the line here, and run ``shipit ci init --force``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """A GitHub action pinned by the full commit SHA of a release tag."""

    repo: str
    version: str
    sha: str

    def uses(self) -> str:
        return f"{self.repo}@{self.sha} # {self.version}"


CHECKOUT = Action("actions/checkout", "v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1")
SETUP_PYTHON = Action("actions/setup-python", "v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97")
SETUP_NODE = Action("actions/setup-node", "v7.0.0", "820762786026740c76f36085b0efc47a31fe5020")
SETUP_DENO = Action("denoland/setup-deno", "v2.0.4", "667a34cdef165d8d2b2e98dde39547c9daac7282")
SETUP_GO = Action("actions/setup-go", "v7.0.0", "b7ad1dad31e06c5925ef5d2fc7ad053ef454303e")
SETUP_UV = Action("astral-sh/setup-uv", "v10.0.1", "20cfd1bf945f4377ade1205e4dbc17946fc9a30d")
# v4.0.0 is an annotated tag (tag object 0c17529a66aca453f9227af23103ed11469b1e47); the pin is
# the commit it names. It reads the pnpm version from package.json's `packageManager`.
SETUP_PNPM = Action("pnpm/action-setup", "v4.0.0", "fe02b34f77f8bc703788d5817da081398fad5dd2")
UPLOAD_ARTIFACT = Action(
    "actions/upload-artifact", "v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"
)
DOWNLOAD_ARTIFACT = Action(
    "actions/download-artifact", "v8.0.1", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"
)

#: Every action above (the tests check each pin's shape).
ALL: tuple[Action, ...] = (
    CHECKOUT,
    SETUP_PYTHON,
    SETUP_NODE,
    SETUP_DENO,
    SETUP_GO,
    SETUP_UV,
    SETUP_PNPM,
    UPLOAD_ARTIFACT,
    DOWNLOAD_ARTIFACT,
)
