"""The private .npmrc of a publish keeps the user's network settings, nothing else of theirs."""

from __future__ import annotations

from pathlib import Path

from shipit.steps._npmrc import userconfig


def test_the_users_proxy_and_ca_settings_are_carried_over(tmp_path: Path) -> None:
    user = tmp_path / "npmrc"
    user.write_text(
        "cafile=/etc/company/ca.pem\n"
        "strict-ssl=true\n"
        "https-proxy=http://proxy.example:3128\n"
        "noproxy=internal.example\n"
        "//registry.npmjs.org/:_authToken=npm_users_own_token\n"
        "registry=https://npm.example/\n"
    )
    with userconfig(
        "http://127.0.0.1:4873/", "npm_release_token", {"NPM_CONFIG_USERCONFIG": str(user)}
    ) as rc:
        text = rc.read_text()
        assert rc.stat().st_mode & 0o777 == 0o600
    assert text.splitlines() == [
        "cafile=/etc/company/ca.pem",
        "strict-ssl=true",
        "https-proxy=http://proxy.example:3128",
        "noproxy=internal.example",
        "registry=http://127.0.0.1:4873/",
        "//127.0.0.1:4873/:_authToken=npm_release_token",
    ]
    assert not rc.exists()  # deleted once the command is over
