"""Reading and writing versions in JSON(C), TOML and regex files, formatting untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipit.errors import ConfigError, VersionError
from shipit.project import manifests

DENO_JSONC = """{
  // the package, "version": "9.9.9" in a comment must not be touched
  "name": "@acme/tool",
  /* block comment */ "nested": { "version": "5.0.0" },
  "version" : /* here */ "1.0.0",
  "exports": "./mod.ts",   // trailing comma next
}
"""


def test_jsonc_version_is_found_past_comments_and_nested_keys(tmp_path: Path) -> None:
    path = tmp_path / "deno.jsonc"
    path.write_text(DENO_JSONC)
    assert manifests.json_version(path) == ("1.0.0", 5)
    assert manifests.set_json_version(path, "1.1.0-rc.1") is True
    after = path.read_text()
    assert after == DENO_JSONC.replace('/* here */ "1.0.0"', '/* here */ "1.1.0-rc.1"')
    assert manifests.read_json(path)["nested"] == {"version": "5.0.0"}
    assert manifests.set_json_version(path, "1.1.0-rc.1") is False


def test_package_json_keeps_key_order_indent_and_crlf(tmp_path: Path) -> None:
    text = '{\r\n\t"version": "0.1.0",\r\n\t"name": "x",\r\n\t"files": ["a"]\r\n}'
    path = tmp_path / "package.json"
    path.write_bytes(text.encode())
    manifests.set_json_version(path, "0.2.0")
    assert path.read_bytes() == text.replace("0.1.0", "0.2.0").encode()


def test_missing_version_field_is_not_invented(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text('{"name": "x", "dependencies": {"version": "1.0.0"}}')
    assert manifests.json_version(path) == (None, None)
    with pytest.raises(VersionError) as info:
        manifests.set_json_version(path, "1.0.0")
    assert "package.json" in info.value.what


def test_broken_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text('{\n  "name": "x",\n  "version": 1.0.0\n}\n')
    with pytest.raises(ConfigError) as info:
        manifests.read_json(path)
    assert f"{path}:3" in info.value.what


def test_non_string_version_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text('{"version": 1}')
    with pytest.raises(ConfigError):
        manifests.json_version(path)


PYPROJECT = """# top comment
[build-system]
requires = ["setuptools"]

[project]
name = "demo"   # the name
version = "1.0.0"  # keep this comment
dependencies = [
    "a",   # odd   spacing
]

[tool.poetry]
version = "9.9.9"
"""


def test_pyproject_version_written_with_formatting_kept(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    assert manifests.toml_version(path, ("project",)) == ("1.0.0", 7)
    assert manifests.toml_version(path, ("tool", "poetry")) == ("9.9.9", 13)
    manifests.set_toml_version(path, ("project",), "1.1.0rc1")
    assert path.read_text() == PYPROJECT.replace('"1.0.0"', '"1.1.0rc1"')


def test_pyproject_version_line_with_commented_header(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[ project ]  # metadata\nname = "x"\n"version" = "2.0.0"\n')
    assert manifests.toml_version(path, ("project",)) == ("2.0.0", 3)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\nversion = \n')
    with pytest.raises(ConfigError) as info:
        manifests.read_toml(path)
    assert ":3" in info.value.what


def test_python_version_file(tmp_path: Path) -> None:
    path = tmp_path / "__init__.py"
    text = '"""Doc."""\n\n__version__: str = "0.3.0"\nOTHER = "1.0.0"\n'
    path.write_text(text)
    assert manifests.pattern_version(path, manifests.PYTHON_VERSION_PATTERN) == ("0.3.0", 3)
    manifests.set_pattern_version(path, manifests.PYTHON_VERSION_PATTERN, "0.4.0.dev1")
    assert path.read_text() == text.replace("0.3.0", "0.4.0.dev1")


def test_pattern_without_version_group_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "v.ts"
    path.write_text('export const VERSION = "1.0.0";\n')
    with pytest.raises(ConfigError) as info:
        manifests.pattern_version(path, r"VERSION = \"(.*)\"")
    assert "version" in info.value.what


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    st.sampled_from([None, 2, "\t"]),
    st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True),
)
def test_version_edit_changes_only_the_version(
    data: dict[str, object], indent: int | str | None, new: str
) -> None:
    """For any JSON object with a top-level version, only that value changes."""
    doc = {**data, "version": "0.0.1"}
    text = json.dumps(doc, indent=indent)
    token = manifests.find_top_level_string(text, "version")
    assert token is not None and token.value == "0.0.1"
    edited = text[: token.start] + json.dumps(new) + text[token.end :]
    assert json.loads(edited) == {**doc, "version": new}
    assert json.loads(manifests.strip_jsonc(text)) == doc


@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    st.lists(st.sampled_from(["", "line", "block", "both"]), min_size=30, max_size=30),
    st.booleans(),
)
def test_comments_anywhere_never_confuse_the_version_edit(
    data: dict[str, object], comments: list[str], trailing_comma: bool
) -> None:
    """Comments holding decoy "version" text, at any line, and a trailing comma."""
    doc = {**data, "version": "0.0.1"}
    lines = json.dumps(doc, indent=2).split("\n")
    if trailing_comma and len(lines) > 2:
        lines[-2] += ","
    out = []
    for i, line in enumerate(lines):
        kind = comments[i % len(comments)]
        if kind in ("block", "both"):
            line = '/* "version": "9.9.9" */ ' + line
        if kind in ("line", "both"):
            line += ' // "version": "8.8.8", {'
        out.append(line)
    text = "\n".join(out)
    assert manifests.loads_jsonc(text, Path("deno.jsonc")) == doc
    token = manifests.find_top_level_string(text, "version")
    assert token is not None and text[token.start : token.end] == '"0.0.1"'
    edited = text[: token.start] + '"1.2.3"' + text[token.end :]
    assert manifests.loads_jsonc(edited, Path("deno.jsonc")) == {**doc, "version": "1.2.3"}
