"""JSR include/exclude selection, deno.jsonc reading, and the .env rule."""

from __future__ import annotations

from pathlib import Path

from shipit.checks import secrets
from shipit.checks.artifacts import deno_config, glob_match, jsr_files
from shipit.checks.base import Kind
from shipit.checks.secrets import is_env_file
from shipit.config import Config

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


AWS = "AKIAZ7XQ2M4KJH6PW3NB"


def scan(
    tmp_path: Path,
    files: dict[str, str],
    config: dict[str, object] | None = None,
    target: str = "pypi",
) -> list[tuple[str | None, int | None, str]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = secrets.findings_for(
        target,
        [(n, tmp_path / n) for n in files],
        tmp_path,
        Config.model_validate(config or {}),
    )
    assert all(f.kind == Kind.SECRET for f in found)
    return [(f.file, f.line, f.message.split(" in ")[0]) for f in found]


def test_commit_hashes_and_text_test_vectors_are_not_secrets(tmp_path: Path) -> None:
    files = {
        "CITATION.cff": "cff-version: 1.2.0\ncommit: 3f786850e387550fdab836ed7e6dc881de23001b\n",
        "tests/vectors.py": 'HELLO = "SGVsbG8sIFdvcmxkISBUaGlzIGlzIGEgdGVzdCB2ZWN0b3Iu"\n',
        "keys.py": f'token = "x"\naws = "{AWS}"\n',
    }
    assert scan(tmp_path, files) == [("keys.py", 2, "possible secret (AWS Access Key)")]


def test_allowlists_maintainers_already_use(tmp_path: Path) -> None:
    files = {
        "a.py": f'aws = "{AWS}"  # pragma: allowlist secret\n',
        "b.py": f'aws = "{AWS}"\n',
        "fixtures/c.py": f'aws = "{AWS}"\n',
        "d.py": f'aws = "{AWS}"\n',
    }
    # b.py recorded in detect-secrets' baseline (by its hash), fixtures/ excluded in config
    import hashlib

    hashed = hashlib.sha1(AWS.encode()).hexdigest()
    (tmp_path / ".secrets.baseline").write_text(
        '{"version": "1.5.0", "results": {"b.py": [{"type": "AWS Access Key", '
        f'"filename": "b.py", "hashed_secret": "{hashed}", "is_verified": false, '
        '"line_number": 1}]}}'
    )
    found = scan(tmp_path, files, {"checks": {"secrets": {"exclude": ["fixtures/**"]}}})
    assert found == [("d.py", 1, "possible secret (AWS Access Key)")]


def test_archive_members_match_the_baseline_by_their_source_path() -> None:
    assert secrets._source_name("pkg-1.0.tar.gz!pkg-1.0/src/pkg/a.py") == "src/pkg/a.py"
    assert secrets._source_name("pkg-1.0-py3-none-any.whl!pkg/a.py") == "pkg/a.py"
    assert secrets.excluded("pkg-1.0.tar.gz!pkg-1.0/tests/x.py", ["tests/*"])


def test_advice_fits_how_the_target_selects_files(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.in").write_text("include CITATION.cff\n")
    hint = secrets.exclude_hint("pypi", "CITATION.cff", tmp_path)
    assert hint == "take CITATION.cff out of the sdist: remove its line from MANIFEST.in"
    assert secrets.exclude_hint("pypi", "notes.txt", tmp_path).endswith(
        "add `exclude notes.txt` to MANIFEST.in"
    )
    (tmp_path / "pyproject.toml").write_text('[build-system]\nbuild-backend = "hatchling.build"\n')
    assert "[tool.hatch.build] exclude" in secrets.exclude_hint("pypi", "a.txt", tmp_path)
    assert "`files` in package.json" in secrets.exclude_hint("npm", "a.txt", tmp_path)
    assert '"publish": {"exclude"' in secrets.exclude_hint("jsr", "a.txt", tmp_path)
    for target in ("npm", "jsr", "pypi", "binaries"):
        hint = secrets.secret_hint(target, "a.txt", tmp_path)
        assert ".gitignore" not in hint  # never: it does not untrack a tracked file
        assert "pragma: allowlist secret" in hint and ".secrets.baseline" in hint


def test_the_release_scans_what_it_built(tmp_path: Path) -> None:
    """scan_release_files: what the release calls on its archives before anything is
    visible; programs inside are skipped, text files are scanned."""
    import io
    import tarfile

    archive = tmp_path / "tool-1.0.0-x86_64-linux.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, data in (
            ("tool", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 64 + AWS.encode()),
            ("README.md", b"# tool\n"),
            ("config/.env", f"AWS_KEY={AWS}\n".encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    found = secrets.scan_release_files([archive], tmp_path, Config())
    assert {(f.file, f.line) for f in found} == {
        (f"{archive.name}!config/.env", 1),
    }
    assert all(f.kind == Kind.SECRET and "binaries" in f.message for f in found)
    assert AWS not in " ".join(f.message + (f.hint or "") for f in found)
