"""Helpers for the sandbox tests: npm environments with a private .npmrc, hand-made wheels."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from shipit.sandbox.verdaccio import Verdaccio

NpmEnv = Callable[..., dict[str, str]]
MakeWheel = Callable[[str, str], Path]
MakeNpmPackage = Callable[[str, str], Path]


@pytest.fixture
def npm_env(tmp_path: Path) -> NpmEnv:
    """``npm_env(registry, token)``: env for npm with the token in a temp .npmrc, never argv."""

    def make(registry: Verdaccio | str, token: str | None = None) -> dict[str, str]:
        url = registry.url if isinstance(registry, Verdaccio) else registry
        url = url if url.endswith("/") else url + "/"
        secret = token if token is not None else getattr(registry, "token", None)
        npmrc = tmp_path / f"npmrc-{abs(hash((url, secret)))}"
        lines = [f"registry={url}"]
        if secret:
            lines.append(f"//{url.split('://', 1)[1]}:_authToken={secret}")
        npmrc.write_text("\n".join(lines) + "\n")
        npmrc.chmod(0o600)
        env = dict(os.environ)
        env.update(
            {
                "NPM_CONFIG_USERCONFIG": str(npmrc),
                "NPM_CONFIG_REGISTRY": url,
                "NPM_CONFIG_CACHE": str(tmp_path / "npm-cache"),
                # npm's own retry waits 10 s by default: keep the retries, shorten the waits
                "NPM_CONFIG_FETCH_RETRY_MINTIMEOUT": "100",
                "NPM_CONFIG_FETCH_RETRY_MAXTIMEOUT": "300",
                "NPM_CONFIG_PREFER_ONLINE": "true",
            }
        )
        return env

    return make


@pytest.fixture
def npm_package(tmp_path: Path) -> MakeNpmPackage:
    """``npm_package(name, version)``: a directory with a publishable package.json."""

    def make(name: str, version: str) -> Path:
        root = tmp_path / f"{name}-{version}"
        root.mkdir()
        manifest = {"name": name, "version": version, "license": "MIT", "main": "index.js"}
        (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (root / "index.js").write_text(f"module.exports = {json.dumps(version)};\n")
        return root

    return make


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


@pytest.fixture
def make_wheel(tmp_path: Path) -> MakeWheel:
    """``make_wheel(name, version)``: a valid pure-Python wheel file (built in memory)."""

    def make(name: str, version: str) -> Path:
        module = name.replace("-", "_")
        dist_info = f"{module}-{version}.dist-info"
        files = {
            f"{module}/__init__.py": f'__version__ = "{version}"\n'.encode(),
            f"{dist_info}/METADATA": (
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                "Summary: sandbox test package\n"
            ).encode(),
            f"{dist_info}/WHEEL": (
                b"Wheel-Version: 1.0\nGenerator: shipit-tests\nRoot-Is-Purelib: true\n"
                b"Tag: py3-none-any\n"
            ),
        }
        record = io.StringIO()
        for path, data in files.items():
            record.write(f"{path},{_record_hash(data)},{len(data)}\n")
        record.write(f"{dist_info}/RECORD,,\n")
        out = tmp_path / "dist" / f"{module}-{version}-py3-none-any.whl"
        out.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
            for path, data in files.items():
                whl.writestr(path, data)
            whl.writestr(f"{dist_info}/RECORD", record.getvalue())
        return out

    return make
