"""Trusted publishing in front of the sandbox's npm and PyPI: the registries' OIDC exchanges.

``python -m shipit.sandbox.oidc_exchange --kind npm|pypi --port 0 --upstream URL
--issuer URL --data DIR --secret-file F --trust-repo owner/name`` prints
``listening on http://127.0.0.1:PORT``. Everything not listed here is passed through to the
upstream (verdaccio or pypiserver) unchanged, so the front-end's URL is the registry's URL.

npm (in front of verdaccio; PROTOCOLS.md and npm's ``lib/utils/oidc.js``):
``POST /-/npm/v1/oidc/token/exchange/package/<escaped name>`` with
``Authorization: Bearer <ID token>`` (audience ``npm:<registry host>``) answers
``{"token": ...}``: a fresh token of the sandbox user, got by logging in to verdaccio (the
secret file holds that user's password), which verdaccio accepts for the publish. As on
npmjs.com the package must already exist, and a trust that does not match answers the same
404 ``OIDC token exchange error - package not found``; a bad ID token answers 401.

PyPI (in front of pypiserver; warehouse's ``oidc/views.py``): ``GET /_/oidc/audience`` ->
``{"audience": "pypi"}``; ``POST /_/oidc/mint-token`` with ``{"token": <ID token>}`` ->
``{"success": true, "token": "pypi-..."}`` valid for 15 minutes for the projects whose
trusted publisher matches, or 422 ``{"message": "Token request failed", "errors": [{"code",
"description"}]}`` (``invalid-payload``, ``invalid-token``, ``invalid-publisher``). An upload
with ``__token__`` and a minted token is checked (expiry, project) and forwarded with the
sandbox's real pypiserver password (the secret file); anything else passes through.

Trusted publishers live in ``DATA/trust.json`` (``shipit.sandbox.oidc_trust``); tests change
them with ``/_shipit/trust``. Fault rules apply.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from shipit.redact import register
from shipit.sandbox._http import SandboxHTTPServer, open_log, serve_main
from shipit.sandbox.faults import ProxyApp, ProxyHandler
from shipit.sandbox.oidc_trust import InvalidIdToken, IssuerKeys, TrustList, handle_admin

NPM_EXCHANGE = re.compile(r"^/-/npm/v1/oidc/token/exchange/package/(?P<name>[^/]+)$")
NPM_NOT_FOUND = "OIDC token exchange error - package not found"
NPM_UNAUTHORIZED = "OIDC token exchange error - unauthorized"
PYPI_AUDIENCE = "pypi"
MINTED_LIFETIME_S = 900  # warehouse: not_before + 900
MAX_UPLOAD = 200 * 1024 * 1024
NAME_FIELD = re.compile(rb'Content-Disposition: form-data; name="name"\r\n\r\n([^\r\n]*)\r\n', re.I)


def pep503(name: str) -> str:
    """PyPI's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class ExchangeApp(ProxyApp):
    """The upstream, the trusted issuer, the trust list and the upstream's secret."""

    def __init__(
        self,
        kind: str,
        upstream: str,
        *,
        issuer: str,
        data: Path,
        secret: str,
        trust_repo: str | None,
        user: str = "shipit",
        log: Any = None,
    ) -> None:
        super().__init__(upstream.rstrip("/"), log=log)
        self.kind = kind
        self.keys = IssuerKeys(issuer)
        self.secret = secret
        self.user = user
        register(secret)
        data.mkdir(parents=True, exist_ok=True)
        self.trust = TrustList(
            data / "trust.json",
            default_repository=trust_repo,
            normalize=pep503 if kind == "pypi" else (lambda n: n),
        )
        self.minted: dict[str, tuple[float, list[str], dict[str, Any]]] = {}
        self.lock = threading.Lock()


class ExchangeHandler(ProxyHandler):
    """The exchange endpoints of npm or PyPI; everything else goes to the upstream."""

    @property
    def exchange(self) -> ExchangeApp:
        return cast(ExchangeApp, self.app)

    def health(self) -> dict[str, Any]:
        return {"service": f"{self.exchange.kind}-oidc", "upstream": self.exchange.upstream}

    def admin_extra(self, path: str) -> None:
        if not handle_admin(self, self.exchange.trust, path):
            super().admin_extra(path)

    def route(self) -> None:
        path = self.url_path
        if self.exchange.kind == "npm":
            match = NPM_EXCHANGE.match(path)
            if match and self.command == "POST":
                self.npm_exchange(unquote(match.group("name")))
                return
        else:
            if path == "/_/oidc/audience" and self.command in ("GET", "HEAD"):
                self.send_json(200, {"audience": PYPI_AUDIENCE})
                return
            if path == "/_/oidc/mint-token" and self.command == "POST":
                self.pypi_mint()
                return
            if self.command == "POST" and self.minted_auth() is not None:
                self.pypi_upload()
                return
        self.forward()

    # --- npm --------------------------------------------------------------------------------
    def npm_exchange(self, name: str) -> None:
        self.body.drain()
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self.send_json(401, {"message": NPM_UNAUTHORIZED})
            return
        host = urlsplit(f"http://{self.headers.get('Host', '127.0.0.1')}").hostname
        try:
            claims = self.exchange.keys.verify(token.strip(), audience=f"npm:{host}")
        except InvalidIdToken as exc:
            self.log_message("npm exchange refused: %s", exc)
            self.send_json(401, {"message": NPM_UNAUTHORIZED})
            return
        if not self.npm_package_exists(name):
            self.send_json(404, {"message": NPM_NOT_FOUND})
            return
        refusal = self.exchange.trust.refusal(name, claims)
        if refusal is not None:
            self.log_message("npm exchange refused: %s", refusal)
            self.send_json(404, {"message": NPM_NOT_FOUND})
            return
        from shipit.sandbox.verdaccio import login

        minted = login(self.exchange.upstream + "/", self.exchange.user, self.exchange.secret)
        self.send_json(201, {"token": minted})

    def npm_package_exists(self, name: str) -> bool:
        from shipit.http import client

        escaped = name.replace("/", "%2f")
        with client(timeout=15.0) as http:
            response = http.get(f"{self.exchange.upstream}/{escaped}")
        return response.status_code == 200

    # --- PyPI -------------------------------------------------------------------------------
    def pypi_invalid(self, code: str, description: str) -> None:
        self.send_json(
            422,
            {
                "message": "Token request failed",
                "errors": [{"code": code, "description": description}],
            },
        )

    def pypi_mint(self) -> None:
        try:
            payload = self.read_json(1 << 16)
            token = payload.get("token") if isinstance(payload, dict) else None
            if not isinstance(token, str):
                raise ValueError("token: Field required")
        except (ValueError, UnicodeDecodeError) as exc:
            self.pypi_invalid("invalid-payload", str(exc))
            return
        try:
            claims = self.exchange.keys.verify(token, audience=PYPI_AUDIENCE)
        except InvalidIdToken as exc:
            self.log_message("mint-token refused: %s", exc)
            self.pypi_invalid("invalid-token", "malformed or invalid token")
            return
        granted = self.exchange.trust.packages_for(claims)
        if not granted:
            self.pypi_invalid(
                "invalid-publisher",
                "valid token, but no corresponding publisher (Publisher with matching "
                f"claims was not found: repository {claims.get('repository')})",
            )
            return
        minted = "pypi-" + secrets.token_urlsafe(48)
        register(minted)
        with self.exchange.lock:
            self.exchange.minted[hashlib.sha256(minted.encode()).hexdigest()] = (
                time.time() + MINTED_LIFETIME_S,
                granted,
                claims,
            )
        self.send_json(200, {"success": True, "token": minted})

    def minted_auth(self) -> tuple[float, list[str], dict[str, Any]] | None:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if user != "__token__":
            return None
        with self.exchange.lock:
            return self.exchange.minted.get(hashlib.sha256(password.encode()).hexdigest())

    def pypi_upload(self) -> None:
        grant = self.minted_auth()
        assert grant is not None
        expires, granted, claims = grant
        body = self.body.read_all(MAX_UPLOAD)
        if body is None:
            self.send_json(413, {"message": "upload too large"})
            return
        if time.time() > expires:
            self.send_json(403, {"message": "Invalid API Token: token expired"})
            return
        match = NAME_FIELD.search(body)
        project = match.group(1).decode("utf-8", "replace") if match else ""
        if not self.exchange.trust.allows(granted, project, claims):
            self.send_json(
                403,
                {
                    "message": "Invalid API Token: project-scoped token is not valid for "
                    f"project: {project!r}"
                },
            )
            return
        real = base64.b64encode(f"__token__:{self.exchange.secret}".encode()).decode()
        self.forward(body=body, headers={"Authorization": f"Basic {real}"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shipit.sandbox.oidc_exchange",
        description="Trusted-publishing exchange in front of the sandbox's npm or PyPI.",
    )
    parser.add_argument("--kind", choices=("npm", "pypi"), required=True)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = free)")
    parser.add_argument("--upstream", required=True, help="verdaccio's or pypiserver's URL")
    parser.add_argument("--issuer", required=True, help="the trusted OIDC issuer's URL")
    parser.add_argument("--data", required=True, type=Path, help="state directory")
    parser.add_argument(
        "--secret-file",
        required=True,
        type=Path,
        help="verdaccio's sandbox-user password (npm) or pypiserver's token (pypi)",
    )
    parser.add_argument("--trust-repo", help="owner/name every package trusts by default")
    parser.add_argument("--log", help="append a request log to this file")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    exchange = ExchangeApp(
        args.kind,
        args.upstream,
        issuer=args.issuer,
        data=args.data,
        secret=args.secret_file.read_text().strip(),
        trust_repo=args.trust_repo,
        log=open_log(args.log, args.verbose),
    )
    return serve_main(SandboxHTTPServer(args.port, ExchangeHandler, exchange))


if __name__ == "__main__":
    sys.exit(main())
