"""The GitHub client's requests (headers, streamed upload) and release-notes extraction."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipit.errors import PermanentError
from shipit.registries.github import GitHub, strip_template
from shipit.steps.github import changelog_section

SEEN: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = 0
        while received < length:
            received += len(self.rfile.read(min(65536, length - received)))
        SEEN.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "received": received,
            }
        )
        body = json.dumps({"id": 1, "size": received, "name": "x"}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()


def test_headers_on_every_request(recorder: str) -> None:
    SEEN.clear()
    with GitHub(
        api_url=recorder, token="ghp_headertest1234", repository="o/r", api_version="2026-03-10"
    ) as gh:
        gh.repo()
    [req] = SEEN
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert req["path"] == "/api/v3/repos/o/r"  # Enterprise base path kept
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2026-03-10"
    assert headers["authorization"] == "Bearer ghp_headertest1234"
    assert headers["user-agent"].startswith("shipit/")


def test_upload_streams_with_content_length(recorder: str, tmp_path: Path) -> None:
    SEEN.clear()
    path = tmp_path / "big.bin"
    size = 5 * 1024 * 1024 + 3
    with path.open("wb") as fh:
        fh.truncate(size)
    progress: list[tuple[int, int]] = []
    release = {
        "upload_url": recorder.replace("/api/v3", "/api/uploads")
        + "/repos/o/r/releases/7/assets{?name,label}"
    }
    with GitHub(api_url=recorder, token="ghp_headertest1234", repository="o/r") as gh:
        asset = gh.upload_asset(
            release, path, name="big.bin", on_progress=lambda s, t: progress.append((s, t))
        )
    [req] = SEEN
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert req["path"] == "/api/uploads/repos/o/r/releases/7/assets?name=big.bin"
    assert headers["content-length"] == str(size) and "transfer-encoding" not in headers
    assert headers["content-type"] == "application/octet-stream"
    assert asset["size"] == size == req["received"]
    assert len(progress) == 6 and progress[-1] == (size, size)


def test_no_token_is_a_clear_error() -> None:
    with pytest.raises(PermanentError) as err:
        GitHub(api_url="http://127.0.0.1:1", token=None, repository="o/r")
    assert "GITHUB_TOKEN" in (err.value.hint or "") and "contents: write" in (err.value.hint or "")


def test_strip_template() -> None:
    url = "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}"
    assert strip_template(url) == "https://uploads.github.com/repos/o/r/releases/1/assets"


CHANGELOG = """# Changelog

## [Unreleased]
- nothing yet

## [1.2.3] - 2026-11-24
### Fixed
- a bug

## v1.2.30
- not this one

## 1.2.2 (2026-01-01)
- older
"""


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.2.3", "### Fixed\n- a bug"),
        ("1.2.30", "- not this one"),
        ("1.2.2", "- older"),
        ("1.2.4", None),
        ("Unreleased", "- nothing yet"),
    ],
)
def test_changelog_section(version: str, expected: str | None) -> None:
    assert changelog_section(CHANGELOG, version) == expected


def test_changelog_heading_styles() -> None:
    assert changelog_section("## v2.0.0\nbody\n", "2.0.0") == "body"
    assert changelog_section("# 2.0.0-rc.1\n\nbody\n# 1.0.0\nold", "2.0.0-rc.1") == "body"
    assert changelog_section("## [2.0.0]\n\n## [1.0.0]\nold\n", "2.0.0") is None
