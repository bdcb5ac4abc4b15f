"""Failure classification (HTTP, exceptions, npm output) and the stamina-based retry loop."""

from __future__ import annotations

import email.utils

import httpx
import pytest
import stamina

from shipit.config import RetryConfig
from shipit.engine.retry import (
    backoff_for,
    classify_exception,
    classify_npm_output,
    retrying,
)
from shipit.errors import (
    OutcomeUnknown,
    PermanentError,
    RegistryError,
    ShipitError,
    TransientError,
)
from shipit.http import classify_http, parse_retry_after


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses(status: int) -> None:
    assert isinstance(classify_http(status), TransientError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_statuses_have_hints(status: int) -> None:
    failure = classify_http(status)
    assert isinstance(failure, PermanentError)
    assert failure.hint


def test_success_is_not_a_failure() -> None:
    assert classify_http(200) is None and classify_http(304) is None


def test_retry_after_seconds_and_http_date() -> None:
    failure = classify_http(503, {"Retry-After": "7"})
    assert isinstance(failure, TransientError) and failure.retry_after == 7
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon") is None


def test_github_rate_limit_is_transient_until_reset() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}
    failure = classify_http(403, headers)
    assert isinstance(failure, TransientError)
    assert failure.retry_after is not None and failure.retry_after > 0
    assert isinstance(classify_http(403, {"x-ratelimit-remaining": "12"}), PermanentError)


def test_response_body_goes_into_why() -> None:
    request = httpx.Request("PUT", "http://127.0.0.1:1/pkg")
    response = httpx.Response(401, json={"error": "bad token"}, request=request)
    failure = classify_http(response)
    assert isinstance(failure, RegistryError)
    assert "bad token" in (failure.why or "")
    assert (failure.status, failure.message) == (401, "bad token")


def test_transient_answers_keep_their_status() -> None:
    failure = classify_http(503, {"Retry-After": "2"})
    assert isinstance(failure, TransientError) and failure.status == 503


def test_exceptions() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:1/")
    assert type(classify_exception(httpx.ConnectError("refused", request=request))) is (
        TransientError
    )
    assert isinstance(
        classify_exception(httpx.ReadTimeout("slow", request=request)), OutcomeUnknown
    )
    assert isinstance(
        classify_exception(httpx.RemoteProtocolError("closed", request=request)), OutcomeUnknown
    )
    assert isinstance(classify_exception(ShipitError("nope", hint="h")), PermanentError)
    assert isinstance(classify_exception(ValueError("x")), PermanentError)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("npm error code E429\nnpm error 429 Too Many Requests", TransientError),
        ("npm error code E503\n", TransientError),
        ("npm ERR! code ECONNRESET", TransientError),
        ("npm error code ETIMEDOUT", TransientError),
        ("npm error code EAI_AGAIN", TransientError),
        ("npm error code E401\nnpm error Unable to authenticate", PermanentError),
        ("npm error code E403", PermanentError),
        ("npm error code ENEEDAUTH", PermanentError),
        (
            "npm error code EOTP\nnpm error This operation requires a one-time password",
            PermanentError,
        ),
    ],
)
def test_npm_output(text: str, kind: type) -> None:
    failure = classify_npm_output(text)
    assert isinstance(failure, kind)
    if kind is PermanentError:
        assert failure is not None and failure.hint


def test_npm_otp_hint_names_the_way_out() -> None:
    failure = classify_npm_output("npm error code EOTP")
    assert failure is not None and "NPM_OTP" in (failure.hint or "")
    assert classify_npm_output("all good") is None


def test_backoff_honours_retry_after_and_stops_on_permanent() -> None:
    config = RetryConfig(max_wait=30, max_total=300)
    assert backoff_for(TransientError("x", retry_after=12), config) == 12
    assert backoff_for(TransientError("x"), config) is True
    assert backoff_for(PermanentError("x"), config) is False
    assert backoff_for(TransientError("x", retry_after=10_000), config) == 300


def test_retrying_retries_transient_then_succeeds() -> None:
    calls: list[int] = []
    seen: list[tuple[int, float]] = []

    def fn(attempt: int) -> str:
        calls.append(attempt)
        if attempt < 3:
            raise TransientError("503", retry_after=2)
        return "ok"

    with stamina.set_testing(True, attempts=5):
        result = retrying(RetryConfig(attempts=5), fn, on_retry=lambda n, f, w: seen.append((n, w)))
    assert result == "ok" and calls == [1, 2, 3]
    assert seen == [(1, 2.0), (2, 2.0)]


def test_retrying_stops_at_once_on_permanent() -> None:
    calls: list[int] = []

    def fn(attempt: int) -> None:
        calls.append(attempt)
        raise PermanentError("401")

    with stamina.set_testing(True, attempts=5), pytest.raises(PermanentError):
        retrying(RetryConfig(attempts=5), fn)
    assert calls == [1]


def test_retrying_gives_up_after_attempts_with_the_last_failure() -> None:
    def fn(attempt: int) -> None:
        raise httpx.ConnectError("refused")

    with stamina.set_testing(True, attempts=3), pytest.raises(TransientError) as err:
        retrying(RetryConfig(attempts=3), fn)
    assert "could not connect" in err.value.what


def test_real_backoff_waits_between_attempts() -> None:
    calls: list[float] = []
    import time

    def fn(attempt: int) -> str:
        calls.append(time.monotonic())
        if attempt == 1:
            raise TransientError("503", retry_after=0.3)
        return "ok"

    assert retrying(RetryConfig(attempts=2, initial_wait=0.0, max_wait=1.0), fn) == "ok"
    assert calls[1] - calls[0] >= 0.28


_RETRY_ONCE = """
from shipit.config import RetryConfig
from shipit.engine.retry import retrying
from shipit.errors import TransientError

calls = []

def flaky(attempt):
    calls.append(attempt)
    if attempt == 1:
        raise TransientError("git push failed", why="connection reset by tok-SECRET-1234")
    return "ok"

print(retrying(RetryConfig(attempts=3, initial_wait=0.01, max_wait=0.01), flaky), len(calls))
"""


def test_a_scheduled_retry_prints_nothing_bare_on_stderr() -> None:
    """stamina's default instrumentation printed `stamina.retry_scheduled` on stderr."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _RETRY_ONCE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "2"]
    assert done.stderr == ""


def test_a_scheduled_retry_goes_to_shipits_log_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from shipit.redact import register

    register("tok-SECRET-5678")
    calls: list[int] = []

    def flaky(attempt: int) -> str:
        calls.append(attempt)
        if attempt == 1:
            raise TransientError("git push failed", why="reset by tok-SECRET-5678")
        return "ok"

    with caplog.at_level("INFO", logger="shipit.retry"):
        assert retrying(RetryConfig(attempts=3, initial_wait=0.01, max_wait=0.01), flaky) == "ok"
    lines = [r.getMessage() for r in caplog.records if r.name == "shipit.retry"]
    assert len(lines) == 1 and lines[0].startswith("retry 1 of "), lines
    assert "TransientError" in lines[0] and "tok-SECRET-5678" not in lines[0]
