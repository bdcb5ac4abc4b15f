"""JSR include/exclude selection, deno.jsonc reading, and the .env rule."""

from __future__ import annotations

from pathlib import Path

from shipit.checks.artifacts import deno_config, glob_match, jsr_files
from shipit.checks.secrets import is_env_file

FILES = ["deno.json", "mod.ts", "mod_test.ts", "src/a.ts", "src/b_test.ts", "docs/x.md", ".env"]


def test_default_is_every_file_git_keeps() -> None:
    assert jsr_files(Path("."), {}, FILES) == FILES


def test_include_and_exclude() -> None:
    config = {"publish": {"include": ["mod.ts", "src/", "deno.json"], "exclude": ["**/*_test.ts"]}}
    assert jsr_files(Path("."), config, FILES) == ["deno.json", "mod.ts", "src/a.ts"]


def test_top_level_exclude_and_negation() -> None:
    config = {"exclude": ["docs/", "src/"], "publish": {"exclude": ["!src/a.ts"]}}
    assert jsr_files(Path("."), config, FILES) == [
        "deno.json",
        "mod.ts",
        "mod_test.ts",
        "src/a.ts",
        ".env",
    ]


def test_glob_forms() -> None:
    assert glob_match("src/deep/x.ts", "./src")
    assert glob_match("mod.ts", "**/*.ts")
    assert glob_match("a/b/c_test.ts", "**/*_test.ts")
    assert not glob_match("mod.ts", "src/")


def test_deno_config_reads_jsonc(tmp_path: Path) -> None:
    p = tmp_path / "deno.jsonc"
    text = '{\n  // comment\n  "name": "@a/b", /* block */\n  "url": "http://x//y",\n'
    p.write_text(text + '  "note": "a, }",\n}\n')  # a comma before } inside a string stays
    assert deno_config(tmp_path) == (p, {"name": "@a/b", "url": "http://x//y", "note": "a, }"})


def test_env_file_rule() -> None:
    assert is_env_file(".env") and is_env_file("pkg/.env.production")
    assert is_env_file("dist.whl!.env")
    assert not is_env_file(".env.example") and not is_env_file("env.ts")


def test_pypi_set_reads_the_files_the_build_step_wrote_to_dist_pypi(tmp_path: Path) -> None:
    """The PyPI build step writes dist/pypi/; the set lists what is inside those files."""
    import zipfile

    from shipit.checks.artifacts import PublishSets

    built = tmp_path / "dist" / "pypi"
    built.mkdir(parents=True)
    with zipfile.ZipFile(built / "demo-1.0.0-py3-none-any.whl", "w") as zf:
        zf.writestr("demo/__init__.py", "SECRET_FREE = True\n")
    project = tmp_path / "project"
    project.mkdir()
    found = PublishSets(project, {}, dist_dir=tmp_path / "dist").get("pypi", project)
    assert found.description == "files in the built wheel and sdist"
    assert found.contents == (
        ("demo-1.0.0-py3-none-any.whl!demo/__init__.py", b"SECRET_FREE = True\n"),
    )
