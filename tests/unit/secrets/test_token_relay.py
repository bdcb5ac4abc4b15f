"""The loopback relay that stands in for JSR while deno publishes: deno's command line holds a
one-time value only the relay accepts; the real token goes on to the registry and nowhere
else."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from shipit.relay import TokenRelay

REAL = "jsr-real-token-Zx81kq0p"


@pytest.fixture()
def upstream() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "body": body,
                }
            )
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/there")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            answer = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", seen
    server.shutdown()
    server.server_close()


def test_the_one_time_value_becomes_the_real_token_upstream(
    upstream: tuple[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, seen = upstream
    with caplog.at_level(logging.DEBUG, logger="shipit.relay"), TokenRelay(url, REAL) as relay:
        assert relay.url.startswith("http://127.0.0.1:") and REAL not in relay.one_time
        ok = httpx.post(
            relay.url + "api/scopes/s/packages/p/versions/1.0.0?config=%2Fdeno.json",
            headers={"Authorization": f"Bearer {relay.one_time}"},
            content=b"tarball bytes",
        )
        public = httpx.get(relay.url + "api/publish_status/abc")
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    assert public.status_code == 200
    assert [(s["method"], s["path"], s["authorization"], s["body"]) for s in seen] == [
        (
            "POST",
            "/api/scopes/s/packages/p/versions/1.0.0?config=%2Fdeno.json",
            f"Bearer {REAL}",
            b"tarball bytes",
        ),
        ("GET", "/api/publish_status/abc", None, b""),
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /api/scopes/s/packages/p/versions/1.0.0" in logged
    assert REAL not in logged and relay.one_time not in logged


def test_any_other_authorization_is_refused_and_never_forwarded(
    upstream: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = upstream
    with TokenRelay(url, REAL) as relay:
        for header in (f"Bearer {REAL}", "Bearer guess", f"Basic {relay.one_time}"):
            answer = httpx.get(relay.url + "api/user", headers={"Authorization": header})
            assert answer.status_code == 401, header
            assert answer.json()["code"] == "invalidBearerToken"
    assert seen == []


def test_the_relay_is_gone_after_the_publish(upstream: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = upstream
    with TokenRelay(url, REAL) as relay:
        where = relay.url
        one_time = relay.one_time
    with pytest.raises(httpx.ConnectError):
        httpx.get(where, headers={"Authorization": f"Bearer {one_time}"})


def test_redirects_and_output_name_the_real_registry(
    upstream: tuple[str, list[dict[str, Any]]],
) -> None:
    url, _ = upstream
    with TokenRelay(url, REAL) as relay:
        moved = httpx.get(relay.url + "moved")
        assert moved.status_code == 302
        assert moved.headers["Location"] == relay.origin + "/there"
        line = f"Visit {relay.url}@s/p@1.0.0 for details"
        assert relay.rewrite(line) == f"Visit {url}@s/p@1.0.0 for details"


def test_an_unreachable_registry_is_a_503_for_the_client() -> None:
    with TokenRelay("http://127.0.0.1:9/", REAL) as relay:
        answer = httpx.get(
            relay.url + "api/x", headers={"Authorization": f"Bearer {relay.one_time}"}
        )
    assert answer.status_code == 503
    assert answer.json()["code"] == "internalServerError"
    assert REAL not in answer.text


def test_a_client_gone_mid_answer_is_logged_not_printed(
    upstream: tuple[str, list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """deno stopped by Ctrl-C or SIGTERM while the relay writes its answer: the broken pipe is
    a line in shipit's log, not socketserver's traceback on the terminal."""
    url, _ = upstream
    with caplog.at_level(logging.DEBUG, logger="shipit.relay"), TokenRelay(url, REAL) as relay:
        server = relay._server
        assert server is not None
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            server.handle_error(None, ("127.0.0.1", 40000))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Broken pipe" not in err
    assert "a client went away: BrokenPipeError" in caplog.text
