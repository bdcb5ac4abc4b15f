"""Does a published JSR version hold what ``deno publish`` uploads from this directory?

deno does not upload module files as they are: it "unfurls" their specifiers (deno's
``cli/tools/registry/unfurl.rs``): a bare ``"@deno/dnt"`` mapped by the import map becomes
``"jsr:@deno/dnt@^0.41.2"``, a package.json dependency becomes ``npm:name@range``, a
workspace member ``jsr:@scope/member@^1.0.0``. Only the text of specifiers changes (static and
dynamic imports, re-exports, ``/// <reference>`` paths and types, JSDoc ``@import``, the JSX
import source); everything else is uploaded byte for byte, the config file included (also
with ``--set-version``, deno 2.9.8).

So a published file counts as ours when its checksum equals the local file's, or, for a
module file, when the local text with the import map applied has that checksum, or when both
texts are equal once every specifier is blanked out (deno resolved a specifier in a way this
module does not reproduce: a code change still shows). Comparing checksums alone reported a
conflict after every publish of a package that uses its import map.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shipit.errors import ConfigError
from shipit.hashing import sha256_chunks
from shipit.project.manifests import read_json

MODULE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_CONFIGS = ("deno.json", "deno.jsonc", "jsr.json", "jsr.jsonc")

# a quoted specifier where deno's module analysis finds one
_SPECIFIER = re.compile(
    r"""(?P<pre>\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bexport\s*\*\s*from\s*|"""
    r"""<reference\s+(?:path|types|lib)\s*=\s*|@jsxImportSource\s+|\brequire\s*\(\s*)"""
    r"""(?P<q>["'`]?)(?P<spec>[^"'`\s)]+)(?P=q)"""
)


def checksum_of(data: bytes) -> str:
    """A checksum in ``{version}_meta.json``'s form: ``sha256-<hex>``."""
    return "sha256-" + sha256_chunks([data])


def is_module(path: str) -> bool:
    return path.endswith(MODULE_SUFFIXES)


def import_map(directory: Path) -> dict[str, str]:
    """The import map deno resolves bare specifiers with: the ``imports`` of the package's
    config (and of an ``importMap`` file it names), then of a workspace config above it."""
    found: dict[str, str] = {}
    for base in (directory, *directory.parents):
        for name in _CONFIGS:
            path = base / name
            if not path.is_file():
                continue
            try:
                data = read_json(path)
            except ConfigError:
                continue
            for key, value in _imports(base, data).items():
                found.setdefault(key, value)
            break
        if (base / ".git").exists():
            break
    return found


def _imports(base: Path, data: Mapping[str, Any]) -> dict[str, str]:
    imports: dict[str, str] = {}
    raw = data.get("imports")
    if isinstance(raw, dict):
        imports.update({str(k): str(v) for k, v in raw.items() if isinstance(v, str)})
    external = data.get("importMap")
    if isinstance(external, str) and (base / external).is_file():
        try:
            more = read_json(base / external).get("imports")
        except ConfigError:
            more = None
        if isinstance(more, dict):
            for k, v in more.items():
                if isinstance(v, str):
                    imports.setdefault(str(k), v)
    return imports


def unfurl(text: str, imports: Mapping[str, str]) -> str:
    """``text`` with each bare specifier the import map names replaced by its target, as deno
    does for a target that is a ``jsr:``, ``npm:``, ``node:`` or ``http(s):`` specifier
    (exact keys, and prefix keys ending in ``/``)."""

    def target(spec: str) -> str | None:
        mapped = imports.get(spec)
        if mapped is None:
            prefixes = [k for k in imports if k.endswith("/") and spec.startswith(k)]
            if prefixes:
                key = max(prefixes, key=len)
                mapped = imports[key] + spec[len(key) :]
        if mapped and mapped.startswith(("jsr:", "npm:", "node:", "http:", "https:")):
            return mapped
        return None

    def replace(m: re.Match[str]) -> str:
        new = target(m.group("spec"))
        if new is None:
            return m.group(0)
        return f"{m.group('pre')}{m.group('q')}{new}{m.group('q')}"

    return _SPECIFIER.sub(replace, text)


def masked(text: str) -> str:
    """``text`` with every specifier blanked: what stays equal when only specifiers differ."""
    return _SPECIFIER.sub(lambda m: f"{m.group('pre')}{m.group('q')}{m.group('q')}", text)


def same_module(local: bytes, published: bytes, imports: Mapping[str, str]) -> bool:
    """True when ``published`` is what deno makes of ``local`` (specifiers unfurled)."""
    try:
        local_text, published_text = local.decode("utf-8"), published.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if unfurl(local_text, imports) == published_text:
        return True
    return masked(local_text) == masked(published_text)


def differing_files(
    directory: Path,
    files: Mapping[str, str],
    fetch: Callable[[str], bytes] | None = None,
) -> list[str]:
    """Published paths (``"/mod.ts"`` -> ``"sha256-..."``) whose local file is missing or is
    not what deno would have uploaded. ``fetch(path)`` reads a published file, needed only
    for a module whose checksum differs (without it such a module counts as different)."""
    wrong: list[str] = []
    imports: dict[str, str] | None = None
    for path, published in sorted(files.items()):
        local = directory / path.lstrip("/")
        if not local.is_file():
            wrong.append(f"{path} (not here)")
            continue
        data = local.read_bytes()
        if checksum_of(data) == published:
            continue
        if fetch is None or not is_module(path):
            wrong.append(path)
            continue
        if imports is None:
            imports = import_map(directory)
        unfurled = unfurl(data.decode("utf-8", "replace"), imports).encode("utf-8")
        if checksum_of(unfurled) == published:
            continue
        if not same_module(data, fetch(path), imports):
            wrong.append(path)
    return wrong
