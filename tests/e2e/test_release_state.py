"""Broken release state through the real CLI: a journal that is empty, truncated, garbage
bytes or of a foreign shape, and a garbage lock record. Every command that reads the journal
names the file, says what is wrong with it and the way on (exit 1, no traceback, `--json` an
object on stdout); `shipit status --repair` moves the journal aside, keeping its bytes, and
the commands work again. Nothing else in the project changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shipit.sandbox.git_remote import GitRepo

BROKEN = {
    "empty": (b"", "is empty"),
    "truncated": (
        json.dumps({"format": 2, "inputs": {"version": "1.0.0"}, "state": "failed"}).encode()[:30],
        "is truncated",
    ),
    "garbage": (bytes(range(256)) + b"\xff\xfe", "is not a shipit journal"),
    "foreign": (b'{"hello": "world", "steps": [1, 2, 3]}\n', "is not a shipit journal"),
}


def _shipit(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env.update(NO_COLOR="1", COLUMNS="300")
    return subprocess.run(
        [sys.executable, "-m", "shipit", "-C", str(repo.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _tree(repo: GitRepo) -> str:
    """The work tree's changes besides .shipit/ (which shipit keeps out of git) and HEAD."""
    status = repo.git("status", "--porcelain", "--untracked-files=all", "--", ".", ":!.shipit")
    return status + repo.head()


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_journal_is_named_and_repaired(git_repo: GitRepo, kind: str) -> None:
    content, what = BROKEN[kind]
    git_repo.commit(
        "the project",
        {
            "package.json": json.dumps({"name": "acme-lib", "version": "1.0.0"}) + "\n",
            "shipit.toml": "[github]\nenabled = false\n",
        },
    )
    journal = git_repo.path / ".shipit" / "releases" / "v1.0.0" / "journal.json"
    journal.parent.mkdir(parents=True)
    journal.write_bytes(content)
    before = _tree(git_repo)

    for args in (("status", "--offline"), ("resume", "--yes"), ("rollback", "--yes")):
        result = _shipit(git_repo, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        text = " ".join(result.stderr.split()).replace("│", "")
        text = " ".join(text.split())
        assert f"{journal} {what}" in text, (args, result.stderr)
        assert "why:" in text and "next: move it aside with `shipit status --repair`" in text

    as_json = _shipit(git_repo, "--json", "status", "--offline")
    assert as_json.returncode == 1
    body = json.loads(as_json.stdout)
    assert body["ok"] is False and body["error"]["code"] == "journal-unreadable"
    assert body["error"]["what"] == f"{journal} {what}"

    release = _shipit(git_repo, "release", "--yes", "--skip-checks")
    assert release.returncode == 1 and "journal-unreadable" in release.stderr, release.stderr
    assert journal.read_bytes() == content  # never silently started over
    assert _tree(git_repo) == before

    repaired = _shipit(git_repo, "status", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    kept = list(journal.parent.glob("journal.broken-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    assert f"{journal} {what}: moved to {kept[0].name}" in repaired.stderr
    status = _shipit(git_repo, "--json", "status", "--offline")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["ok"] is True
    assert _tree(git_repo) == before  # .shipit/ is ignored: nothing else changed


def test_a_garbage_lock_record_is_written_again(git_repo: GitRepo) -> None:
    git_repo.commit(
        "the project",
        {"package.json": json.dumps({"name": "acme-lib", "version": "1.0.0"}) + "\n"},
    )
    record = git_repo.path / ".shipit" / "lock.json"
    record.parent.mkdir()
    record.write_bytes(b"\x00\xffgarbage{")
    plan = _shipit(git_repo, "status", "--offline")
    assert plan.returncode == 0, plan.stderr  # the record only says who holds the lock
    repaired = _shipit(git_repo, "--json", "status", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    [entry] = json.loads(repaired.stdout)["repaired"]
    assert entry == {
        "path": str(record),
        "what": "is not a shipit lock record (not UTF-8 text)",
        "done": "written again",
    }
    assert not record.exists()  # released again: no holder
