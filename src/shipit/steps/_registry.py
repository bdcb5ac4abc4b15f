"""Shared plumbing of the registry publishers (npm, JSR, PyPI): HTTP reads with failure
classification, hashes of artifacts, and picking the relevant lines of a client's output.

Classification follows DESIGN.md: connection errors, timeouts, 408/429/5xx are transient
(``TransientError``, with the server's ``Retry-After``); 401/403/404 and other 4xx are
permanent. Nothing here ever formats a token: URLs and output are redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx

from shipit.engine.retry import classify_exception
from shipit.http import classify_http
from shipit.errors import OutcomeUnknown, PermanentError, ShipitError, TransientError
from shipit.redact import redact


def status_error(
    response: httpx.Response, what: str, *, hint: str | None = None, why: str | None = None
) -> ShipitError:
    """The classified error for an unexpected HTTP answer (``engine.retry.classify_http``:
    408/429/5xx transient with ``Retry-After``, other 4xx permanent), with our own wording."""
    failure = classify_http(response, what=what)
    if failure is None:  # a 1xx-3xx the caller did not expect
        failure = PermanentError(
            what, why=f"unexpected answer {response.status_code} from {response.request.url}"
        )
    if hint:
        failure.hint = hint
    elif isinstance(failure, TransientError) and not failure.hint:
        failure.hint = "the registry is busy or failing; shipit retries this on its own"
    if why:
        failure.why = why
    return failure


def transport_error(exc: httpx.HTTPError, what: str, *, sent: bool = False) -> ShipitError:
    """A connection-level failure. ``sent``: the request may have changed something (an
    upload); reads are always plainly transient."""
    failure = classify_exception(exc)
    failure.what = what
    failure.why = f"{type(exc).__name__}: {redact(str(exc)) or 'connection failed'}"
    if isinstance(failure, OutcomeUnknown) and not sent:
        return TransientError(what, why=failure.why, hint="shipit retries on its own")
    if not failure.hint:
        failure.hint = "check the network; shipit retries on its own"
    return failure


def get(
    client: httpx.Client, url: str, what: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET ``url``; transport failures become TransientError. The caller judges the status."""
    try:
        return client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(exc, what) from None


def json_of(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TransientError(
            what,
            why=f"{redact(str(response.request.url))} answered {response.status_code} "
            f"with something that is not JSON: {redact(response.text[:200])!r}",
        ) from None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RELEVANT = re.compile(
    r"(error|ERR!|ERROR|HTTPError|Caused by|fail|denied|forbidden|unauthori[sz]ed|"
    r"already|warning|invalid|\b[45]\d\d\b)",
    re.IGNORECASE,
)


def relevant_lines(output: str, limit: int = 12) -> str:
    """The lines of a client's output that explain a failure (or its tail if none match)."""
    lines = [
        _ANSI.sub("", line).rstrip()
        for line in output.splitlines()
        if line.strip() and not line.strip().startswith("<")
    ]
    picked = [line for line in lines if _RELEVANT.search(line)]
    chosen = picked[-limit:] if picked else lines[-limit:]
    return redact("\n".join(chosen))


def first_match(patterns: Iterable[str], text: str) -> re.Match[str] | None:
    for pattern in patterns:
        m = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
        if m:
            return m
    return None
