"""The release log holds commands, their output, HTTP requests and retries; never a token."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipit import http, proc
from shipit.engine.events import ReleaseEvent, StepEvent
from shipit.engine.orchestrator import log_event
from shipit.logfile import release_log
from shipit.redact import register

TOKEN = "npm_LogFileTok3n_abcdef123456"


@pytest.fixture()
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404 if "missing" in self.path else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_release_log_records_commands_http_and_retries_without_tokens(
    tmp_path: Path, server: str
) -> None:
    register(TOKEN)
    release_dir = tmp_path / ".shipit" / "releases" / "v1.0.0"
    with release_log(release_dir, argv=["shipit", "release", "--yes"]) as path:
        proc.run([sys.executable, "-c", f"print('publishing with {TOKEN}')"])
        with http.client(base_url=server, token=TOKEN) as client:
            client.get(f"/pkg?token={TOKEN}")
            client.get("/missing")
        events = log_event
        events(ReleaseEvent("started", tag="v1.0.0", version="1.0.0"))
        events(StepEvent("running", "npm:publish", attempt=1))
        events(StepEvent("retrying", "npm:publish", "npm E503 Service Unavailable", attempt=1))
        events(StepEvent("progress", "npm:publish", "uploading", completed=1, total=9))
        events(StepEvent("progress", "npm:publish", "uploading", completed=5, total=9))
        events(StepEvent("failed", "npm:publish", f"E401 for {TOKEN}", hint="set NPM_TOKEN"))
        logging.getLogger("shipit.engine").exception("boom", exc_info=RuntimeError(TOKEN))
    assert path == release_dir / "shipit.log"
    text = path.read_text()

    assert TOKEN not in text
    assert "=== shipit release --yes (shipit" in text
    [command] = [line for line in text.splitlines() if "shipit.proc: $ " in line]
    assert "publishing with ***" in command  # the command, redacted
    assert "| publishing with ***" in text  # its output
    assert "-> exit 0" in text
    assert f"GET {server}/pkg?token=*** -> 200" in text  # method, URL, status ...
    assert f"GET {server}/missing -> 404" in text
    assert " ms)" in text  # ... and duration
    [retry] = [line for line in text.splitlines() if "retrying" in line]
    assert retry.endswith("npm:publish: retrying (attempt 1): npm E503 Service Unavailable")
    assert " WARNING " in retry
    assert "uploading" not in text  # progress stays out of the log
    [failure] = [line for line in text.splitlines() if "npm:publish: failed" in line]
    assert failure.endswith("npm:publish: failed: E401 for *** (next: set NPM_TOKEN)")
    assert " ERROR " in failure
    assert "RuntimeError: ***" in text  # tracebacks are redacted too
    assert "=== log closed" in text


def test_log_appends_across_runs_and_detaches(tmp_path: Path) -> None:
    with release_log(tmp_path, argv=["shipit", "release"]):
        logging.getLogger("shipit.proc").info("first run")
    logging.getLogger("shipit.proc").info("outside any release")
    with release_log(tmp_path, argv=["shipit", "resume"]):
        logging.getLogger("shipit.proc").info("second run")
    text = (tmp_path / "shipit.log").read_text()
    assert "first run" in text and "second run" in text
    assert "outside any release" not in text
    assert text.index("shipit release") < text.index("shipit resume")
