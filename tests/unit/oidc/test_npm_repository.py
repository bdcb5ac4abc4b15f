"""package.json `repository` in every form npm accepts, as the owner/name shipit compares with
the job's repository before trusted publishing."""

from __future__ import annotations

import pytest

from shipit.registries.npm import escaped_name, repository_of


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("github:acme/widget", "acme/widget"),
        ("acme/widget", "acme/widget"),
        ("git+https://github.com/acme/widget.git", "acme/widget"),
        ("https://github.com/acme/widget", "acme/widget"),
        ("git://github.com/acme/widget.git", "acme/widget"),
        ("git+ssh://git@github.com/acme/widget.git", "acme/widget"),
        ("git@github.com:acme/widget.git", "acme/widget"),
        ({"type": "git", "url": "git+https://github.com/acme/widget.git"}, "acme/widget"),
        (
            {"type": "git", "url": "https://github.com/acme/mono.git", "directory": "pkgs/a"},
            "acme/mono",
        ),
        ("gitlab:acme/widget", "gitlab:acme/widget"),  # not GitHub: shown as written
        ("https://gitlab.com/acme/widget", "https://gitlab.com/acme/widget"),
    ],
)
def test_repository_forms(value: object, expected: str) -> None:
    assert repository_of({"repository": value}) == expected


@pytest.mark.parametrize("manifest", [{}, {"repository": ""}, {"repository": {"type": "git"}}])
def test_no_repository(manifest: dict[str, object]) -> None:
    assert repository_of(manifest) is None


def test_escaped_names_as_npm_sends_them() -> None:
    assert escaped_name("@acme/widget") == "@acme%2fwidget"
    assert escaped_name("widget") == "widget"
