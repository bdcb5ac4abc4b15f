"""Secret redaction: every token shipit knows of is replaced by ``***`` in any text it emits.

Secrets are registered by value (from the environment at start-up, and by any code that
creates or reads a token, e.g. the sandbox). ``redact`` is applied to log records, process
output, error messages, journal entries and HTTP logs. This is the one deliberate piece of
process-wide state: a safety net must not depend on being passed around.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping

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

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(*values: str | None) -> None:
    """Remember secret values so that every later ``redact`` call hides them."""
    global _pattern
    with _lock:
        changed = False
        for value in values:
            if value and len(value) >= _MIN_LEN and value not in _secrets:
                _secrets.add(value)
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


def register_env(env: Mapping[str, str] | None = None) -> None:
    """Register the values of every secret-looking variable of ``env`` (default: os.environ)."""
    source = os.environ if env is None else env
    register(*(value for name, value in source.items() if is_secret_name(name)))


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` by ``***``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


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
