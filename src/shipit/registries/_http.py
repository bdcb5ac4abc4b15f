"""What every adapter does with HTTP: read with a classified failure, decode JSON, and say a
failure in one short line.

Failures are the classified errors of ``shipit.errors`` (``shipit.http.classify_http`` and
``classify_transport``): ``TransientError`` for connection errors, timeouts, 408/429/5xx
(with ``Retry-After``), ``RegistryError`` (permanent) for 401/403/404 and other 4xx,
``OutcomeUnknown`` only for a write whose request may have reached the server. URLs and
bodies are redacted; a token is never formatted.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from shipit.errors import (
    OutcomeUnknown,
    PermanentError,
    RegistryError,
    ShipitError,
    TransientError,
)
from shipit.http import classify_http, classify_transport
from shipit.redact import redact

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})


def status_error(
    response: httpx.Response, what: str, *, hint: str | None = None, why: str | None = None
) -> ShipitError:
    """The classified error for an unexpected HTTP answer, with the caller's wording."""
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
    """A connection-level failure. ``sent``: the request may have changed something (a
    write); reads are always plainly transient."""
    failure = classify_transport(exc)
    failure.what = what
    failure.why = f"{type(exc).__name__}: {redact(str(exc)) or 'connection failed'}"
    if isinstance(failure, OutcomeUnknown) and not sent:
        return TransientError(what, why=failure.why, hint="shipit retries on its own")
    if not failure.hint:
        failure.hint = "check the network; shipit retries on its own"
    return failure


def send(
    client: httpx.Client,
    method: str,
    url: str,
    what: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
) -> httpx.Response:
    """Send one request; connection failures raise classified errors (chained to the httpx
    error, so ``short_reason`` can tell a refused connection from a timeout): a lost answer
    to an idempotent request is plainly transient, to any other ``OutcomeUnknown``. The
    caller judges the status."""
    try:
        if json_body is not None:
            return client.request(method, url, headers=headers, json=json_body)
        return client.request(method, url, headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(exc, what, sent=method not in IDEMPOTENT) from exc


def get(
    client: httpx.Client, url: str, what: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET ``url``; see ``send``."""
    return send(client, "GET", url, what, headers=headers)


def json_of(response: httpx.Response, what: str) -> Any:
    """The JSON body; a body that is not JSON (a proxy's error page) is transient."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TransientError(
            what,
            why=f"{redact(str(response.request.url))} answered {response.status_code} "
            f"with something that is not JSON: {redact(response.text[:200])!r}",
        ) from None


def json_dict(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON body when it is an object, else {}."""
    data = json_of(response, what)
    return data if isinstance(data, dict) else {}


def short_reason(exc: ShipitError, where: str) -> str:
    """One line for a dashboard: "cannot connect to W", "W did not answer in time",
    "W answered 503", or the error's own sentence."""
    cause = exc.__cause__
    if isinstance(cause, httpx.TimeoutException):
        return f"{where} did not answer in time"
    if isinstance(cause, httpx.ConnectError):
        return f"cannot connect to {where}"
    if isinstance(cause, httpx.HTTPError):
        return f"{where}: {type(cause).__name__}: {redact(str(cause))}"
    if isinstance(exc, TransientError | RegistryError) and exc.status is not None:
        return f"{where} answered {exc.status}"
    return redact(exc.what)
