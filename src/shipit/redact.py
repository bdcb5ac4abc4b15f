"""Secret redaction: every token shipit knows of is replaced by ``***`` in any text it emits.

Secrets are registered by value (from the environment at start-up, and by any code that
creates or reads a token, e.g. the sandbox), each with the forms it travels in (URL-quoted,
base64). A URL's password (``https://user:pass@host/``) is masked wherever a URL appears, known
or not (``https://user:***@host/``; an http(s) userinfo without a password, often a token, is
masked whole), and the passwords of the URLs shipit is given are registered as secrets too.
``redact`` is applied to log records, process output, error messages, journal entries and
HTTP logs. This is the one deliberate piece of process-wide state: a safety net must not
depend on being passed around.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MASK = "***"

#: Environment variables whose values are secrets wherever they appear.
SECRET_ENV_VARS: tuple[str, ...] = (
    "NPM_TOKEN",
    "NODE_AUTH_TOKEN",
    "NPM_OTP",
    "JSR_TOKEN",
    "PYPI_TOKEN",
    "TWINE_PASSWORD",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "MINISIGN_PASSWORD",
    "MINISIGN_KEY",
    "GPG_PASSPHRASE",
    "GPG_PRIVATE_KEY",
    "SHIPIT_NOTIFY_URLS",
)

_SECRET_NAME = re.compile(r"(TOKEN|PASSWORD|PASSPHRASE|SECRET|_KEY$|APIKEY|API_KEY)", re.I)
_MIN_LEN = 4
_MIN_ENCODED_LEN = 8  # shorter values' encodings would mask ordinary words

#: ``scheme://user:password@`` (password masked) and ``http(s)://userinfo@`` (masked whole).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@?#]*):[^/\s@?#]+@")
_HTTP_USERINFO = re.compile(r"(?P<head>\bhttps?://)(?!\*\*\*[:@])[^/\s:@?#]+@", re.I)

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def encoded_forms(value: str) -> list[str]:
    """``value`` and the forms it travels in: URL-quoted, and base64 (standard and URL-safe,
    without padding)."""
    raw = value.encode("utf-8")
    forms = [
        value,
        quote(value, safe=""),
        base64.b64encode(raw).decode("ascii").rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    ]
    return list(dict.fromkeys(forms))


def register(*values: str | None) -> None:
    """Remember secret values so that every later ``redact`` call hides them (in each of
    their ``encoded_forms``)."""
    global _pattern
    with _lock:
        changed = False
        for value in values:
            if not value or len(value) < _MIN_LEN:
                continue
            for form in encoded_forms(value) if len(value) >= _MIN_ENCODED_LEN else [value]:
                if form not in _secrets:
                    _secrets.add(form)
                    changed = True
        if changed:
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def masked(value: str) -> str:
    """``value``, registered as a secret first (for code that makes tokens)."""
    register(value)
    return value


def is_secret_name(name: str) -> bool:
    """True for environment variable names that conventionally hold secrets."""
    return name in SECRET_ENV_VARS or bool(_SECRET_NAME.search(name))


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without its ``user:password@`` part, and that user and password (unquoted;
    None when absent). Tools get the clean URL on their command line and the credentials
    through their environment or a private file."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user) or None, unquote(password) if colon and password else None


def url_secrets(url: str) -> list[str]:
    """The secret part of a URL's userinfo (unquoted): its password, or for an http(s) URL
    without a password its user part (a token used as user name)."""
    try:
        _, user, password = split_userinfo(url.strip())
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return []
    if password:
        return [password]
    return [user] if user and scheme in ("http", "https") else []


def register_url(*urls: str | None) -> None:
    """Register the userinfo secrets of each URL (see ``url_secrets``)."""
    for url in urls:
        if url:
            register(*url_secrets(url))


def register_env(env: Mapping[str, str] | None = None) -> None:
    """Register the values of every secret-looking variable of ``env`` (default: os.environ)
    and the password of every URL-valued variable."""
    source = os.environ if env is None else env
    register(*(value for name, value in source.items() if is_secret_name(name)))
    register_url(*(value for value in source.values() if "://" in value and "@" in value))


def redact(text: str) -> str:
    """Replace every registered secret and every URL password in ``text`` by ``***``."""
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "@" in text and "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
        text = _HTTP_USERINFO.sub(rf"\g<head>{MASK}@", text)
    return text


def redact_all(texts: Iterable[str]) -> list[str]:
    return [redact(t) for t in texts]


def known_secrets() -> frozenset[str]:
    """For tests: the registered values."""
    with _lock:
        return frozenset(_secrets)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg = message
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
