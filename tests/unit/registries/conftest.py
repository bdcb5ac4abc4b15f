"""A canned HTTP server on 127.0.0.1 for the adapters' tests: each test says what each path
answers (status, headers, body) and reads back the requests it got."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Canned:
    url: str  # http://127.0.0.1:PORT/
    answers: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(
        self,
        path: str,
        status: int = 200,
        body: Any = None,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """``path`` (with its query) answers ``status`` with ``body`` (JSON unless bytes/str)."""
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = b"" if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": content_type, **(headers or {})}
        self.answers[(method, path)] = (status, all_headers, raw)

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


def _handler(canned: Canned) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            canned.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            status, headers, raw = canned.answers.get(
                (self.command, self.path), (404, {"Content-Type": "text/plain"}, b"Not Found")
            )
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_PATCH = do_POST = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[ThreadingHTTPServer, Canned]]:
    canned = Canned("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(canned))
    canned.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, canned
    server.shutdown()
    server.server_close()


@pytest.fixture
def canned(_server: tuple[ThreadingHTTPServer, Canned]) -> Canned:
    """The server, with no answers and no requests seen yet."""
    _, found = _server
    found.answers.clear()
    found.seen.clear()
    return found


@pytest.fixture
def closed_port() -> str:
    """A URL where nothing listens (connection refused)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
