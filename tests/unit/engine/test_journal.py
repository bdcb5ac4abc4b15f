"""The journal: atomic rewrites under SIGKILL, events, redaction, reader API, the lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from shipit.engine import journal as jmod
from shipit.engine.journal import Journal, ReleaseLock, latest, load
from shipit.errors import ReleaseLocked
from shipit.redact import register
from shipit.workspace import protect
from tests.journals import written_journal


def new(tmp_path: Path, tag: str = "v1.2.3") -> Journal:
    return written_journal(
        tmp_path / ".shipit" / "releases" / tag,
        version=tag[1:],
        tag=tag,
        commit="a" * 40,
        config_digest="d1",
        steps=[("git:tag", True), ("npm:publish", False)],
    )


def test_create_records_inputs_and_pending_steps(tmp_path: Path) -> None:
    j = new(tmp_path)
    data = json.loads(j.path.read_text())
    assert data["state"] == "planned"
    assert data["inputs"]["version"] == "1.2.3" and data["inputs"]["config_digest"] == "d1"
    assert data["inputs"]["started_at"]
    assert data["steps"]["npm:publish"]["state"] == "pending"
    assert data["steps"]["npm:publish"]["reversible"] is False


def test_a_new_journal_is_written_only_by_begin_which_keeps_the_earlier_one(
    tmp_path: Path,
) -> None:
    earlier = new(tmp_path)
    earlier.set_state("releasing")
    earlier.set_state("released")
    fresh = Journal.new(
        earlier.release_dir, version="1.2.3", tag="v1.2.3", commit="b" * 40, config_digest="d2"
    )
    assert not fresh.written and fresh.evidence_of("git:tag") == {}
    assert load(earlier.release_dir).state == "released"  # nothing written yet
    fresh.begin([("git:tag", True)])
    assert fresh.written
    stored = load(earlier.release_dir)
    assert stored.state == "planned" and stored.commit == "b" * 40
    assert list(stored.steps()) == ["git:tag"]
    kept = list(earlier.release_dir.glob("journal.*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["state"] == "released"
    with pytest.raises(ValueError, match="already written"):
        fresh.begin([("git:tag", True)])


def test_step_transitions_attempts_timings_and_events(tmp_path: Path) -> None:
    j = new(tmp_path)
    j.update_step("git:tag", state="running")
    j.update_step("git:tag", state="done", evidence={"commit": "abc"})
    step = load(j.release_dir).step("git:tag")
    assert step.state == "done" and step.attempts == 1
    assert step.evidence == {"commit": "abc"}
    assert step.duration_s is not None and step.finished_at
    lines = [json.loads(x) for x in j.events_path.read_text().splitlines()]
    assert [x.get("state") for x in lines if x["event"] == "step"] == ["running", "done"]


def test_unknown_states_are_refused(tmp_path: Path) -> None:
    j = new(tmp_path)
    with pytest.raises(ValueError):
        j.update_step("git:tag", state="kinda-done")
    with pytest.raises(ValueError):
        j.set_state("finished")


def test_the_release_state_machine_refuses_impossible_moves(tmp_path: Path) -> None:
    j = new(tmp_path)
    with pytest.raises(ValueError, match="from planned to released"):
        j.set_state("released")  # nothing ran
    j.set_state("releasing")
    j.set_state("released")
    j.set_state("rolling-back")
    j.set_state("rolled-back")
    with pytest.raises(ValueError, match="from rolled-back to releasing"):
        j.set_state("releasing")  # a rolled-back version is never released again
    assert j.state == "rolled-back"


def test_journals_from_before_the_rename_read_skipped_as_already_done(tmp_path: Path) -> None:
    j = new(tmp_path)
    j.update_step("git:tag", state="done")
    data = json.loads(j.path.read_text())
    data["steps"]["git:tag"]["state"] = "skipped"
    j.path.write_text(json.dumps(data))
    assert load(j.release_dir).step_state("git:tag") == "already-done"


def test_errors_are_redacted_in_journal_and_events(tmp_path: Path) -> None:
    secret = "npm_SECRETtoken12345"
    register(secret)
    j = new(tmp_path)
    j.update_step("npm:publish", state="failed", error={"what": f"401 with token {secret}"})
    j.set_state("releasing")
    j.set_state("failed", error={"why": f"bad {secret}"})
    for path in (j.path, j.events_path):
        text = path.read_text()
        assert secret not in text
        assert "***" in text


def test_reset_running_after_a_crash(tmp_path: Path) -> None:
    j = new(tmp_path)
    j.update_step("git:tag", state="running")
    again = load(j.release_dir)
    assert again.reset_running("killed") == ["git:tag"]
    assert load(j.release_dir).step("git:tag").state == "pending"


def test_latest_finds_the_newest_release(tmp_path: Path) -> None:
    new(tmp_path, "v1.0.0")
    time.sleep(1.1)  # started_at has second resolution
    new(tmp_path, "v1.1.0")
    found = latest(tmp_path)
    assert found is not None and found.tag == "v1.1.0"
    assert latest(tmp_path / "nowhere") is None


def test_load_explains_a_missing_or_broken_journal(tmp_path: Path) -> None:
    with pytest.raises(jmod.JournalUnreadable) as missing:
        load(tmp_path / "none")
    assert "shipit release" in (missing.value.hint or "")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "journal.json").write_text("{not json")
    with pytest.raises(jmod.JournalUnreadable):
        load(tmp_path / "bad")


def test_readers_never_see_a_partial_journal(tmp_path: Path) -> None:
    j = new(tmp_path)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[Exception] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(len(load(j.release_dir).evidence_of("git:tag")))
            except Exception as exc:  # a torn read would show up here
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(150):
        j.update_step("git:tag", evidence={f"k{n}": "x" * 200 for n in range(i % 20)})
    stop.set()
    thread.join()
    assert errors == []
    assert len(seen) > 10


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from shipit.engine.journal import Journal, load
    j = load(Path(sys.argv[1]))
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        j.update_step("git:tag", evidence={"n": i, "pad": "y" * (i % 5000)})
    """
)


@pytest.mark.parametrize("delay", [0.05, 0.13, 0.29])
def test_sigkill_during_writes_leaves_a_whole_journal(tmp_path: Path, delay: float) -> None:
    j = new(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(j.release_dir)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    evidence = load(j.release_dir).evidence_of("git:tag")  # the old or the new, never half
    assert evidence["n"] >= 1
    for line in j.events_path.read_text().splitlines()[:-1]:
        json.loads(line)  # every complete event line is valid JSON
    leftovers = [p for p in j.release_dir.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1  # at most the one being written when killed


def test_shipit_dir_is_kept_out_of_git_and_packages(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    lock = ReleaseLock(tmp_path, "release")
    lock.acquire()  # the lock is the first writer of .shipit/ in a release
    lock.release()
    protect(tmp_path)  # and again: idempotent
    lines = (tmp_path / ".git" / "info" / "exclude").read_text().splitlines()
    assert lines.count(".shipit/") == 1
    assert (tmp_path / ".shipit" / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--ignored=no"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from shipit.engine.journal import ReleaseLock
    lock = ReleaseLock(Path(sys.argv[1]), "release")
    lock.acquire()
    print("locked", flush=True)
    time.sleep(60)
    """
)


def test_second_release_is_refused_naming_the_pid_and_a_dead_holder_is_taken_over(
    tmp_path: Path,
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ReleaseLocked) as refused:
            ReleaseLock(tmp_path).acquire()
        assert f"PID {holder.pid}" in str(refused.value)
        assert str(refused.value).count(str(holder.pid)) == 1  # named once, not twice
        assert "another shipit release is running" in refused.value.what
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: the lock is free again and records the new holder
    with ReleaseLock(tmp_path, "resume") as lock:
        info = lock.holder()
        assert info is not None and info.pid == os.getpid() and info.command == "resume"
    assert not (tmp_path / ".shipit" / "lock.json").exists()


def test_a_release_left_running_by_a_dead_process_reads_as_interrupted(tmp_path: Path) -> None:
    j = new(tmp_path)
    j.set_state("releasing")
    assert jmod.effective_state(j, tmp_path) == "interrupted"  # nobody holds the lock
    with ReleaseLock(tmp_path):
        assert (holder := jmod.running_holder(tmp_path)) is not None and holder.pid == os.getpid()
        assert jmod.effective_state(j, tmp_path) == "releasing"
    j.set_state("failed")
    assert jmod.effective_state(j, tmp_path) == "failed"


BROKEN = {
    "empty": (b"", "is empty"),
    "truncated": (b'{\n  "format": 2,\n  "inputs": {"version": "1.2', "is truncated"),
    "garbage": (os.urandom(48) + b"\xff\xfe\x00", "is not a shipit journal"),
    "foreign": (b'{"hello": "world", "steps": [1, 2, 3]}', "is not a shipit journal"),
    "a list": (b"[1, 2, 3]", "is not a shipit journal"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_journal_is_named_with_what_is_wrong_and_the_repair_command(
    tmp_path: Path, kind: str
) -> None:
    content, what = BROKEN[kind]
    new(tmp_path, "v1.0.0")  # a readable, older release beside it
    directory = tmp_path / ".shipit" / "releases" / "v1.1.0"
    directory.mkdir(parents=True)
    (directory / "journal.json").write_bytes(content)
    for read in (lambda: load(directory), lambda: latest(tmp_path)):
        with pytest.raises(jmod.JournalUnreadable) as broken:
            read()
        err = broken.value
        assert err.what == f"{directory / 'journal.json'} {what}"
        assert err.why  # what exactly is wrong
        assert "shipit status --repair" in (err.hint or "")
        assert err.exit_code == 1
    # the repair moves it aside (kept, renamed), leaves the readable one, and latest reads again
    repaired = jmod.repair(tmp_path)
    assert [(r.path, r.what) for r in repaired] == [(directory / "journal.json", err.what)]
    kept = list(directory.glob("journal.broken-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    assert not (directory / "journal.json").exists()
    found = latest(tmp_path)
    assert found is not None and found.tag == "v1.0.0"
    assert jmod.repair(tmp_path) == []  # nothing more to do


def test_an_unreadable_lock_record_is_said_and_written_again_by_the_repair(
    tmp_path: Path,
) -> None:
    lock = ReleaseLock(tmp_path)
    (tmp_path / ".shipit").mkdir()
    lock.info_path.write_bytes(b"\x00\xffgarbage{")
    assert lock.holder() is None
    assert lock.record_problem() == "is not a shipit lock record (not UTF-8 text)"
    repaired = jmod.repair(tmp_path)
    assert [(r.path, r.done) for r in repaired] == [(lock.info_path, "written again")]
    assert lock.record_problem() is None and not lock.info_path.exists()  # released cleanly
