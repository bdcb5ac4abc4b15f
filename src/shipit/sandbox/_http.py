"""Low-level HTTP plumbing shared by the sandbox test servers (JSR, GitHub, fault proxy).

Request bodies are read as streams (``Content-Length`` or ``chunked``), never assumed to fit in
memory; servers bind 127.0.0.1 only and are run either as a process (``serve_main``: prints
``listening on http://127.0.0.1:PORT`` and stops cleanly on SIGTERM) or in a background thread
(``ServerThread``); ``token_server_main`` is the whole ``main`` of a token-guarded server.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import signal
import socketserver
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from shipit.files import write_text_atomic

CHUNK = 64 * 1024


class Readable(Protocol):
    """The part of a buffered socket file the body reader uses."""

    def read(self, size: int = ..., /) -> bytes: ...

    def readline(self, size: int = ..., /) -> bytes: ...


class ClientGone(Exception):
    """The client closed the connection before sending its whole request body."""


class BadRequestBody(Exception):
    """The request framing (Content-Length / chunked) is invalid."""


class BodyReader:
    """Streams one request body from ``rfile`` according to its framing headers."""

    def __init__(self, rfile: Readable, content_length: str | None, transfer_encoding: str | None):
        self._rfile = rfile
        self.chunked = "chunked" in (transfer_encoding or "").lower()
        self.declared_length: int | None = None
        self._chunk_left = 0
        self.done = False
        self.received = 0
        if self.chunked:
            return
        if content_length is None or content_length.strip() == "":
            self._remaining = 0
            self.done = True
            return
        try:
            length = int(content_length)
        except ValueError as exc:
            raise BadRequestBody(f"invalid Content-Length {content_length!r}") from exc
        if length < 0:
            raise BadRequestBody("negative Content-Length")
        self.declared_length = length
        self._remaining = length
        self.done = length == 0

    @property
    def has_body(self) -> bool:
        """True when the request announced a body (chunked or a positive length)."""
        return self.chunked or bool(self.declared_length)

    def _readline(self) -> bytes:
        line = self._rfile.readline(1024)
        if not line:
            raise ClientGone("connection closed inside chunked body")
        return line

    def read(self, size: int = CHUNK) -> bytes:
        """Up to ``size`` bytes of the body; ``b""`` once it is complete."""
        if self.done:
            return b""
        if self.chunked:
            if self._chunk_left == 0:
                line = self._readline().split(b";", 1)[0].strip()
                try:
                    self._chunk_left = int(line, 16)
                except ValueError as exc:
                    raise BadRequestBody("invalid chunk size") from exc
                if self._chunk_left == 0:
                    while self._readline() not in (b"\r\n", b"\n"):
                        pass  # trailers
                    self.done = True
                    return b""
            data = self._rfile.read(min(size, self._chunk_left))
            if not data:
                raise ClientGone("connection closed inside chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._readline()  # CRLF after the chunk
            self.received += len(data)
            return data
        data = self._rfile.read(min(size, self._remaining))
        if not data:
            raise ClientGone(f"connection closed with {self._remaining} body bytes missing")
        self._remaining -= len(data)
        self.received += len(data)
        if self._remaining == 0:
            self.done = True
        return data

    def __iter__(self) -> Iterator[bytes]:
        while True:
            data = self.read()
            if not data:
                return
            yield data

    def read_all(self, limit: int) -> bytes | None:
        """The whole body, or None (after draining the rest) when it is longer than ``limit``."""
        parts: list[bytes] = []
        total = 0
        for data in self:
            total += len(data)
            if total > limit:
                self.drain()
                return None
            parts.append(data)
        return b"".join(parts)

    def drain(self) -> int:
        """Read and discard the rest of the body; returns how many bytes were discarded."""
        n = 0
        for data in self:
            n += len(data)
        return n


class Sink:
    """A write-only file that forgets everything (answers that must never reach the client)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 carrying an application object for its handlers."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        port: int,
        handler: type[socketserver.BaseRequestHandler],
        app: Any,
    ) -> None:
        self.app = app
        super().__init__(("127.0.0.1", port), handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class ServerThread:
    """Runs a ``SandboxHTTPServer`` in a daemon thread (for in-process use)."""

    def __init__(self, server: SandboxHTTPServer) -> None:
        self.server = server
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()


def serve_main(server: SandboxHTTPServer) -> int:
    """Announce the URL on stdout, serve until SIGTERM/SIGINT, then close cleanly."""

    def _stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


def now_iso() -> str:
    """The current UTC time as ``2026-01-01T12:00:00.123Z``."""
    now = _dt.datetime.now(_dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def now_iso_seconds() -> str:
    """The current UTC time as ``2026-01-01T12:00:00Z`` (GitHub's format)."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def read_json(path: Path, default: Any) -> Any:
    """The JSON in ``path``, or ``default`` when the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def log_line(stream: Any, text: str) -> None:
    """Write one line to a log stream (a file or stderr), ignoring a closed stream."""
    if stream is None:
        return
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


class TimestampedLog:
    """A request log on a text stream, each line prefixed with its UTC time."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            for line in text.splitlines():
                self.stream.write(f"{now_iso()} {line}\n")
            self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()


def open_log(path: str | None, verbose: bool) -> Any:
    """The request log: a file, stderr when verbose, else None (servers are quiet by default).

    Any object with ``write(text)`` serves as a log (tests pass an in-memory one).
    """
    if path:
        return TimestampedLog(open(path, "a", encoding="utf-8", buffering=1))
    return TimestampedLog(sys.stderr) if verbose else None


def server_arguments(prog: str, description: str, token_help: str) -> argparse.ArgumentParser:
    """The command line both test servers share: port, data, tokens, logging."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = free)")
    parser.add_argument("--data", required=True, type=Path, help="state directory")
    parser.add_argument("--token", action="append", default=[], help=token_help)
    parser.add_argument("--token-file", type=Path, help="file with such tokens, one a line")
    parser.add_argument("--log", help="append a request log to this file")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return parser


def tokens_of(args: argparse.Namespace) -> list[str]:
    """``--token`` values plus the lines of ``--token-file`` (which keeps tokens out of argv)."""
    tokens = list(args.token)
    if args.token_file:
        tokens += [t.strip() for t in args.token_file.read_text().splitlines() if t.strip()]
    return tokens


OWNER_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")  # a GitHub repository


def owner_name(value: str) -> str:
    """An argparse ``type`` for ``--repo``: ``owner/name`` as GitHub spells repositories."""
    if not OWNER_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"must be owner/name, not {value!r}")
    return value


class ServedApp(Protocol):
    """The application object of a test server: it learns the URL it is served at."""

    url: str


def token_server_main(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    handler: type[socketserver.BaseRequestHandler],
    make_app: Callable[[argparse.Namespace, list[str], Any], ServedApp],
    *,
    tokens_required: bool = True,
) -> int:
    """The ``main`` of a token-guarded test server (GitHub, JSR, OIDC issuer).

    Parses ``argv`` with ``parser`` (``server_arguments`` plus the server's own options),
    builds the app with ``make_app(args, tokens, log)``, binds 127.0.0.1, tells the app its URL
    and serves until SIGTERM (``serve_main``).
    """
    args = parser.parse_args(argv)
    tokens = tokens_of(args)
    if tokens_required and not tokens:
        parser.error("give at least one --token or --token-file")
    app = make_app(args, tokens, open_log(args.log, args.verbose))
    server = SandboxHTTPServer(args.port, handler, app)
    app.url = server.url
    return serve_main(server)
