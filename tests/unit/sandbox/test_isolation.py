"""The environment of tests and rehearsals: no real registry, the user's proxy exceptions kept."""

from __future__ import annotations

from shipit.sandbox.isolation import isolated_env


def test_the_sandbox_keeps_the_users_no_proxy_hosts_and_adds_loopback() -> None:
    env = isolated_env({"NO_PROXY": "internal.example,.corp", "no_proxy": ""})
    assert env["NO_PROXY"] == "internal.example,.corp,127.0.0.1,localhost"
    assert env["no_proxy"] == "127.0.0.1,localhost"
