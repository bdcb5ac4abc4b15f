"""Fault injection for the sandbox: rules, the rule book, the admin API and a loopback proxy.

Every sandbox test server (JSR, GitHub) and the fault proxy (which forwards to verdaccio or
pypiserver) answers ``/_shipit/faults`` and ``/_shipit/health`` and applies the rules in order:

- ``status``: answer ``status`` with ``headers`` and a JSON ``body`` (the request body is read
  and thrown away; nothing happens);
- ``delay``: sleep ``delay_s`` seconds, then handle the request normally;
- ``drop_before_body``: close the connection without reading the body or answering (nothing
  happens);
- ``drop_after_body``: read the whole body, handle (or forward) it normally so its effect
  happens, then close the connection without answering.

Each rule matches ``method`` (or ``*``) and a regular expression searched in the URL path (not
the query) and is consumed ``times`` times (``null`` = forever).

Run the proxy with ``python -m shipit.sandbox.faults --port N --upstream URL``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import urlsplit

from shipit.sandbox._http import (
    BadRequestBody,
    BodyReader,
    ClientGone,
    SandboxHTTPServer,
    ServerThread,
    Sink,
    log_line,
    open_log,
    serve_main,
)

ACTIONS = ("status", "delay", "drop_before_body", "drop_after_body")
ADMIN_PREFIX = "/_shipit/"
DEFAULT_FAULT_BODY: dict[str, Any] = {"message": "fault injected by the shipit sandbox"}


@dataclass(frozen=True)
class FaultRule:
    """One fault: which requests it matches, what it does, how often."""

    method: str = "*"
    path: str = ".*"
    action: str = "status"
    status: int = 503
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    times: int | None = 1
    delay_s: float = 0.0
    # GitHub server only: with ``status`` or ``drop_after_body`` on an asset upload, leave the
    # asset behind in this state (``"starter"``) instead of uploading it, like a cut-off upload.
    asset_state: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r} (one of {', '.join(ACTIONS)})")
        try:
            re.compile(self.path)
        except re.error as exc:
            raise ValueError(f"invalid path regex {self.path!r}: {exc}") from exc
        if not 100 <= self.status <= 599:
            raise ValueError(f"invalid status {self.status}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null for forever)")
        if self.delay_s < 0:
            raise ValueError("delay_s must not be negative")
        if self.asset_state not in (None, "starter", "open"):
            raise ValueError("asset_state must be 'starter' or 'open'")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Parse the JSON shape ``{"method", "path", "action", "status", ...}``."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule must be a JSON object")
        known = {
            "method",
            "path",
            "action",
            "status",
            "headers",
            "body",
            "times",
            "delay_s",
            "asset_state",
        }
        unknown = set(data) - known - {"remaining"}
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {', '.join(sorted(unknown))}")
        headers = data.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise ValueError("headers must be an object")
        times = data.get("times", 1)
        if times is not None and not isinstance(times, int):
            raise ValueError("times must be an integer or null")
        try:
            return cls(
                method=str(data.get("method", "*")).upper(),
                path=str(data.get("path", ".*")),
                action=str(data.get("action", "status")),
                status=int(data.get("status", 503)),
                headers={str(k): str(v) for k, v in headers.items()},
                body=data.get("body"),
                times=times,
                delay_s=float(data.get("delay_s", 0.0)),
                asset_state=data.get("asset_state"),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "action": self.action,
            "status": self.status,
            "headers": dict(self.headers),
            "body": self.body,
            "times": self.times,
            "delay_s": self.delay_s,
        }
        if self.asset_state is not None:
            out["asset_state"] = self.asset_state
        return out

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        return re.search(self.path, path) is not None


class FaultBook:
    """The ordered, thread-safe list of active rules with their remaining counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[list[Any]] = []  # [rule, remaining | None]

    def add(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules.extend([rule, rule.times] for rule in rules)

    def clear(self) -> int:
        with self._lock:
            n = len(self._rules)
            self._rules.clear()
            return n

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule, consuming one of its uses (None when nothing matches)."""
        with self._lock:
            for entry in self._rules:
                rule = cast(FaultRule, entry[0])
                if rule.matches(method, path):
                    if entry[1] is not None:
                        entry[1] -= 1
                        if entry[1] <= 0:
                            self._rules.remove(entry)
                    return rule
        return None

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**rule.to_dict(), "remaining": left} for rule, left in self._rules]


def parse_rules(payload: Any) -> list[FaultRule]:
    """Rules from ``{"rules": [...]}``, a bare list, or a single rule object."""
    if isinstance(payload, Mapping) and "rules" in payload:
        payload = payload["rules"]
    if isinstance(payload, Mapping):
        if not payload:
            raise ValueError('expected {"rules": [...]}, got an empty object')
        payload = [payload]
    if not isinstance(payload, list):
        raise ValueError('expected {"rules": [...]}')
    return [FaultRule.from_dict(item) for item in payload]


class FaultApp:
    """What every fault-aware server carries: the rule book and an optional request log."""

    def __init__(self, log: Any = None) -> None:
        self.faults = FaultBook()
        self.log = log
        self.url = ""  # where the server listens, once it is bound (`iss` of the OIDC issuer)


class FaultHandler(BaseHTTPRequestHandler):
    """Base request handler: admin endpoints, fault rules, JSON answers, then ``route()``.

    Subclasses implement ``route()`` (and may override ``fault_side_effect``); they read the
    body through ``self.body`` and answer with ``send_json`` / ``send_empty`` / ``start_stream``.
    """

    protocol_version = "HTTP/1.1"
    server_version = "shipit-sandbox/1"
    sys_version = ""
    body: BodyReader
    fault: FaultRule | None

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def app(self) -> FaultApp:
        return cast(FaultApp, cast(SandboxHTTPServer, self.server).app)

    def log_message(self, format: str, *args: Any) -> None:
        log_line(self.app.log, f"{self.address_string()} {format % args}")

    def do_GET(self) -> None:
        self._entry()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    @property
    def url_path(self) -> str:
        return urlsplit(self.path).path

    def _entry(self) -> None:
        self.fault = None
        try:
            self.body = BodyReader(
                self.rfile,
                self.headers.get("Content-Length"),
                self.headers.get("Transfer-Encoding"),
            )
        except BadRequestBody as exc:
            self.body = BodyReader(self.rfile, "0", None)
            self.close_connection = True
            self.send_json(400, {"message": str(exc)})
            return
        path = self.url_path
        try:
            if path.startswith(ADMIN_PREFIX):
                self.admin(path)
            else:
                self._with_faults(path)
        except ClientGone:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except BadRequestBody as exc:
            self.close_connection = True
            self.send_json(400, {"message": str(exc)})
        if not self.body.done:
            self.close_connection = True

    def _with_faults(self, path: str) -> None:
        rule = self.app.faults.take(self.command, path)
        self.fault = rule
        if rule is None:
            self.route()
            return
        log_line(self.app.log, f"fault {rule.action} on {self.command} {path}")
        if rule.action == "delay":
            time.sleep(rule.delay_s)
            self.route()
        elif rule.action == "drop_before_body":
            self.drop()
        elif rule.action == "status":
            if not self.fault_side_effect(rule):
                self.body.drain()
            self.send_fault(rule)
        else:  # drop_after_body
            real_wfile = self.wfile
            self.wfile = Sink()  # type: ignore[assignment]
            try:
                if not self.fault_side_effect(rule):
                    self.route()
                self.body.drain()
            finally:
                self.wfile = real_wfile
            self.drop()

    def drop(self) -> None:
        """Close the connection at once, without an answer."""
        self.close_connection = True
        self._headers_buffer: list[bytes] = []
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def fault_side_effect(self, rule: FaultRule) -> bool:
        """Hook for servers: apply a partial effect for ``rule`` instead of the normal one.

        Return True when the body was consumed and the effect applied (then ``route()`` is not
        called for ``drop_after_body``); the default does nothing.
        """
        return False

    def send_fault(self, rule: FaultRule) -> None:
        body = DEFAULT_FAULT_BODY if rule.body is None else rule.body
        if isinstance(body, str):
            data = body.encode()
            ctype = "text/plain; charset=utf-8"
        else:
            data = json.dumps(body).encode()
            ctype = "application/json; charset=utf-8"
        headers = {"Content-Type": ctype, **rule.headers}
        self.send_bytes(rule.status, data, headers)

    # --- admin ------------------------------------------------------------------------------
    def admin(self, path: str) -> None:
        if path == "/_shipit/health" and self.command in ("GET", "HEAD"):
            self.send_json(200, {"ok": True, **self.health()})
        elif path == "/_shipit/faults" and self.command == "GET":
            self.send_json(200, {"rules": self.app.faults.listing()})
        elif path == "/_shipit/faults" and self.command == "POST":
            raw = self.body.read_all(1 << 20)
            try:
                if raw is None:
                    raise ValueError("more than 1 MiB of rules")
                rules = parse_rules(json.loads(raw or b"{}"))
            except (ValueError, json.JSONDecodeError) as exc:
                self.send_json(400, {"message": f"bad fault rules: {exc}"})
                return
            self.app.faults.add(rules)
            self.send_json(200, {"rules": self.app.faults.listing()})
        elif path == "/_shipit/faults" and self.command == "DELETE":
            self.body.drain()
            self.send_json(200, {"cleared": self.app.faults.clear(), "rules": []})
        else:
            self.admin_extra(path)

    def health(self) -> dict[str, Any]:
        return {}

    def admin_extra(self, path: str) -> None:
        self.send_json(404, {"message": "Not Found"})

    def route(self) -> None:
        raise NotImplementedError

    # --- answers ----------------------------------------------------------------------------
    def extra_headers(self) -> dict[str, str]:
        """Headers added to every answer (e.g. GitHub's rate-limit headers)."""
        return {}

    def _finish_body_before_answer(self) -> None:
        # Answering while the client still sends would reset the connection: drain first
        # (bounded), or give up keep-alive.
        if not self.body.done:
            try:
                self.body.drain()
            except (ClientGone, BadRequestBody):
                self.close_connection = True

    def start_answer(self, status: int, headers: Mapping[str, str]) -> None:
        self._finish_body_before_answer()
        self.send_response(status)
        for key, value in {**self.extra_headers(), **headers}.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def send_bytes(
        self, status: int, data: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        all_headers = {"Content-Length": str(len(data)), **(headers or {})}
        if status in (204, 304):
            all_headers.pop("Content-Length", None)
            data = b""
        self.start_answer(status, all_headers)
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        data = (json.dumps(obj, indent=None) + "\n").encode()
        self.send_bytes(
            status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    def send_empty(self, status: int = 204, headers: Mapping[str, str] | None = None) -> None:
        self.send_bytes(status, b"", headers)

    def read_json(self, limit: int = 10 << 20) -> Any:
        """The request body parsed as JSON (``{}`` when empty); raises ValueError when bad."""
        raw = self.body.read_all(limit)
        if raw is None:
            raise ValueError("request body too large")
        if not raw.strip():
            return {}
        return json.loads(raw)


# --- the proxy --------------------------------------------------------------------------------

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
    "proxy-connection",
}


class ProxyApp(FaultApp):
    """Where the proxy forwards to."""

    def __init__(self, upstream: str, *, rewrite_host: bool = False, log: Any = None) -> None:
        super().__init__(log)
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream = upstream
        self.host = parts.hostname
        self.port = parts.port or 80
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.rewrite_host = rewrite_host
        self.timeout = 300.0


class ProxyHandler(FaultHandler):
    """Forwards each request to the upstream, streaming bodies both ways."""

    @property
    def proxy(self) -> ProxyApp:
        return cast(ProxyApp, self.app)

    def health(self) -> dict[str, Any]:
        return {"upstream": self.proxy.upstream}

    def route(self) -> None:
        self.forward()

    def forward(
        self, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """Forward the request (with ``body`` already read, and ``headers`` replacing the
        client's of the same names) and stream the answer back."""
        up = self.proxy
        conn = http.client.HTTPConnection(up.host, up.port, timeout=up.timeout)
        try:
            try:
                try:
                    self._forward_request(conn, body=body, headers=headers)
                except OSError:
                    # The upstream may have answered early (e.g. 413) and closed: that answer
                    # is what the client must see, if it can still be read.
                    self.close_connection = True
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                self.close_connection = True
                self.send_json(
                    502, {"message": f"fault proxy: upstream {up.upstream} failed: {exc}"}
                )
                return
            self._forward_response(resp)
        finally:
            conn.close()

    def _forward_request(
        self,
        conn: http.client.HTTPConnection,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        up = self.proxy
        conn.putrequest(
            self.command, up.prefix + self.path, skip_host=True, skip_accept_encoding=True
        )
        replaced = {k.lower(): v for k, v in (headers or {}).items()}
        if body is not None:
            replaced["content-length"] = str(len(body))
        for key, value in replaced.items():
            conn.putheader(key, value)
        seen_host = "host" in replaced
        for key, value in self.headers.items():
            low = key.lower()
            if low in HOP_BY_HOP or low in replaced:
                continue
            if low == "host":
                seen_host = True
                if up.rewrite_host:
                    value = up.netloc
            conn.putheader(key, value)
        if not seen_host:
            conn.putheader("Host", up.netloc)
        if body is not None:
            conn.endheaders()
            conn.send(body)
            return
        if self.body.chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for data in self.body:
            if self.body.chunked:
                conn.send(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                conn.send(data)
        if self.body.chunked:
            conn.send(b"0\r\n\r\n")

    def _forward_response(self, resp: http.client.HTTPResponse) -> None:
        no_body = self.command == "HEAD" or resp.status in (204, 304) or resp.status < 200
        length = resp.getheader("Content-Length")
        chunked = not no_body and length is None
        self.send_response_only(resp.status, resp.reason)
        self.log_request(resp.status)
        for key, value in resp.getheaders():
            if key.lower() in HOP_BY_HOP:
                continue
            self.send_header(key, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if no_body:
            return
        while True:
            data = resp.read1(64 * 1024)
            if not data:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class FaultProxy:
    """An in-process fault proxy: ``FaultProxy(upstream).start()``, then use ``.url``."""

    def __init__(
        self, upstream: str, *, port: int = 0, rewrite_host: bool = False, log: Any = None
    ) -> None:
        self.app = ProxyApp(upstream, rewrite_host=rewrite_host, log=log)
        self._server = SandboxHTTPServer(port, ProxyHandler, self.app)
        self._thread = ServerThread(self._server)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def faults(self) -> FaultBook:
        return self.app.faults

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- client helpers ---------------------------------------------------------------------------


def add_faults(base_url: str, *rules: Mapping[str, Any] | FaultRule) -> list[dict[str, Any]]:
    """Install ``rules`` on a sandbox server or proxy; returns the active rule list."""
    from shipit.http import client

    payload = [r.to_dict() if isinstance(r, FaultRule) else dict(r) for r in rules]
    with client(base_url=base_url.rstrip("/")) as c:
        resp = c.post("/_shipit/faults", json={"rules": payload})
        if resp.status_code != 200:
            raise ValueError(f"fault rules refused: {resp.status_code} {resp.text}")
        return cast(list[dict[str, Any]], resp.json()["rules"])


def clear_faults(base_url: str) -> None:
    """Remove every fault rule from a sandbox server or proxy."""
    from shipit.http import client

    with client(base_url=base_url.rstrip("/")) as c:
        c.delete("/_shipit/faults").raise_for_status()


def list_faults(base_url: str) -> list[dict[str, Any]]:
    """The active rules of a sandbox server or proxy, with their remaining counts."""
    from shipit.http import client

    with client(base_url=base_url.rstrip("/")) as c:
        resp = c.get("/_shipit/faults")
        resp.raise_for_status()
        return cast(list[dict[str, Any]], resp.json()["rules"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shipit.sandbox.faults", description="Loopback fault-injecting proxy."
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = free)")
    parser.add_argument("--upstream", required=True, help="http://host:port of the real server")
    parser.add_argument("--rewrite-host", action="store_true", help="send the upstream's Host")
    parser.add_argument("--log", help="append a request log to this file")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    try:
        app = ProxyApp(
            args.upstream, rewrite_host=args.rewrite_host, log=open_log(args.log, args.verbose)
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve_main(SandboxHTTPServer(args.port, ProxyHandler, app))


if __name__ == "__main__":
    sys.exit(main())
