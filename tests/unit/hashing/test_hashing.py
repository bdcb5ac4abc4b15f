"""The streaming digests agree with one-shot hashlib on the same bytes, however they arrive."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from shipit.hashing import sha1_file, sha256_chunks, sha256_file, sha512_integrity


def test_file_and_stream_digests_match_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # bigger than one read chunk
    path = tmp_path / "artifact.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == expected
    chunks = (data[i : i + 1000] for i in range(0, len(data), 1000))
    assert sha256_chunks(chunks) == expected
    assert sha256_chunks([]) == hashlib.sha256(b"").hexdigest()
    assert sha1_file(path) == hashlib.sha1(data).hexdigest()
    assert (
        sha512_integrity(path)
        == "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    )
