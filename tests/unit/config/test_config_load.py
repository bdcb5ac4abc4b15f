"""Loading shipit.toml / [tool.shipit]: defaults, precedence, and precise errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.config import Config, load, parse
from shipit.errors import ConfigError, ExitCode


def test_no_configuration_means_defaults(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    assert loaded.path is None
    assert loaded.config == Config()
    assert loaded.config.release.tag_format == "v{version}"


def test_shipit_toml_and_tool_shipit(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text('[release]\ntag-format = "release-{version}"\n')
    assert load(tmp_path).config.release.tag_format == "release-{version}"
    (tmp_path / "shipit.toml").unlink()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.shipit.release]\nremote = "upstream"\n'
    )
    loaded = load(tmp_path)
    assert loaded.path == tmp_path / "pyproject.toml"
    assert loaded.config.release.remote == "upstream"


def test_both_places_is_an_error_naming_both(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text("")
    (tmp_path / "pyproject.toml").write_text("[tool.shipit]\n")
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    err = info.value
    assert err.exit_code == ExitCode.USAGE
    assert "shipit.toml" in (err.why or "") and "pyproject.toml" in (err.why or "")


def test_explicit_config_wins(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text('[release]\nremote = "a"\n')
    other = tmp_path / "ci.toml"
    other.write_text('[release]\nremote = "b"\n')
    assert load(tmp_path, other).config.release.remote == "b"
    with pytest.raises(ConfigError) as info:
        load(tmp_path, tmp_path / "missing.toml")
    assert "missing.toml" in info.value.what


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "shipit.toml"
    path.write_text('[release]\nremote = "origin"\ntag-format = "v{version}\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    err = info.value
    assert err.what == f"{path}:3: not valid TOML"
    assert 'tag-format = "v{version}' in (err.why or "")
    assert "line 3" in (err.hint or "")


def test_unknown_key_did_you_mean_with_line(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text('# c\n[release]\nremote = "o"\ntag-fromat = "v"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    err = info.value
    assert "shipit.toml:4: unknown key `release.tag-fromat` (did you mean `tag-format`?)" in (
        err.why or ""
    )
    assert "rename `tag-fromat` to `tag-format`" in (err.hint or "")


def test_unknown_table_points_at_its_header(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text('[release]\nremote = "o"\n\n[relase]\nx = 1\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "shipit.toml:4: unknown key `relase` (did you mean `release`?)" in (info.value.why or "")


def test_unknown_key_in_second_array_table(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text(
        '[[commands]]\nid = "a"\nrun = "x"\n\n[[commands]]\nid = "b"\nrun = "y"\nafterr = "build"\n'
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "shipit.toml:8: unknown key `commands[1].afterr` (did you mean `after`?)" in (
        info.value.why or ""
    )


def test_wrong_types_each_reported_with_line_and_expected_type(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text(
        '[retry]\nattempts = "many"\n\n[npm]\nenabled = "yes"\n\n'
        '[binaries.signing]\nmethod = "pgp"\n'
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    why, hint = info.value.why or "", info.value.hint or ""
    assert "shipit.toml:2: `retry.attempts`: Input should be a valid integer" in why
    assert "shipit.toml:5: `npm.enabled`" in why
    assert "shipit.toml:8: `binaries.signing.method`" in why
    assert "`retry.attempts` takes a whole number" in hint
    assert "`npm.enabled` takes true or false" in hint
    assert '`binaries.signing.method` takes one of "none", "minisign", "gpg"' in hint


def test_tool_shipit_errors_use_the_full_key_path(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.shipit.release]\nremote = 5\n'
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "pyproject.toml:5: `tool.shipit.release.remote`" in (info.value.why or "")


def test_out_of_range_value(tmp_path: Path) -> None:
    (tmp_path / "shipit.toml").write_text("[retry]\nattempts = 0\n")
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "greater than or equal to 1" in (info.value.why or "")


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


@settings(max_examples=40, deadline=None)
@given(
    attempts=st.integers(1, 20),
    tag_format=st.sampled_from(["v{version}", "{version}", "release-{version}"]),
    npm=st.sampled_from([None, True, False]),
    targets=st.lists(st.sampled_from(["x86_64-linux-gnu", "aarch64-macos"]), unique=True),
    urls=st.lists(st.text("abc:/", min_size=1, max_size=10), max_size=2),
)
def test_written_config_reads_back_the_same(
    attempts: int, tag_format: str, npm: bool | None, targets: list[str], urls: list[str]
) -> None:
    """Any configuration written as TOML (kebab-case keys) loads back equal."""
    config = Config.model_validate(
        {
            "retry": {"attempts": attempts},
            "release": {"tag-format": tag_format},
            "npm": {"enabled": npm},
            "binaries": {"enabled": bool(targets), "targets": targets},
            "notify": {"urls": urls},
        }
    )
    text = tomlkit.dumps(_drop_none(config.model_dump(mode="json", by_alias=True)))
    again = parse(tomlkit.parse(text).unwrap(), path=Path("shipit.toml"), text=text)
    assert again == config
    assert again.digest() == config.digest()


@settings(max_examples=60, deadline=None)
@given(key=st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12))
def test_any_unknown_key_is_a_config_error_never_a_crash(key: str) -> None:
    known = {
        "project",
        "release",
        "retry",
        "checks",
        "npm",
        "jsr",
        "pypi",
        "github",
        "binaries",
        "notify",
        "commands",
    }
    if key in known:
        return
    text = f'[release]\n"{key}" = 1\n'
    with pytest.raises(ConfigError) as info:
        parse({"release": {key: 1}}, path=Path("shipit.toml"), text=text)
    if key not in {
        "branch",
        "remote",
        "tag-format",
        "commit-message",
        "tag-message",
        "sign-tags",
        "changelog",
        "confirm",
    }:
        assert f"shipit.toml:2: unknown key `release.{key}`" in (info.value.why or "")


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("v{ver}", "unknown placeholder {ver}"),
        ("release", "needs {version} exactly once"),
        ("v{version}-{version}", "needs {version} exactly once"),
        ("v{}", "unknown placeholder {}"),
        ("v{version", "not a valid template"),
        ("v {version}", "git cannot make a tag name"),
        ("v{version}.lock", "git cannot make a tag name"),
        ("{version}..x", "git cannot make a tag name"),
    ],
)
def test_tag_format_needs_version_once_and_a_name_git_accepts(
    tmp_path: Path, template: str, words: str
) -> None:
    (tmp_path / "shipit.toml").write_text(f'# release\n[release]\ntag-format = "{template}"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    err = info.value
    assert err.exit_code == ExitCode.USAGE
    assert "shipit.toml:3: `release.tag-format`" in (err.why or "")
    assert words in (err.why or "")
    assert 'tag-format = "v{version}"' in (err.hint or "")


@pytest.mark.parametrize(
    "template", ["v{version}", "{version}", "mytool-v{version}", "x/{version}"]
)
def test_good_tag_formats_load(tmp_path: Path, template: str) -> None:
    (tmp_path / "shipit.toml").write_text(f'[release]\ntag-format = "{template}"\n')
    assert load(tmp_path).config.release.tag_format == template


def test_messages_know_tag_and_version_only(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.shipit.release]\ncommit-message = "release {tag} ({version}) {{ok}}"\n'
        'tag-message = "Release {name}"\n'
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "pyproject.toml:3: `tool.shipit.release.tag-message`: unknown placeholder {name}" in (
        info.value.why or ""
    )
    assert "commit-message" not in (info.value.why or "")
    assert 'tag-message = "Release {tag}"' in (info.value.hint or "")
