"""Failure classification and retry: transient failures are retried, permanent ones stop.

Transient: connection reset/refused, timeouts, HTTP 408/429/5xx, npm E429/E5xx/ECONNRESET/
ETIMEDOUT/EAI_AGAIN. Permanent: 401/403/404, validation errors, version exists with other
content. ``OutcomeUnknown`` marks a request that may have taken effect (upload sent, answer
lost): the orchestrator probes before it retries.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx
import stamina

from shipit.config import RetryConfig
from shipit.errors import (
    OutcomeUnknown,
    PermanentError,
    ShipitError,
    StepFailure,
    TransientError,
)
from shipit.redact import redact

T = TypeVar("T")


# ---------------------------------------------------------------- classification
# Every failure is classified here, in one place: steps call these helpers and raise what they
# return; the orchestrator retries TransientError (probing first after OutcomeUnknown).

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_PERMANENT_HINTS: dict[int, str] = {
    400: "the request was rejected as invalid; fix what the message names and run `shipit resume`",
    401: "the token is missing, wrong or expired: set a valid token and run `shipit resume`",
    403: "the token may not do this (rights, scope, 2FA): use a token with publish rights "
    "and run `shipit resume`",
    404: "the package, repository or URL does not exist or the token cannot see it: check "
    "the name and URL, then run `shipit resume`",
    409: "the server holds something else under this name: run `shipit plan` to see it",
    422: "the server refused the content: fix what the message names, then `shipit resume`",
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def retry_after_of(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """``Retry-After``, or the wait until ``x-ratelimit-reset`` when the limit is exhausted."""
    after = parse_retry_after(_header(headers, "retry-after"), now=now)
    if after is not None:
        return after
    if _header(headers, "x-ratelimit-remaining") == "0":
        reset = _header(headers, "x-ratelimit-reset")
        if reset is not None:
            try:
                current = time.time() if now is None else now
                return max(0.0, float(reset) - current)
            except ValueError:
                return None
    return None


def classify_http(
    response_or_status: httpx.Response | int,
    headers: Mapping[str, str] | None = None,
    *,
    what: str | None = None,
) -> StepFailure | None:
    """The failure an HTTP answer means, or None for success (1xx-3xx).

    408/425/429/5xx and rate limits (403/429 with ``x-ratelimit-remaining: 0`` or
    ``Retry-After``) are transient, with ``retry_after`` from the headers; other 4xx are
    permanent, with a hint for the common ones.
    """
    if isinstance(response_or_status, httpx.Response):
        status = response_or_status.status_code
        if headers is None:
            headers = dict(response_or_status.headers)
        body = _short_body(response_or_status)
        url = (
            redact(str(response_or_status.request.url)) if _has_request(response_or_status) else ""
        )
    else:
        status = int(response_or_status)
        body = ""
        url = ""
    if status < 400:
        return None
    where = f" from {url}" if url else ""
    message = what or f"the server answered HTTP {status}{where}"
    why = f"HTTP {status}" + (f": {body}" if body else "")
    retry_after = retry_after_of(headers)
    rate_limited = status in (403, 429) and (
        _header(headers, "x-ratelimit-remaining") == "0" or _header(headers, "retry-after")
    )
    if status in TRANSIENT_STATUS or rate_limited:
        return TransientError(message, why=why, retry_after=retry_after)
    hint = _PERMANENT_HINTS.get(status, "see the message above, fix it, then `shipit resume`")
    return PermanentError(message, why=why, hint=hint)


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def _short_body(response: httpx.Response) -> str:
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""
    text = " ".join(text.split())
    return redact(text[:300])


def classify_exception(exc: BaseException) -> StepFailure:
    """Turn any exception a step met into a classified failure.

    Connection refused/DNS/connect timeouts never sent anything: transient. Errors after the
    request went out (read timeout, reset, protocol error) may have taken effect:
    ``OutcomeUnknown``. Already-classified errors pass through; ShipitError and everything
    else is permanent.
    """
    if isinstance(exc, StepFailure):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        failure = classify_http(exc.response)
        return failure or PermanentError(redact(str(exc)))
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(
            "could not connect to the server",
            why=redact(f"{type(exc).__name__}: {exc}"),
        )
    if isinstance(exc, httpx.TransportError | httpx.TimeoutException):
        return OutcomeUnknown(
            "the connection failed after the request was sent",
            why=redact(f"{type(exc).__name__}: {exc}"),
        )
    if isinstance(exc, ConnectionError | TimeoutError):
        return TransientError("a network connection failed", why=redact(str(exc)))
    if isinstance(exc, ShipitError):
        return PermanentError(exc.what, why=exc.why, hint=exc.hint, code=exc.code)
    return PermanentError(
        f"unexpected error: {type(exc).__name__}",
        why=redact(str(exc)),
        hint="run again with -v for details; this may be a bug in shipit",
    )


_NPM_CODE = re.compile(r"npm (?:error|ERR!) code (E[A-Z0-9_]+)")
_NPM_TRANSIENT = frozenset(
    {
        "E429",
        "ECONNRESET",
        "ETIMEDOUT",
        "EAI_AGAIN",
        "ECONNREFUSED",
        "EPIPE",
        "ESOCKETTIMEDOUT",
        "E408",
    }
)
_NPM_PERMANENT_HINTS: dict[str, str] = {
    "ENEEDAUTH": "npm has no token for this registry: set NPM_TOKEN, then `shipit resume`",
    "E401": "the npm token was refused: set a valid NPM_TOKEN, then `shipit resume`",
    "E403": "npm forbade the publish (rights, 2FA or a taken name): check the token's "
    "rights, then `shipit resume`",
    "EOTP": "the registry wants a one-time password: set NPM_OTP (or use an automation "
    "token), then `shipit resume`",
    "E404": "the package or registry URL was not found: check `npm.registry` and the package name",
    "ENOTFOUND": "the registry host name does not resolve: check NPM_CONFIG_REGISTRY "
    "and the network",
    "EPUBLISHCONFLICT": "this version is already published: run `shipit plan` to compare",
    "E409": "this version is already published: run `shipit plan` to compare",
}


def npm_error_code(text: str) -> str | None:
    """The ``npm error code EXXX`` of npm's output, if any."""
    match = _NPM_CODE.search(text)
    return match.group(1) if match else None


def classify_npm_output(text: str, *, what: str = "npm failed") -> StepFailure | None:
    """Classify a failed npm command by the error code in its output (None: no code found)."""
    code = npm_error_code(text)
    if code is None:
        for token in _NPM_TRANSIENT:
            if re.search(rf"\b{token}\b", text):
                code = token
                break
    if code is None:
        return None
    tail = redact("\n".join(text.strip().splitlines()[-8:]))
    if code in _NPM_TRANSIENT or re.fullmatch(r"E5\d\d", code):
        return TransientError(f"{what} ({code})", why=tail)
    hint = _NPM_PERMANENT_HINTS.get(code, "see npm's message above, fix it, then `shipit resume`")
    return PermanentError(f"{what} ({code})", why=tail, hint=hint)


# ---------------------------------------------------------------- retrying

RetryHook = Callable[[int, StepFailure, float], None]
"""Called before each wait: (attempt that failed, its failure, seconds until the next)."""


def backoff_for(exc: Exception, config: RetryConfig) -> bool | float:
    """stamina's backoff hook: False for permanent, the server's wait (capped) or True."""
    failure = classify_exception(exc)
    if not isinstance(failure, TransientError):
        return False
    if failure.retry_after is not None:
        return min(failure.retry_after, max(config.max_total, config.max_wait))
    return True


def retrying(
    config: RetryConfig,
    fn: Callable[[int], T],
    *,
    on_retry: RetryHook | None = None,
) -> T:
    """Call ``fn(attempt)`` until it succeeds, retrying transient failures with stamina.

    Exponential backoff with jitter from ``initial-wait`` up to ``max-wait``, at most
    ``attempts`` tries and ``max-total`` seconds; a ``retry_after`` on the failure replaces
    the computed wait. Raises the classified failure of the last attempt. In tests,
    ``stamina.set_testing(True, attempts=N)`` makes the waits instant.
    """

    def hook(exc: Exception) -> bool | float:
        decision = backoff_for(exc, config)
        failure = classify_exception(exc)
        if decision is not False and on_retry is not None:
            wait = decision if not isinstance(decision, bool) else config.initial_wait
            on_retry(attempt_no[0], failure, float(wait))
        return decision

    attempt_no = [0]
    try:
        for attempt in stamina.retry_context(
            on=hook,
            attempts=config.attempts,
            timeout=config.max_total or None,
            wait_initial=config.initial_wait,
            wait_max=config.max_wait,
            wait_jitter=min(1.0, config.max_wait),
        ):
            with attempt:
                attempt_no[0] = attempt.num
                return fn(attempt.num)
    except Exception as exc:
        raise classify_exception(exc) from exc
    raise AssertionError("unreachable: stamina stopped without a result")  # pragma: no cover
