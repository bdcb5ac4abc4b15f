"""The docs stay true: the configuration reference matches the schema, every error code
shipit can raise has its troubleshooting section, and the guides exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from shipit import docs_gen
from shipit.errors import DOCS_TROUBLESHOOTING, ErrorCode, ShipitError

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "src" / "shipit"
DOCS = ROOT / "docs"
# shipit's own errors take their code from ErrorCode only; a bare code string would escape the
# catalogue (the test registries answer with the real services' own camelCase codes)
NOT_SHIPIT = {SRC / "sandbox" / "jsr_server.py", SRC / "sandbox" / "github_server.py"}
BARE_CODE = re.compile(r"""\bcode\s*=\s*["']([a-z][a-z0-9-]*)["']""")


def test_no_error_code_outside_the_catalogue() -> None:
    bare = {
        str(path.relative_to(SRC)): BARE_CODE.findall(path.read_text(encoding="utf-8"))
        for path in sorted(SRC.rglob("*.py"))
        if path not in NOT_SHIPIT
    }
    assert not {k: v for k, v in bare.items() if v}, "use an ErrorCode member"


def _sections() -> set[str]:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^###\s+(.+)$", text, re.M)}


def test_configuration_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shipit.docs_gen", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_check_mode_notices_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(docs_gen.render().replace("Tag name template.", "old words"))
    assert docs_gen.main(["--check", "--output", str(stale)]) == 1
    assert docs_gen.main(["--output", str(stale)]) == 0
    assert docs_gen.main(["--check", "--output", str(stale)]) == 0


def test_reference_documents_every_table_and_key() -> None:
    text = docs_gen.render()
    for heading in (
        "## `[release]`",
        "## `[npm]`",
        "## `[checks.test]`",
        "## `[binaries.signing]`",
        "## `[notify]`",
        "## `[[commands]]`",
        "## `[[project.version-files]]`",
    ):
        assert heading in text
    assert "| `min-coverage` | number (>= 0, <= 100) (optional) | unset |" in text
    assert '| `tag-format` | string | `"v{version}"` | Tag name template. |' in text
    assert '`["succeeded", "failed", "rolled-back"]`' in text  # a default_factory default
    assert "| `run` | string | **required** |" in text


def test_every_error_code_has_a_troubleshooting_section() -> None:
    missing = sorted(str(code) for code in ErrorCode if str(code) not in _sections())
    assert not missing, f"add a `### <code>` section to docs/troubleshooting.md for {missing}"
    unknown = sorted(_sections() - {str(code) for code in ErrorCode})
    assert not unknown, f"docs/troubleshooting.md documents codes shipit has no more: {unknown}"


def test_error_links_point_at_those_sections() -> None:
    error = ShipitError("x", code=ErrorCode.RELEASE_LOCKED)
    file, anchor = error.docs_link.split("#")
    assert file == DOCS_TROUBLESHOOTING == "docs/troubleshooting.md"
    assert anchor in _sections()


def test_sections_say_meaning_and_fix() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        name = block.splitlines()[0]
        assert "**Meaning:**" in block and "**Fix:**" in block, name


def test_guides_exist_and_cover_their_subject() -> None:
    process = (DOCS / "release-process.md").read_text(encoding="utf-8")
    for word in ("probe", "journal", "resume", "rollback", "draft", "SHA256SUMS", "notify"):
        assert word in process
    migration = (DOCS / "migration.md").read_text(encoding="utf-8")
    assert "[[commands]]" in migration and "probe" in migration and "undo" in migration
