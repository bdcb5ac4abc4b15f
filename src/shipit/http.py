"""The one HTTP client factory: timeouts, user agent, request logging with redaction.

Every HTTP call shipit makes uses a client from ``client()``; each request's method, URL,
status and duration go to the ``shipit.http`` logger (URLs redacted). Retry classification
lives in ``shipit.engine.retry``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import httpx

from shipit import __version__
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


def client(
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    auth_scheme: str = "Bearer",
    timeout: float | httpx.Timeout | None = None,
) -> httpx.Client:
    """A configured synchronous client. ``token`` becomes ``Authorization: <scheme> <token>``."""
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
        trust_env=False,
    )
