"""Read and write the version in manifests without disturbing anything else in the file.

JSON and JSONC (deno.json, deno.jsonc, jsr.json, package.json): the top-level ``"version"``
string token is replaced in the text itself, so comments, key order, indentation and line
endings stay as they were. TOML (pyproject.toml) is edited with tomlkit. Python files
(``__version__ = "..."``) and configured extra files are edited through a regular expression.
Every parse error is a ConfigError naming the file and the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from shipit.errors import ConfigError, VersionError
from shipit.files import write_text_atomic

# ---------------------------------------------------------------- files


def read_text(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as fh:  # keep CRLF as it is
            return fh.read()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}",
            why=exc.strerror or str(exc),
            hint=f"check that {path.name} is a readable file, then run `shipit check`",
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text",
            why=str(exc),
            hint=f"save {path.name} as UTF-8 (what npm, deno and Python tools read), then run "
            "`shipit check`",
        ) from None


def line_of(text: str, offset: int) -> int:
    """1-based line number of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


# ---------------------------------------------------------------- JSON / JSONC


@dataclass(frozen=True)
class Token:
    """A string token in JSON text: ``start``/``end`` include the quotes."""

    start: int
    end: int
    value: str


def _skip_string(text: str, i: int) -> int:
    """``text[i]`` is a quote; return the index after the closing quote."""
    n = len(text)
    i += 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c == "\n":
            break
        i += 1
    raise ValueError("unterminated string")


def _skip_comment(text: str, i: int) -> int | None:
    """If a comment starts at ``i``, return the index after it, else None."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end < 0:
            raise ValueError("unterminated comment")
        return end + 2
    return None


def strip_jsonc(text: str) -> str:
    """JSONC to JSON with the same offsets: comments and trailing commas become spaces."""
    out = list(text)
    i, n = 0, len(text)
    last_comma: int | None = None
    while i < n:
        c = text[i]
        if c == '"':
            j = _skip_string(text, i)
            last_comma = None
            i = j
            continue
        after = _skip_comment(text, i)
        if after is not None:
            for k in range(i, after):
                if out[k] != "\n":
                    out[k] = " "
            i = after
            continue
        if c == ",":
            last_comma = i
        elif c in "}]":
            if last_comma is not None:
                out[last_comma] = " "
            last_comma = None
        elif not c.isspace():
            last_comma = None
        i += 1
    return "".join(out)


#: JSON files read strictly, as their tool does: npm's ``JSON.parse`` refuses the comments
#: and trailing commas that deno (deno.json, jsr.json, import maps) and tsc accept (npm:
#: EJSONPARSE), so shipit must not accept a package.json that npm will not read.
STRICT_JSON_NAMES = frozenset({"package.json"})


def is_jsonc(path: Path) -> bool:
    return path.name not in STRICT_JSON_NAMES


def loads_jsonc(text: str, path: Path) -> dict[str, Any]:
    """Parse JSON (JSONC for ``is_jsonc`` files) into a dict; ConfigError naming ``path``,
    the line and the way on."""
    body = text.lstrip("\ufeff")
    try:
        data = json.loads(strip_jsonc(body) if is_jsonc(path) else body)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        allowed = (
            "comments and trailing commas are allowed here"
            if is_jsonc(path)
            else "no comments or trailing commas: its tools read strict JSON"
        )
        raise ConfigError(
            f"{where}: not valid JSON",
            why=str(exc),
            hint=f"fix the syntax of {path.name} ({allowed}), then run `shipit check`",
        ) from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ConfigError(
            f"{path}: the top level must be an object",
            why=f"{path.name} holds {kind} where its tools expect an object of fields "
            '({"name": ..., "version": ...})',
            hint=f"make the top level of {path.name} an object, then run `shipit check`",
        )
    return data


def read_json(path: Path) -> dict[str, Any]:
    return loads_jsonc(read_text(path), path)


def _tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """JSON(C) tokens as (kind, start, end): "str", "lit", or the punctuation itself."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c == "\ufeff":
            i += 1
            continue
        after = _skip_comment(text, i)
        if after is not None:
            i = after
            continue
        if c == '"':
            j = _skip_string(text, i)
            yield "str", i, j
            i = j
            continue
        if c in "{}[]:,":
            yield c, i, i + 1
            i += 1
            continue
        j = i + 1
        while j < n and text[j] not in '{}[]:,"/' and not text[j].isspace():
            j += 1
        yield "lit", i, j
        i = j


def find_top_level_string(text: str, key: str) -> Token | None:
    """The string value token of the top-level object's ``key`` in JSON(C) text, or None."""
    depth = 0
    prev = ""
    current: str | None = None
    for kind, start, end in _tokens(text):
        if kind in "{[":
            depth += 1
        elif kind in "}]":
            depth -= 1
        elif depth == 1 and kind == "str":
            if prev in ("{", ","):
                current = json.loads(text[start:end])
            elif prev == ":" and current == key:
                return Token(start, end, json.loads(text[start:end]))
        prev = kind
    return None


def json_version(path: Path) -> tuple[str | None, int | None]:
    """(version, line) of the top-level ``"version"`` in a JSON(C) manifest."""
    text = read_text(path)
    data = loads_jsonc(text, path)
    version = data.get("version")
    if version is None:
        return None, None
    if not isinstance(version, str):
        raise ConfigError(
            f'{path}: "version" must be a string', why=f"found {version!r}", hint=f"fix {path.name}"
        )
    token = find_top_level_string(text, "version")
    return version, line_of(text, token.start) if token else None


def set_json_version(path: Path, version: str) -> bool:
    """Write ``version`` as the top-level ``"version"`` of ``path``; False if unchanged."""
    text = read_text(path)
    loads_jsonc(text, path)
    token = find_top_level_string(text, "version")
    if token is None:
        raise VersionError(
            f'{path} has no top-level "version" string',
            why="shipit edits an existing version field and never adds one",
            hint=f'add "version": "{version}" to {path.name}',
        )
    if token.value == version:
        return False
    new = text[: token.start] + json.dumps(version) + text[token.end :]
    write_text_atomic(path, new)
    return True


# ---------------------------------------------------------------- TOML


def read_toml(path: Path) -> tomlkit.TOMLDocument:
    text = read_text(path)
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            f"{path}:{exc.line}: not valid TOML",
            why=str(exc),
            hint=f"fix the syntax of {path.name} at line {exc.line}",
        ) from None


def toml_table(doc: Any, *keys: str) -> Any:
    """The nested table at ``keys`` or None."""
    node: Any = doc
    for key in keys:
        if not hasattr(node, "get"):
            return None
        node = node.get(key)
        if node is None:
            return None
    return node


def _toml_line(text: str, table: str, key: str) -> int | None:
    lines = text.splitlines()
    inside = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$", stripped)
        if header or stripped.startswith("[["):
            name = header.group(1) if header else ""
            inside = ".".join(p.strip().strip("\"'") for p in name.split(".")) == table
            continue
        if inside and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return i + 1
    return None


def toml_version(path: Path, table: tuple[str, ...]) -> tuple[str | None, int | None]:
    """(version, line) of ``version`` in the TOML ``table`` (e.g. ("project",))."""
    text = read_text(path)
    doc = read_toml(path)
    node = toml_table(doc, *table)
    if node is None or "version" not in node:
        return None, None
    version = node["version"]
    if not isinstance(version, str):
        raise ConfigError(
            f"{path}: [{'.'.join(table)}] version must be a string",
            why=f"found {version!r}",
            hint=f"fix {path.name}",
        )
    return str(version), _toml_line(text, ".".join(table), "version")


def set_toml_version(path: Path, table: tuple[str, ...], version: str) -> bool:
    """Write ``version`` into ``[table] version`` with tomlkit (formatting kept)."""
    doc = read_toml(path)
    node = toml_table(doc, *table)
    if not isinstance(node, Table | dict) or "version" not in node:
        raise VersionError(
            f"{path} has no version in [{'.'.join(table)}]",
            why="shipit edits an existing version field and never adds one",
            hint=f'add version = "{version}" to [{".".join(table)}] in {path.name}',
        )
    if str(node["version"]) == version:
        return False
    node["version"] = version
    write_text_atomic(path, tomlkit.dumps(doc))
    return True


# ---------------------------------------------------------------- regex files

PYTHON_VERSION_PATTERN = (
    r"""^\s*__version__\s*(?::\s*[A-Za-z_][\w\[\]., ]*)?=\s*["'](?P<version>[^"']+)["']"""
)


def _compile(pattern: str, path: Path) -> re.Pattern[str]:
    try:
        regex = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise ConfigError(
            f"invalid version pattern for {path}",
            why=str(exc),
            hint="fix project.version-files[].pattern in the configuration",
        ) from None
    if "version" not in regex.groupindex:
        raise ConfigError(
            f"version pattern for {path} has no group named `version`",
            why=f"pattern: {pattern}",
            hint="write the pattern with (?P<version>...) around the version",
        )
    return regex


def pattern_version(path: Path, pattern: str) -> tuple[str | None, int | None]:
    """(version, line) of the first match of ``pattern`` (group ``version``) in ``path``."""
    text = read_text(path)
    m = _compile(pattern, path).search(text)
    if m is None:
        return None, None
    return m.group("version"), line_of(text, m.start("version"))


def set_pattern_version(path: Path, pattern: str, version: str) -> bool:
    """Replace the first match's ``version`` group in ``path``; False if unchanged."""
    text = read_text(path)
    m = _compile(pattern, path).search(text)
    if m is None:
        raise VersionError(
            f"no version found in {path}",
            why=f"the pattern {pattern!r} does not match the file",
            hint="fix the file or project.version-files[].pattern in the configuration",
        )
    if m.group("version") == version:
        return False
    new = text[: m.start("version")] + version + text[m.end("version") :]
    write_text_atomic(path, new)
    return True
