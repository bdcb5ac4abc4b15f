"""Network like npm, pip and curl: a CONNECT proxy from HTTPS_PROXY (NO_PROXY honoured) and a
TLS server whose CA is trusted only through SSL_CERT_FILE, REQUESTS_CA_BUNDLE or npm's cafile.

Both servers are real and local: a TLS registry on 127.0.0.1 with a certificate of a CA made
here with ``cryptography``, and a tunnelling proxy that records what it was asked to reach.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shipit.errors import PermanentError
from shipit.registries.npm import Npm

PACKAGE = "left-pad-demo"
DOCUMENT = {
    "name": PACKAGE,
    "dist-tags": {"latest": "1.0.0"},
    "versions": {"1.0.0": {"dist": {"integrity": "sha512-AAAA", "tarball": "x"}}},
}


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA nobody trusts, and a certificate for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("shipit test CA"))
        .issuer_name(_name("shipit test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = (
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
    )
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, cert_pem, key_pem


class _Registry(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(DOCUMENT).encode() if self.path == f"/{PACKAGE}" else b"{}"
        self.send_response(200 if self.path == f"/{PACKAGE}" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Proxy:
    """A CONNECT proxy on 127.0.0.1 that tunnels and records each target."""

    targets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pair = [conn, upstream]
                while True:
                    ready, _, _ = select.select(pair, [], [], 10)
                    if not ready:
                        return
                    for s in ready:
                        data = s.recv(65536)
                        if not data:
                            return
                        (upstream if s is conn else conn).sendall(data)

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class TlsRegistry:
    url: str
    ca: Path


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRegistry]:
    directory = tmp_path_factory.mktemp("tls")
    ca, cert, key = make_ca_and_server_cert(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield TlsRegistry(f"https://127.0.0.1:{server.server_address[1]}/", ca)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No proxy, no CA variables, an empty npm user config: only what each test sets."""
    for name in (
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "https_proxy",
        "http_proxy",
        "all_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "npm_config_cafile",
        "NPM_CONFIG_CAFILE",
        "no_proxy",
        "npm_config_strict_ssl",
        "NPM_CONFIG_STRICT_SSL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("NPM_CONFIG_USERCONFIG", str(tmp_path / "npmrc"))
    return monkeypatch


def read(registry: TlsRegistry) -> str | None:
    return Npm(registry.url, timeout=10).read(PACKAGE, "1.0.0").integrity


def test_an_unknown_ca_is_refused_with_a_hint(
    tls_registry: TlsRegistry, clean_env: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PermanentError) as caught:
        read(tls_registry)
    assert "CERTIFICATE_VERIFY_FAILED" in (caught.value.why or "")
    assert "SSL_CERT_FILE" in (caught.value.hint or "")


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_a_ca_from_the_environment_is_trusted(
    tls_registry: TlsRegistry, clean_env: pytest.MonkeyPatch, variable: str
) -> None:
    clean_env.setenv(variable, str(tls_registry.ca))
    assert read(tls_registry) == "sha512-AAAA"


def test_a_ca_directory_from_ssl_cert_dir_is_trusted(
    tls_registry: TlsRegistry, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    # OpenSSL looks CAs up by subject hash: <hash>.0
    cert = x509.load_pem_x509_certificate(tls_registry.ca.read_bytes())
    import subprocess

    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(tls_registry.ca)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (certs / f"{digest}.0").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    clean_env.setenv("SSL_CERT_DIR", str(certs))
    assert read(tls_registry) == "sha512-AAAA"


def test_npms_cafile_and_strict_ssl_count_for_the_npm_registry(
    tls_registry: TlsRegistry, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "npmrc").write_text(f"cafile={tls_registry.ca}\n")
    assert read(tls_registry) == "sha512-AAAA"
    (tmp_path / "npmrc").write_text("strict-ssl=false\n")
    assert read(tls_registry) == "sha512-AAAA"
    (tmp_path / "npmrc").write_text("")
    clean_env.setenv("npm_config_cafile", str(tls_registry.ca))
    assert read(tls_registry) == "sha512-AAAA"


def test_https_proxy_carries_the_request_and_no_proxy_bypasses_it(
    tls_registry: TlsRegistry, clean_env: pytest.MonkeyPatch
) -> None:
    proxy = Proxy()
    try:
        clean_env.setenv("SSL_CERT_FILE", str(tls_registry.ca))
        clean_env.setenv("HTTPS_PROXY", proxy.url)
        clean_env.setenv("NO_PROXY", "")  # this test is about the proxy: loopback through it
        assert read(tls_registry) == "sha512-AAAA"
        port = tls_registry.url.rsplit(":", 1)[1].rstrip("/")
        assert proxy.targets == [f"127.0.0.1:{port}"]
        clean_env.setenv("NO_PROXY", "127.0.0.1")
        assert read(tls_registry) == "sha512-AAAA"
        assert len(proxy.targets) == 1  # went direct
    finally:
        proxy.close()
