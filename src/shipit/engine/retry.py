"""Failure classification and retry: transient failures are retried, permanent ones stop.

Transient: connection reset/refused, timeouts, HTTP 408/429/5xx, npm E429/E5xx/ECONNRESET/
ETIMEDOUT/EAI_AGAIN. Permanent: 401/403/404, validation errors, version exists with other
content. ``OutcomeUnknown`` marks a request that may have taken effect (upload sent, answer
lost): the orchestrator probes before it retries.

stamina reports each scheduled retry through its instrumentation; by default that is a bare
``stamina.retry_scheduled`` warning on stderr (Python's last-resort handler). Importing this
module routes it to the ``shipit.retry`` logger instead, with what is retried and why
(redacted): it reaches ``shipit.log`` and ``-v``, never the bare terminal.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

import httpx
import stamina
import stamina.instrumentation

from shipit.config import RetryConfig
from shipit.errors import (
    PermanentError,
    ShipitError,
    StepFailure,
    TransientError,
)
from shipit.http import classify_transport
from shipit.redact import redact

T = TypeVar("T")

retry_log = logging.getLogger("shipit.retry")
logging.getLogger("shipit").addHandler(logging.NullHandler())  # no last-resort stderr lines


def log_scheduled_retry(details: stamina.instrumentation.RetryDetails) -> None:
    """stamina's retry hook: one line in shipit's log per scheduled retry."""
    retry_log.info(
        "retry %d of %s in %.2fs after %s",
        details.retry_num,
        details.name,
        details.wait_for,
        redact(f"{type(details.caused_by).__name__}: {details.caused_by}"),
    )


stamina.instrumentation.set_on_retry_hooks([log_scheduled_retry])


# ---------------------------------------------------------------- classification
# Every failure is classified in one place: HTTP answers and connection failures by
# ``shipit.http``, everything else here; the orchestrator retries TransientError (probing
# first after OutcomeUnknown).


def classify_exception(exc: BaseException) -> StepFailure:
    """Turn any exception a step met into a classified failure.

    Connection refused/DNS/connect timeouts never sent anything: transient. Errors after the
    request went out (read timeout, reset, protocol error) may have taken effect:
    ``OutcomeUnknown``. Already-classified errors pass through; ShipitError and everything
    else is permanent.
    """
    if isinstance(exc, StepFailure):
        return exc
    if isinstance(exc, httpx.HTTPStatusError | httpx.TransportError):
        return classify_transport(exc)
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
