"""The fault proxy: streaming forwarding and every fault action, in front of real servers."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shipit.http import client
from shipit.sandbox.faults import FaultProxy, add_faults, clear_faults, list_faults

from .conftest import Proc, start

BIG = 8 * 1024 * 1024


class Recorder(BaseHTTPRequestHandler):
    """A tiny upstream: records what it received; GET /big streams BIG bytes without a length."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = bytes(range(256)) * 256
            for _ in range(BIG // len(block)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        digest = hashlib.sha256()
        size = 0
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while True:
                n = int(self.rfile.readline().strip(), 16)
                if n == 0:
                    self.rfile.readline()
                    break
                data = self.rfile.read(n)
                digest.update(data)
                size += n
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                data = self.rfile.read(min(left, 65536))
                digest.update(data)
                size += len(data)
                left -= len(data)
        record = {"method": "POST", "path": self.path, "size": size, "sha256": digest.hexdigest()}
        self.seen.append({**record, "headers": dict(self.headers)})
        body = json.dumps(record).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as p:
        yield p


def posts_to(path: str) -> int:
    return sum(1 for r in Recorder.seen if r["method"] == "POST" and r["path"] == path)


def test_forwards_streaming_bodies_both_ways_and_keeps_headers(proxy: FaultProxy) -> None:
    payload = os.urandom(BIG + 123)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(payload), 100_000):
            yield payload[i : i + 100_000]

    with client(base_url=proxy.url) as c:
        # chunked request body (no length) and a sized one both arrive intact
        resp = c.post("/upload?x=1", content=chunks())
        assert resp.status_code == 201
        assert resp.json() == {
            "method": "POST",
            "path": "/upload?x=1",
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
        resp = c.post("/upload2", content=payload, headers={"X-Custom": "kept"})
        assert resp.json()["sha256"] == hashlib.sha256(payload).hexdigest()
        assert Recorder.seen[-1]["headers"]["X-Custom"] == "kept"
        # the upstream sees the Host the client used (so it builds URLs back to the proxy)
        echo = c.get("/echo", headers={"Authorization": "Bearer abc"})
        assert echo.headers["X-Upstream"] == "yes"
        assert echo.json()["headers"]["Host"] == proxy.url.removeprefix("http://")
        assert echo.json()["headers"]["Authorization"] == "Bearer abc"
        # a large streamed answer without Content-Length comes back whole
        with c.stream("GET", "/big") as big:
            total = sum(len(b) for b in big.iter_bytes())
        assert total == BIG
        assert c.get("/_shipit/health").json()["ok"] is True


def test_each_fault_action_through_the_proxy(proxy: FaultProxy) -> None:
    url = proxy.url
    with client(base_url=url) as c:
        add_faults(
            url,
            {
                "method": "POST",
                "path": "^/a$",
                "status": 503,
                "headers": {"Retry-After": "2"},
                "times": 2,
            },
        )
        assert list_faults(url)[0]["remaining"] == 2
        for _ in range(2):
            resp = c.post("/a", content=b"data")
            assert resp.status_code == 503 and resp.headers["Retry-After"] == "2"
        assert posts_to("/a") == 0  # never reached the upstream
        assert c.post("/a", content=b"data").status_code == 201  # rule used up
        assert posts_to("/a") == 1

        add_faults(url, {"method": "POST", "path": "^/b$", "action": "drop_before_body"})
        with pytest.raises(httpx.TransportError):
            c.post("/b", content=b"data")
        assert posts_to("/b") == 0

        add_faults(url, {"method": "POST", "path": "^/c$", "action": "drop_after_body"})
        with pytest.raises(httpx.TransportError):
            c.post("/c", content=b"x" * 300_000)
        assert posts_to("/c") == 1  # the effect happened, the answer was lost
        assert [r["size"] for r in Recorder.seen if r["path"] == "/c"] == [300_000]

        add_faults(url, {"method": "*", "path": "^/d$", "action": "delay", "delay_s": 0.5})
        t0 = time.monotonic()
        assert c.get("/d").status_code == 200
        assert time.monotonic() - t0 >= 0.5
        assert c.get("/d").status_code == 200  # consumed

        # bad rules are refused with a reason, nothing installed
        resp = c.post("/_shipit/faults", json={"rules": [{"action": "explode"}]})
        assert resp.status_code == 400 and "explode" in resp.json()["message"]
        add_faults(url, {"path": ".*", "status": 500, "times": None})
        assert c.get("/x").status_code == 500 and c.get("/y").status_code == 500
        clear_faults(url)
        assert list_faults(url) == []
        assert c.get("/x").status_code == 200


def test_proxy_process_in_front_of_the_github_server(tmp_path: Path) -> None:
    gh = start(
        "shipit.sandbox.github_server", "--data", str(tmp_path), "--token", "t", "--repo", "o/r"
    )
    proxy: Proc | None = None
    try:
        proxy = start("shipit.sandbox.faults", "--upstream", gh.url)
        with client(base_url=proxy.url, token="t") as c:
            rel = c.post("/repos/o/r/releases", json={"tag_name": "v1", "draft": True}).json()
            upload = rel["upload_url"].removesuffix("{?name,label}")
            assert upload.startswith(proxy.url)  # URLs point back through the proxy
            add_faults(
                proxy.url, {"method": "POST", "path": "/assets$", "action": "drop_after_body"}
            )
            data = os.urandom(2_000_000)
            with pytest.raises(httpx.TransportError):
                c.post(
                    upload,
                    params={"name": "bin"},
                    content=data,
                    headers={"Content-Type": "application/octet-stream"},
                )
            assets_url = f"/repos/o/r/releases/{rel['id']}/assets"
            assets = c.get(assets_url).json()
            assert [(a["name"], a["state"], a["size"]) for a in assets] == [
                ("bin", "uploaded", len(data))
            ]
            assert assets[0]["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert c.get(assets[0]["browser_download_url"]).content == data

            # a client cut off mid-upload: the proxy passes the cut on, GitHub keeps a starter
            target = urlsplit(upload)
            with socket.create_connection(("127.0.0.1", int(target.port or 80))) as s:
                s.sendall(
                    f"POST {target.path}?name=cut HTTP/1.1\r\nHost: {target.netloc}\r\n"
                    "Authorization: Bearer t\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Length: 500000\r\n\r\n".encode()
                    + b"y" * 5000
                )
                time.sleep(0.2)
            deadline = time.monotonic() + 5
            while True:
                states = {a["name"]: a["state"] for a in c.get(assets_url).json()}
                if "cut" in states or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert states == {"bin": "uploaded", "cut": "starter"}
    finally:
        if proxy is not None:
            proxy.stop()
        gh.stop()


def tiny_wheel(dest: Path, name: str, version: str) -> Path:
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}/__init__.py": b"X = 1\n",
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n"
        ).encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = dest / f"{dist}-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    wheel.write_bytes(buf.getvalue())
    return wheel


def test_twine_through_the_proxy_to_the_real_pypiserver(
    pypiserver: Any, fault_proxy: Any, tmp_path: Path
) -> None:
    """drop_after_body in front of pypiserver: twine sees a failure, yet the file is there."""
    name = f"proxied-{os.urandom(4).hex()}"
    wheel = tiny_wheel(tmp_path, name, "1.0.0")
    proxy = fault_proxy(pypiserver.url)
    add_faults(proxy.url, {"method": "POST", "path": ".*", "action": "drop_after_body"})
    env = {
        **os.environ,
        "TWINE_USERNAME": "__token__",
        "TWINE_PASSWORD": pypiserver.token,
        "TWINE_NON_INTERACTIVE": "1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--disable-progress-bar",
            "--repository-url",
            proxy.url + "/",
            str(wheel),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    index = httpx.get(f"{pypiserver.index_url}{name}/", trust_env=False)
    assert index.status_code == 200
    assert wheel.name in index.text
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in index.text
