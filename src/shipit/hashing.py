"""Streaming digests: every artifact hash shipit records or compares comes from here.

Files are read in chunks (``hashlib.file_digest``) and downloads are hashed chunk by chunk as
they arrive, so memory stays flat for a 1 GiB binary.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path


def file_digest(path: Path, algorithm: str = "sha256") -> bytes:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, algorithm).digest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file (the form of SHA256SUMS, PyPI and GitHub digests)."""
    return file_digest(path, "sha256").hex()


def sha256_chunks(chunks: Iterable[bytes]) -> str:
    """Hex SHA-256 of a byte stream (a download's ``iter_bytes()``), never held whole."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def sha1_file(path: Path) -> str:
    """Hex SHA-1 (npm's ``shasum``)."""
    return file_digest(path, "sha1").hex()


def sha512_integrity(path: Path) -> str:
    """The Subresource Integrity string npm records for a tarball (``sha512-<base64>``)."""
    return "sha512-" + base64.b64encode(file_digest(path, "sha512")).decode()
