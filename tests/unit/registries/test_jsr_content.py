"""What deno uploads: module specifiers unfurled through the import map, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from shipit.registries.jsr_content import checksum_of, differing_files, masked, unfurl

IMPORTS = {"@deno/dnt": "jsr:@deno/dnt@^0.41.2", "std/": "jsr:@std/", "./local": "./x.ts"}
LOCAL = """import { build } from "@deno/dnt";
import * as path from "std/path/mod.ts";
export * from "@deno/dnt";
const later = await import("@deno/dnt");
/// <reference types="@deno/dnt" />
const text = "@deno/dnt is a string, not an import";
"""
UPLOADED = """import { build } from "jsr:@deno/dnt@^0.41.2";
import * as path from "jsr:@std/path/mod.ts";
export * from "jsr:@deno/dnt@^0.41.2";
const later = await import("jsr:@deno/dnt@^0.41.2");
/// <reference types="jsr:@deno/dnt@^0.41.2" />
const text = "@deno/dnt is a string, not an import";
"""


def test_unfurl_rewrites_specifiers_only() -> None:
    assert unfurl(LOCAL, IMPORTS) == UPLOADED


def test_masking_hides_specifiers_but_not_code() -> None:
    assert masked(LOCAL) == masked(UPLOADED)
    assert masked(LOCAL) != masked(UPLOADED.replace("not an import", "an import"))


def _package(tmp_path: Path, body: str) -> Path:
    config = {"name": "@a/b", "version": "1.0.0", "exports": "./mod.ts", "imports": IMPORTS}
    (tmp_path / "deno.json").write_text(json.dumps(config))
    (tmp_path / "mod.ts").write_text(body)
    (tmp_path / "README.md").write_text("# b\n")
    return tmp_path


def test_a_published_module_with_unfurled_specifiers_is_ours(tmp_path: Path) -> None:
    directory = _package(tmp_path, LOCAL)
    files = {
        "/deno.json": checksum_of((directory / "deno.json").read_bytes()),
        "/mod.ts": checksum_of(UPLOADED.encode()),
        "/README.md": checksum_of(b"# b\n"),
    }
    assert differing_files(directory, files, fetch=lambda p: UPLOADED.encode()) == []


def test_deno_resolving_otherwise_still_counts_when_only_specifiers_differ(tmp_path: Path) -> None:
    """e.g. a workspace member unfurled to jsr:@scope/member@^1.0.0: not in the import map."""
    uploaded = LOCAL.replace('"@deno/dnt"', '"jsr:@deno/dnt@0.41.3"')
    directory = _package(tmp_path, LOCAL)
    files = {"/mod.ts": checksum_of(uploaded.encode())}
    assert differing_files(directory, files, fetch=lambda p: uploaded.encode()) == []


def test_other_code_or_other_files_differ(tmp_path: Path) -> None:
    directory = _package(tmp_path, LOCAL)
    other = UPLOADED.replace("const text", "const words")
    files = {
        "/mod.ts": checksum_of(other.encode()),
        "/README.md": checksum_of(b"# c\n"),
        "/gone.ts": checksum_of(b""),
    }
    assert differing_files(directory, files, fetch=lambda p: other.encode()) == [
        "/README.md",
        "/gone.ts (not here)",
        "/mod.ts",
    ]
