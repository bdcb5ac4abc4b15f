"""The one HTTP client factory and the classification of every HTTP failure.

Every HTTP call shipit makes uses a client from ``client()``; each request's method, URL,
status and duration go to the ``shipit.http`` logger (URLs redacted). Clients reach the network
the way pip, npm and curl do: ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` and ``NO_PROXY``
(httpx ``trust_env``), certificates checked against the operating system's trust store
(truststore) plus the CA files named by ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` and
``REQUESTS_CA_BUNDLE``; the npm registry also with npm's own ``cafile`` and ``strict-ssl``
(``npm_tls``). ``classify_http`` and
``classify_transport`` say what an answer or a connection failure means: transient (retry,
honouring ``Retry-After``), permanent (stop), or ``OutcomeUnknown`` (a request that may have
taken effect). ``shipit.engine.retry`` retries on these; ``shipit.registries`` raises them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import logging
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import truststore

from shipit import __version__
from shipit.errors import (
    OutcomeUnknown,
    PermanentError,
    RegistryError,
    StepFailure,
    TransientError,
)
from shipit.npmrc import npm_config
from shipit.redact import redact

log = logging.getLogger("shipit.http")

USER_AGENT = f"shipit/{__version__} (+https://github.com/shipit-release/shipit)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _on_request(request: httpx.Request) -> None:
    request.extensions["shipit_start"] = time.monotonic()


def _on_response(response: httpx.Response) -> None:
    start = response.request.extensions.get("shipit_start")
    took = time.monotonic() - start if isinstance(start, float) else 0.0
    log.info(
        "%s %s -> %s (%.0f ms)",
        response.request.method,
        redact(str(response.request.url)),
        response.status_code,
        took * 1000,
    )


@dataclass(frozen=True)
class Tls:
    """How servers' certificates are checked: ``verify`` (False: npm's ``strict-ssl=false``),
    and CA files / directories trusted besides the operating system's store."""

    verify: bool = True
    cafiles: tuple[str, ...] = ()
    capaths: tuple[str, ...] = ()


def tls_from_env(env: Mapping[str, str] | None = None) -> Tls:
    """The CAs the ecosystem's clients take from the environment: ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` (OpenSSL, curl, httpx), ``REQUESTS_CA_BUNDLE`` (pip, requests)."""
    source = os.environ if env is None else env
    files = [source[n] for n in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE") if source.get(n)]
    dirs = [d for d in source.get("SSL_CERT_DIR", "").split(os.pathsep) if d]
    return Tls(True, tuple(dict.fromkeys(files)), tuple(dirs))


def npm_tls(env: Mapping[str, str] | None = None, project: Path | None = None) -> Tls:
    """``tls_from_env`` plus npm's ``cafile`` and ``strict-ssl`` for the npm registry
    (``shipit.npmrc``: ``npm_config_*`` variables, the project's and the user's ``.npmrc``)."""
    base = tls_from_env(env)
    cafile = npm_config("cafile", env, project)
    strict = (npm_config("strict-ssl", env, project) or "true").lower() not in ("false", "0")
    return Tls(strict, base.cafiles + ((cafile,) if cafile else ()), base.capaths)


@functools.lru_cache(maxsize=16)
def _context(tls: Tls) -> ssl.SSLContext:
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for cafile in tls.cafiles:
        context.load_verify_locations(cafile=cafile)
    for capath in tls.capaths:
        context.load_verify_locations(capath=capath)
    return context


def verify_of(tls: Tls) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` gets for ``tls`` (a CA file that cannot be read is an error
    that names it, never a silent fallback)."""
    if not tls.verify:
        return False
    try:
        return _context(tls)
    except (OSError, ssl.SSLError) as exc:
        named = ", ".join((*tls.cafiles, *tls.capaths))
        raise PermanentError(
            f"cannot read the CA certificates in {named}",
            why=f"{type(exc).__name__}: {exc}",
            hint="point SSL_CERT_FILE / REQUESTS_CA_BUNDLE (or npm's cafile) at a readable "
            "PEM file, or unset it",
        ) from None


def client(
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    auth_scheme: str = "Bearer",
    timeout: float | httpx.Timeout | None = None,
    tls: Tls | None = None,
) -> httpx.Client:
    """A configured synchronous client. ``token`` becomes ``Authorization: <scheme> <token>``.
    Proxies come from the environment; ``tls`` defaults to ``tls_from_env()``."""
    all_headers = {"User-Agent": USER_AGENT}
    if headers:
        all_headers.update(headers)
    if token:
        all_headers["Authorization"] = f"{auth_scheme} {token}"
    return httpx.Client(
        base_url=base_url,
        headers=all_headers,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        follow_redirects=True,
        event_hooks={"request": [_on_request], "response": [_on_response]},
        verify=verify_of(tls if tls is not None else tls_from_env()),
        trust_env=True,  # HTTP(S)_PROXY, ALL_PROXY, NO_PROXY; .netrc only without other auth
    )


# ---------------------------------------------------------------- classification

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


def message_of(response: httpx.Response) -> str:
    """The server's own words for an error: ``message``/``error``/``reason`` of a JSON body
    (npm, JSR, GitHub, verdaccio), else the reason phrase ("" when there is none)."""
    try:
        data = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return response.reason_phrase or ""
    if isinstance(data, dict):
        for key in ("message", "error", "reason"):
            if isinstance(data.get(key), str):
                return redact(str(data[key]))
    return ""


def classify_http(
    response_or_status: httpx.Response | int,
    headers: Mapping[str, str] | None = None,
    *,
    what: str | None = None,
) -> StepFailure | None:
    """The failure an HTTP answer means, or None for success (1xx-3xx).

    408/425/429/5xx and rate limits (403/429 with ``x-ratelimit-remaining: 0`` or
    ``Retry-After``) are transient (``TransientError`` with ``status`` and ``retry_after``);
    other 4xx are permanent (``RegistryError`` with the status, the server's message and a
    hint for the common ones).
    """
    message = ""
    if isinstance(response_or_status, httpx.Response):
        status = response_or_status.status_code
        if headers is None:
            headers = dict(response_or_status.headers)
        body = _short_body(response_or_status)
        url = (
            redact(str(response_or_status.request.url)) if _has_request(response_or_status) else ""
        )
        if status >= 400:
            message = message_of(response_or_status)
    else:
        status = int(response_or_status)
        body = ""
        url = ""
    if status < 400:
        return None
    where = f" from {url}" if url else ""
    text = what or f"the server answered HTTP {status}{where}"
    why = f"HTTP {status}" + (f": {body}" if body else "")
    retry_after = retry_after_of(headers)
    rate_limited = status in (403, 429) and (
        _header(headers, "x-ratelimit-remaining") == "0" or _header(headers, "retry-after")
    )
    if status in TRANSIENT_STATUS or rate_limited:
        return TransientError(text, why=why, retry_after=retry_after, status=status)
    hint = _PERMANENT_HINTS.get(status, "see the message above, fix it, then `shipit resume`")
    return RegistryError(text, status=status, message=message, why=why, hint=hint)


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


def classify_transport(exc: httpx.HTTPError) -> StepFailure:
    """A failure below HTTP. Connection refused/DNS/connect timeouts never sent anything:
    transient. Errors after the request went out (read timeout, reset, protocol error) may
    have taken effect: ``OutcomeUnknown``. An ``HTTPStatusError`` is its answer's failure."""
    if isinstance(exc, httpx.HTTPStatusError):
        failure = classify_http(exc.response)
        return failure or RegistryError(
            redact(str(exc)), status=exc.response.status_code, message=""
        )
    why = redact(f"{type(exc).__name__}: {exc}")
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return PermanentError(
            "the server's TLS certificate is not trusted",
            why=why,
            hint="if your network's proxy or your company's CA signs it, point SSL_CERT_FILE "
            "(or REQUESTS_CA_BUNDLE; npm's cafile for the npm registry) at that CA's "
            "certificate; see docs/troubleshooting.md#behind-a-proxy",
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError("could not connect to the server", why=why)
    if isinstance(exc, httpx.TransportError):
        return OutcomeUnknown("the connection failed after the request was sent", why=why)
    return PermanentError("the HTTP request failed", why=why)
