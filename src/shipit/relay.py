"""A loopback relay that adds the real ``Authorization`` header, so a token never sits on a
command line.

deno takes the JSR token only as ``deno publish --token T`` (deno's ``cli/tools/publish/
auth.rs``: a token from ``--token``, else GitHub Actions OIDC, else an interactive browser
login; no environment variable, no file), and any local user can read a command line in
``ps``. So for each publish shipit starts a ``TokenRelay`` on 127.0.0.1 and runs deno with
``JSR_URL`` pointing at it and ``--token`` set to a one-time value that is worthless outside
this run. The relay

- accepts connections from loopback only, and only while the publish runs (a context
  manager: it is gone when deno is);
- forwards every request to the real registry (TLS upstream through ``shipit.http``); a
  request whose ``Authorization`` is ``Bearer <one-time value>`` goes on with the real token
  instead, a request without ``Authorization`` goes on without any (deno's public reads), and
  any other ``Authorization`` is answered 401 here and never forwarded;
- never logs a header or a token (each request's method, path and status go to the
  ``shipit.relay`` logger, redacted);
- passes failures on as the client would have met them: a registry it cannot reach is a
  503, an answer lost after the request went out is a connection closed without answer;
- rewrites redirects to the registry back to itself, and ``rewrite`` turns its own URL back
  into the registry's in deno's output, so messages name the real registry.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

from shipit import http
from shipit.redact import redact, register, split_userinfo

log = logging.getLogger("shipit.relay")

MAX_BODY = 64 * 1024 * 1024  # JSR takes 20 MiB; anything far larger is not a publish
UPSTREAM_TIMEOUT = httpx.Timeout(300.0, connect=15.0)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
        "authorization",
        "date",
        "server",
    }
)
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


class TokenRelay:
    """``with TokenRelay(upstream, token) as relay:`` give the client ``relay.url`` and
    ``relay.one_time`` instead of ``upstream`` and ``token``."""

    def __init__(self, upstream: str, token: str, *, scheme: str = "Bearer") -> None:
        upstream_url, _, _ = split_userinfo(upstream)
        parts = urlsplit(upstream_url)
        self.upstream = upstream_url
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self._path = parts.path or "/"
        self._authorization = f"{scheme} {token}"
        self.one_time = "shipit-relay-" + secrets.token_urlsafe(32)
        self._expected = f"{scheme} {self.one_time}"
        register(token, self.one_time)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    # ------------------------------------------------------------ lifetime
    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the relay is not running")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def url(self) -> str:
        """The relay's URL with the registry's own path (``JSR_URL`` for deno)."""
        return self.origin + self._path

    def start(self) -> TokenRelay:
        self._client = http.client(timeout=UPSTREAM_TIMEOUT)
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="shipit-relay", daemon=True
        )
        self._thread.start()
        log.debug("relay %s -> %s started", self.origin, redact(self.upstream_origin))
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            log.debug("relay %s stopped", self.origin)
        if self._client is not None:
            self._client.close()
        self._server = None
        self._thread = None
        self._client = None

    def __enter__(self) -> TokenRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def rewrite(self, text: str) -> str:
        """``text`` with the relay's URL replaced by the registry's."""
        if self._server is None or not text:
            return text
        return text.replace(self.origin, self.upstream_origin)

    # ------------------------------------------------------------ one request
    def authorization_for(self, given: str | None) -> tuple[bool, str | None]:
        """(allowed, the Authorization to send upstream) for a request's header."""
        if given is None:
            return True, None
        if hmac.compare_digest(given.encode(), self._expected.encode()):
            return True, self._authorization
        return False, None

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        assert self._client is not None
        return self._client.request(
            method,
            self.upstream_origin + path,
            headers=headers,
            content=body or None,
            follow_redirects=False,
        )


class _QuietServer(ThreadingHTTPServer):
    """A client gone mid-answer (deno stopped by Ctrl-C or SIGTERM: a broken pipe) goes to the
    relay's log, never as socketserver's traceback on the user's terminal."""

    def handle_error(self, request: object, client_address: object) -> None:
        _, exc, _ = sys.exc_info()
        log.debug("relay: a client went away: %s", redact(f"{type(exc).__name__}: {exc}"))


def _handler_for(relay: TokenRelay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shipit-relay"
        sys_version = ""

        def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _refuse(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"code": code, "message": message}).encode()
            self._answer(status, body, [("Content-Type", "application/json")])

        def _body(self) -> bytes | None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks: list[bytes] = []
                size_total = 0
                while True:
                    line = self.rfile.readline(1024)
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    size_total += size
                    if size_total > MAX_BODY:
                        return None
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline(1024)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return None
            return self.rfile.read(length) if length else b""

        def _relay(self) -> None:
            if self.client_address[0] not in _LOOPBACK:
                self._refuse(403, "forbidden", "the relay serves loopback only")
                return
            allowed, authorization = relay.authorization_for(self.headers.get("Authorization"))
            if not allowed:
                self._refuse(
                    401, "invalidBearerToken", "this relay accepts only its one-time token"
                )
                return
            body = self._body()
            if body is None:
                self._refuse(413, "tarballSizeLimitExceeded", "the request is too large")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Accept-Encoding"] = "identity"
            if authorization is not None:
                headers["Authorization"] = authorization
            try:
                response = relay.forward(self.command, self.path, headers, body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
                why = redact(f"{type(exc).__name__}: {exc}")
                self._refuse(
                    503, "internalServerError", f"cannot reach {relay.upstream_origin}: {why}"
                )
                return
            except httpx.HTTPError as exc:  # sent, answer lost: the client loses it too
                log.debug("relay lost the answer to %s: %s", self.command, type(exc).__name__)
                self.close_connection = True
                return
            out = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-encoding"
            ]
            out = [
                (
                    k,
                    v.replace(relay.upstream_origin, relay.origin)
                    if k.lower() == "location"
                    else v,
                )
                for k, v in out
            ]
            self._answer(response.status_code, response.content, out)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay

        def log_message(self, format: str, *args: object) -> None:
            log.debug("relay %s", redact(format % args))

    return Handler


def _local_location(relay: TokenRelay, name: str, value: str) -> str:
    """A redirect to the registry points back at the relay."""
    if name.lower() != "location":
        return value
    return value.replace(relay.upstream_origin, relay.origin)
