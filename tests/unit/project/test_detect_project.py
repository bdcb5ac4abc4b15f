"""Project detection: sources, canonical version, targets with reasons, config overrides."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from shipit.config import Config
from shipit.errors import ConfigError
from shipit.project.detect import detect


def cfg(**sections: object) -> Config:
    return Config.model_validate(sections)


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_empty_directory(tmp_path: Path) -> None:
    p = detect(tmp_path, Config(), {})
    assert p.sources == () and p.canonical is None and p.version is None
    assert p.enabled_targets == []
    assert p.targets["npm"].reason == "no package.json"
    assert p.targets["binaries"].reason.startswith("not configured")


def test_deno_jsonc_with_comments_is_canonical_over_package_json(tmp_path: Path) -> None:
    write(
        tmp_path,
        "deno.jsonc",
        '{\n // c\n "name": "@a/b",\n "version": "1.0.0",\n "exports": "./mod.ts",\n}\n',
    )
    write(tmp_path, "package.json", json.dumps({"name": "@a/b", "version": "1.0.0"}))
    p = detect(tmp_path, Config(), {})
    assert p.ecosystems == ("deno", "node")
    assert [(str(s.file), s.kind, s.version, s.line) for s in p.sources] == [
        ("deno.jsonc", "deno.json", "1.0.0", 4),
        ("package.json", "package.json", "1.0.0", 1),
    ]
    assert p.canonical is not None and str(p.canonical.file) == "deno.jsonc"
    assert p.consistent
    assert p.targets["jsr"].enabled and "name, version and exports" in p.targets["jsr"].reason
    assert p.targets["jsr"].package == "@a/b"
    assert p.targets["npm"].enabled and p.targets["npm"].package == "@a/b"
    assert not p.targets["pypi"].enabled


def test_jsr_needs_name_version_and_exports(tmp_path: Path) -> None:
    write(tmp_path, "deno.json", '{"name": "@a/b", "version": "1.0.0"}')
    p = detect(tmp_path, Config(), {})
    assert not p.targets["jsr"].enabled
    assert p.targets["jsr"].reason == "deno.json has no exports"


def test_jsr_json_used_when_deno_json_is_only_config(tmp_path: Path) -> None:
    write(tmp_path, "deno.json", '{"tasks": {}}')
    write(tmp_path, "jsr.json", '{"name": "@a/b", "version": "2.0.0", "exports": "./m.ts"}')
    p = detect(tmp_path, Config(), {})
    assert [str(s.file) for s in p.sources] == ["jsr.json"]
    assert p.targets["jsr"].enabled and "jsr.json" in p.targets["jsr"].reason
    assert p.version == "2.0.0"


def test_private_package_json_is_not_published(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"name": "x", "version": "1.0.0", "private": true}')
    p = detect(tmp_path, Config(), {})
    assert not p.targets["npm"].enabled
    assert p.targets["npm"].reason == 'package.json has "private": true'
    forced = detect(tmp_path, cfg(npm={"enabled": True}), {})
    assert forced.targets["npm"].enabled
    assert "switched on in config (npm.enabled = true)" in forced.targets["npm"].reason


def test_npm_directory_from_config(tmp_path: Path) -> None:
    write(tmp_path, "npm/package.json", '{"name": "x", "version": "1.0.0"}')
    p = detect(tmp_path, cfg(npm={"directory": "npm"}), {})
    assert p.targets["npm"].enabled and "npm/package.json found" in p.targets["npm"].reason
    assert p.targets["npm"].directory == (tmp_path / "npm").resolve()
    assert [str(s.file) for s in p.sources] == ["npm/package.json"]


def test_pep621_and_switching_pypi_off(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "demo"\nversion = "1.2.0rc1"\n')
    p = detect(tmp_path, Config(), {})
    assert p.ecosystems == ("python",)
    assert p.version == "1.2.0rc1"
    assert p.targets["pypi"].enabled and p.targets["pypi"].package == "demo"
    off = detect(tmp_path, cfg(pypi={"enabled": False}), {})
    assert not off.targets["pypi"].enabled
    assert "switched off in config" in off.targets["pypi"].reason


def test_poetry_static_version(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.poetry]\nname = "demo"\nversion = "0.5.0"\n')
    p = detect(tmp_path, Config(), {})
    assert [(s.kind, s.version) for s in p.sources] == [("poetry", "0.5.0")]


def test_dynamic_version_from_configured_file(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "demo"\ndynamic = ["version"]\n')
    write(tmp_path, "src/demo/__init__.py", '__version__ = "0.7.0"\n')
    unknown = detect(tmp_path, Config(), {})
    assert unknown.sources == () and unknown.targets["pypi"].enabled
    assert "python-version-file" in unknown.notes[0]
    with pytest.raises(ConfigError) as info:
        detect(tmp_path, cfg(project={"python-version-file": "src/nope.py"}), {})
    assert "src/nope.py" in info.value.what
    p = detect(tmp_path, cfg(project={"python-version-file": "src/demo/__init__.py"}), {})
    assert [(str(s.file), s.kind, s.version) for s in p.sources] == [
        ("src/demo/__init__.py", "python-file", "0.7.0")
    ]


def test_dynamic_version_from_setuptools_attr(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "demo"\ndynamic = ["version"]\n'
        '[tool.setuptools.dynamic]\nversion = {attr = "demo.__version__"}\n',
    )
    write(tmp_path, "src/demo/__init__.py", '__version__ = "0.8.0"\n')
    p = detect(tmp_path, Config(), {})
    assert p.version == "0.8.0"


def test_extra_version_file_with_pattern(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"name": "x", "version": "1.0.0"}')
    write(tmp_path, "src/version.ts", 'export const VERSION = "0.9.0";\n')
    config = cfg(
        project={
            "version-files": [
                {"file": "src/version.ts", "pattern": 'VERSION = "(?P<version>[^"]+)"'}
            ]
        }
    )
    p = detect(tmp_path, config, {})
    assert [(str(s.file), s.version) for s in p.sources] == [
        ("package.json", "1.0.0"),
        ("src/version.ts", "0.9.0"),
    ]
    assert not p.consistent
    missing = cfg(project={"version-files": [{"file": "nope.ts"}]})
    with pytest.raises(ConfigError) as info:
        detect(tmp_path, missing, {})
    assert "nope.ts" in info.value.what


def test_version_source_from_config(tmp_path: Path) -> None:
    write(tmp_path, "deno.json", '{"name": "@a/b", "version": "1.0.0", "exports": "./m.ts"}')
    write(tmp_path, "package.json", '{"name": "x", "version": "2.0.0"}')
    p = detect(tmp_path, cfg(project={"version-source": "package.json"}), {})
    assert p.version == "2.0.0"
    with pytest.raises(ConfigError):
        detect(tmp_path, cfg(project={"version-source": "Cargo.toml"}), {})


def test_broken_manifest_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"name": "x",,}')
    with pytest.raises(ConfigError) as info:
        detect(tmp_path, Config(), {})
    assert "package.json:1" in info.value.what


def _git_init(root: Path, url: str) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", url], check=True)


def test_github_target_from_origin_env_and_config(tmp_path: Path) -> None:
    assert not detect(tmp_path, Config(), {}).targets["github"].enabled
    env_on = detect(tmp_path, Config(), {"GITHUB_REPOSITORY": "acme/tool"}).targets["github"]
    assert env_on.enabled and env_on.reason == "GITHUB_REPOSITORY=acme/tool"
    assert env_on.package == "acme/tool"
    _git_init(tmp_path, "git@github.com:acme/tool.git")
    t = detect(tmp_path, Config(), {}).targets["github"]
    assert t.enabled and t.reason == "origin is github.com/acme/tool"
    assert not detect(tmp_path, cfg(github={"enabled": False}), {}).targets["github"].enabled


def test_non_github_origin_is_off_with_its_url(tmp_path: Path) -> None:
    _git_init(tmp_path, "https://gitlab.com/acme/tool.git")
    t = detect(tmp_path, Config(), {}).targets["github"]
    assert not t.enabled and "gitlab.com" in t.reason


def test_binaries_only_when_configured(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"name": "@acme/hello", "version": "1.0.0"}')
    assert not detect(tmp_path, Config(), {}).targets["binaries"].enabled
    config = cfg(binaries={"enabled": True, "targets": ["x86_64-linux-gnu"]})
    t = detect(tmp_path, config, {}).targets["binaries"]
    assert t.enabled and "x86_64-linux-gnu" in t.reason and t.package == "hello"


def test_a_package_json_npm_would_refuse_is_refused(tmp_path: Path) -> None:
    """npm reads package.json with JSON.parse: a trailing comma is EJSONPARSE there, so it is
    a config error here too (deno.json keeps JSONC)."""
    write(tmp_path, "package.json", '{"name": "a", "version": "1.0.0",}\n')
    with pytest.raises(ConfigError) as err:
        detect(tmp_path, Config(), {})
    assert err.value.what.endswith("package.json:1: not valid JSON")
    assert err.value.hint is not None and "no comments or trailing commas" in err.value.hint


def test_a_manifest_that_is_a_list_says_why(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '["a"]\n')
    with pytest.raises(ConfigError) as err:
        detect(tmp_path, Config(), {})
    assert err.value.why is not None and "holds a list" in err.value.why
    assert err.value.hint is not None and "`shipit check`" in err.value.hint


def test_a_manifest_link_that_leads_nowhere_is_an_error_not_a_missing_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "deno.json").symlink_to("deno.jsonc")
    (tmp_path / "deno.jsonc").symlink_to("deno.json")
    with pytest.raises(ConfigError) as err:
        detect(tmp_path, Config(), {})
    assert err.value.what == "deno.json is a symbolic link that leads nowhere"


def test_a_manifest_link_out_of_the_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    outside = write(tmp_path, "shared/package.json", '{"name": "a", "version": "1.0.0"}\n')
    project.mkdir()
    (project / "package.json").symlink_to(outside)
    with pytest.raises(ConfigError) as err:
        detect(project, Config(), {})
    assert err.value.what == "package.json is a symbolic link to a file outside the project"
    # a link inside the project is fine
    (project / "package.json").unlink()
    write(project, "packages/a/package.json", '{"name": "a", "version": "1.0.0"}\n')
    (project / "package.json").symlink_to("packages/a/package.json")
    assert detect(project, Config(), {}).targets["npm"].enabled
