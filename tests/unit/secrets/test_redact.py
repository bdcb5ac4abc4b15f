"""The redactor hides every registered secret in each form it travels in, and every URL's
password whether or not anyone registered it."""

from __future__ import annotations

import base64
from urllib.parse import quote

from shipit.config import Config, Settings
from shipit.redact import MASK, redact, register, register_env, url_secrets


def test_a_url_password_is_masked_even_when_nobody_registered_it() -> None:
    text = "upload to https://alice:n0t-registered-9Zq@pypi.example/legacy/ now"
    assert redact(text) == "upload to https://alice:***@pypi.example/legacy/ now"


def test_an_http_userinfo_without_password_is_masked_whole_but_git_users_are_not() -> None:
    assert redact("GET https://ghp_abcdef123456@github.example/x") == (
        "GET https://***@github.example/x"
    )
    assert redact("ssh://git@github.com/o/r.git") == "ssh://git@github.com/o/r.git"
    assert redact("mail me: a@b.example") == "mail me: a@b.example"


def test_registered_secrets_are_masked_raw_quoted_and_base64() -> None:
    secret = "tok/with+chars=and@signs-7Yh2"
    register(secret)
    quoted = quote(secret, safe="")
    b64 = base64.b64encode(secret.encode()).decode().rstrip("=")
    urlsafe = base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")
    for form in (secret, quoted, b64, urlsafe):
        assert redact(f"[{form}]") == f"[{MASK}]", form


def test_url_passwords_from_the_environment_are_registered_decoded_too() -> None:
    register_env({"SOME_INDEX": "https://bob:p%40ss-word-8Kx@index.example/simple/"})
    # the decoded password on its own (as a tool might print it) is masked as well
    assert redact("password is p@ss-word-8Kx") == f"password is {MASK}"


def test_settings_register_passwords_of_configured_urls() -> None:
    config = Config.model_validate(
        {"pypi": {"repository-url": "https://carol:cfg-pass-5Rt1@up.example/legacy/"}}
    )
    Settings.from_env({}, config)
    assert redact("cfg-pass-5Rt1") == MASK


def test_url_secrets() -> None:
    assert url_secrets("https://u:p%2Fw-1@h/") == ["p/w-1"]
    assert url_secrets("https://token-only@h/") == ["token-only"]
    assert url_secrets("ssh://git@h/") == []
    assert url_secrets("https://h/") == []
