"""The release journal: a durable record of every transition, and the one-release-at-a-time lock.

``.shipit/releases/<tag>/journal.json`` (``engine.documents.JournalDocument``, written and read
through that model) holds the release's inputs, its state and each step's state, attempts,
timings, evidence and error. It is rewritten atomically (temp file, fsync,
rename, fsync of the directory) after every change, so a reader (``load``/``latest``, used by
the status dashboard without locks) always sees a whole document, even after SIGKILL.
``events.jsonl`` is the append-only history. Errors are redacted before they are written.
The journal is history and a resume hint; probes of the real world are the truth.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
from pydantic import ValidationError

from shipit.engine.documents import (
    JOURNAL_FORMAT,
    JournalDocument,
    ReleaseInputs,
    StepRecord,
    Transition,
)
from shipit.engine.states import ACTIVE, COMPLETED, FINISHED, ReleaseState, StepState, may_follow
from shipit.errors import JournalUnreadable, ReleaseLocked, ShipitError, WorkspaceUnusable
from shipit.redact import redact
from shipit.workspace import (
    FILE_MODE,
    open_private,
    private_dir,
    protect,
    releases_dir,
    shipit_dir,
)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS/file system lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never half."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class Journal:
    """The journal of one release. Thread-safe: the orchestrator updates it from workers."""

    def __init__(self, release_dir: Path, doc: JournalDocument, *, written: bool = True) -> None:
        self.release_dir = release_dir
        self._doc = doc
        self.written = written  # False for a new journal until ``begin`` writes it
        self._lock = threading.RLock()

    # ------------------------------------------------------------ files
    @property
    def path(self) -> Path:
        return self.release_dir / "journal.json"

    @property
    def events_path(self) -> Path:
        return self.release_dir / "events.jsonl"

    @classmethod
    def new(
        cls,
        release_dir: Path,
        *,
        version: str,
        tag: str,
        commit: str,
        config_digest: str,
        source_version: str | None = None,
        parts: Sequence[str] = (),
        skip_checks: bool = False,
    ) -> Journal:
        """A new journal in memory (state ``planned``, no steps): nothing is written until
        ``begin``, so a plan that is shown and not confirmed leaves no trace."""
        started = now_iso()
        doc = JournalDocument(
            inputs=ReleaseInputs(
                version=version,
                tag=tag,
                commit=commit,
                config_digest=config_digest,
                started_at=started,
                source_version=source_version,
                parts=list(parts),
                skip_checks=skip_checks,
            ),
            state=ReleaseState.PLANNED,
            updated_at=started,
            history=[Transition(state=ReleaseState.PLANNED, at=started)],
            steps={},
        )
        return cls(release_dir, doc, written=False)

    def begin(self, steps: Sequence[tuple[str, bool]]) -> None:
        """Write this new journal with the plan's steps ``[(id, reversible), ...]``; an earlier
        journal of the same tag (a finished release) is kept as ``journal.<time>.json``."""
        with self._lock:
            if self.written:
                raise ValueError(f"{self.path} was already written")
            if self.path.exists():
                stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
                self.path.rename(self.release_dir / f"journal.{stamp}.json")
            for step_id, reversible in steps:
                self._doc.steps[step_id] = StepRecord(reversible=reversible)
            self.save()
        self.event({"event": "planned", "steps": [s for s, _ in steps]})

    def save(self) -> None:
        with self._lock:
            self._doc.updated_at = now_iso()
            write_atomic(self.path, self._doc.model_dump_json(indent=2) + "\n")
            self.written = True

    def event(self, record: Mapping[str, Any]) -> None:
        """Append one line to events.jsonl and fsync it."""
        line = json.dumps({"at": now_iso(), **_redact_value(dict(record))}, default=str)
        with self._lock, open_private(self.events_path) as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    # ------------------------------------------------------------ reading
    def document(self) -> JournalDocument:
        """A copy of the whole document (``journal.json`` as written)."""
        with self._lock:
            return self._doc.model_copy(deep=True)

    @property
    def state(self) -> ReleaseState:
        return self._doc.state

    @property
    def inputs(self) -> ReleaseInputs:
        return self._doc.inputs

    @property
    def tag(self) -> str:
        return self._doc.inputs.tag

    @property
    def version(self) -> str:
        return self._doc.inputs.version

    @property
    def commit(self) -> str:
        """The commit the release started from."""
        return self._doc.inputs.commit

    def steps(self) -> dict[str, StepRecord]:
        """Every step's record (copies), in plan order."""
        with self._lock:
            return {k: v.model_copy(deep=True) for k, v in self._doc.steps.items()}

    def step(self, step_id: str) -> StepRecord:
        with self._lock:
            record = self._doc.steps.get(step_id)
            return record.model_copy(deep=True) if record is not None else StepRecord()

    def step_state(self, step_id: str) -> StepState:
        return self.step(step_id).state

    def evidence_of(self, step_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._doc.steps.get(step_id)
            return dict(record.evidence) if record is not None else {}

    def completed(self) -> list[str]:
        """Ids of steps done or already done (found by the probe), in plan order."""
        return [k for k, v in self.steps().items() if v.state in COMPLETED]

    # ------------------------------------------------------------ writing
    def set_state(self, state: ReleaseState | str, **fields: Any) -> None:
        """Move the release to ``state`` with ``fields`` (reason, failed_step, error, note);
        a move the state machine does not allow is a bug."""
        state = ReleaseState(state)
        with self._lock:
            if not may_follow(self.state, state):
                raise ValueError(f"a release cannot go from {self.state} to {state}")
            clean = _redact_value(fields)
            entry = Transition.model_validate({"state": state, "at": now_iso(), **clean})
            self._doc.state = state
            self._doc.history.append(entry)
            for key in fields:
                setattr(self._doc, key, getattr(entry, key))
            self.save()
        self.event({"event": "release", **entry.model_dump(mode="json", exclude_none=True)})

    def ensure_steps(self, steps: Sequence[tuple[str, bool]]) -> None:
        """Add steps a resumed plan has that the journal does not know (keeps the rest)."""
        with self._lock:
            changed = False
            for step_id, reversible in steps:
                if step_id not in self._doc.steps:
                    self._doc.steps[step_id] = StepRecord(reversible=reversible)
                    changed = True
            if changed:
                self.save()

    def update_step(self, step_id: str, **fields: Any) -> None:
        """Change a step's record (state, evidence, error, note, attempts), then save and log
        the event. A field or value the record does not have is a bug (ValueError)."""
        with self._lock:
            record = self._doc.steps.get(step_id) or StepRecord()
            clean = {k: _redact_value(v) for k, v in fields.items()}
            changed = record.model_dump()
            state = StepState(fields["state"]) if fields.get("state") is not None else None
            if state is not None:
                clean["state"] = str(state)
            if state == StepState.RUNNING:
                changed["attempts"] = record.attempts + 1
                changed["started_at"] = now_iso()
                changed["started_ts"] = time.time()
            if state in FINISHED:
                changed["finished_at"] = now_iso()
                if record.started_ts is not None:
                    changed["duration_s"] = round(time.time() - record.started_ts, 3)
            self._doc.steps[step_id] = StepRecord.model_validate({**changed, **clean})
            self.save()
        self.event({"event": "step", "step": step_id, **clean})

    def reset_running(self, note: str) -> list[str]:
        """Steps left ``running`` (process killed or interrupted) go back to pending."""
        with self._lock:
            found = [k for k, v in self._doc.steps.items() if v.state == StepState.RUNNING]
            for step_id in found:
                record = self._doc.steps[step_id]
                record.state = StepState.PENDING
                record.note = note
            if found:
                self.save()
        return found


def error_record(exc: BaseException) -> dict[str, Any]:
    """A redacted, JSON-ready description of a failure."""
    if isinstance(exc, ShipitError):
        return _redact_value({"code": exc.code, "what": exc.what, "why": exc.why, "hint": exc.hint})  # type: ignore[no-any-return]
    return {
        "code": "internal",
        "what": redact(f"{type(exc).__name__}: {exc}"),
        "why": None,
        "hint": None,
    }


# ---------------------------------------------------------------- reader API


REPAIR_HINT = "shipit status --repair"


def _unreadable(path: Path, what: str, why: str | None) -> JournalUnreadable:
    """A journal that cannot be used: where it is, what is wrong, and the way on."""
    return JournalUnreadable(
        f"{path} {what}",
        why=why,
        hint=f"move it aside with `{REPAIR_HINT}` (it keeps the file as "
        f"{BROKEN_PREFIX}<time>.json beside it), then run the command again: a new release's "
        "probes find what is already done",
    )


def load(release_dir: Path) -> Journal:
    """Read a release's journal (no lock needed: writes are atomic), validated through
    ``JournalDocument``: a file that is empty, truncated, not UTF-8, not JSON or of another
    shape is JournalUnreadable, naming the file, what is wrong with it and the way on."""
    path = release_dir / "journal.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JournalUnreadable(
            f"no release journal in {release_dir}",
            why="no release was started here, or its journal was deleted",
            hint="run `shipit release` (probes find what is already published)",
        ) from None
    except OSError as exc:
        raise JournalUnreadable(
            f"cannot read {path}",
            why=exc.strerror or str(exc),
            hint=f"check the file's permissions (ls -l {path}), or `{REPAIR_HINT}`",
        ) from None
    if not raw.strip():
        raise _unreadable(
            path,
            "is empty",
            "a shipit journal is a JSON document; this file "
            "holds nothing (a disk that filled up, or a copy that was cut short?)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(
            path, "is not a shipit journal", f"it is not UTF-8 text (byte {exc.start} is not)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        raise _unreadable(
            path,
            "is truncated" if cut else "is not valid JSON",
            f"JSON ends too early at line {exc.lineno}, column {exc.colno}"
            if cut
            else f"{exc.msg} at line {exc.lineno}, column {exc.colno}",
        ) from None
    found = data.get("format") if isinstance(data, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > JOURNAL_FORMAT:
        raise JournalUnreadable(
            f"{path} was written by a newer shipit (journal format {found})",
            why=f"this shipit reads journal formats 1 to {JOURNAL_FORMAT}",
            hint="upgrade shipit (pip install --upgrade shipit-release), then run the "
            "command again",
        )
    if not isinstance(data, dict):
        raise _unreadable(
            path, "is not a shipit journal", f"it holds a JSON {type(data).__name__}, not an object"
        )
    try:
        doc = JournalDocument.model_validate(data)
    except ValidationError as exc:
        raise _unreadable(path, "is not a shipit journal", _wrong_fields(exc)) from None
    return Journal(release_dir, doc)


def _wrong_fields(exc: ValidationError, limit: int = 5) -> str:
    """What is wrong with a document, one field a line (the first ``limit``)."""
    lines = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "the document"
        lines.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        lines.append(f"and {more} more")
    return "\n".join(lines)


def _release_dirs(root: Path) -> list[Path]:
    """Each ``.shipit/releases/<tag>`` directory that holds a ``journal.json``."""
    base = releases_dir(root)
    if not base.is_dir():
        return []
    return sorted(c for c in base.iterdir() if (c / "journal.json").exists())


def all_releases(root: Path) -> list[Journal]:
    """Every journal under ``.shipit/releases``, oldest first (by start time). One that
    cannot be read is JournalUnreadable (never skipped: the newest release could be the one
    whose journal broke, and `resume` or `status` would then speak of an older one)."""
    found = [load(child) for child in _release_dirs(root)]
    found.sort(key=lambda j: (j.inputs.started_at, j.path.stat().st_mtime))
    return found


def latest(root: Path) -> Journal | None:
    """The most recently started release's journal, or None."""
    journals = all_releases(root)
    return journals[-1] if journals else None


# ---------------------------------------------------------------- repair

BROKEN_PREFIX = "journal.broken-"


@dataclass(frozen=True)
class Repaired:
    """A state file shipit could not read: where, what was wrong, what was done about it."""

    path: Path
    what: str
    done: str


def _aside(path: Path, prefix: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{prefix}{stamp}.json")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{prefix}{stamp}-{n}.json")
    path.rename(target)
    return target


def repair(root: Path) -> list[Repaired]:
    """Move every journal shipit cannot read aside (renamed, never deleted; readable ones
    are left alone) and write the lock record again when it cannot be read. Holds the
    release lock while it does, so it never touches the state of a release that runs."""
    repaired: list[Repaired] = []
    lock = ReleaseLock(root, "status --repair")
    record = lock.record_problem()
    with lock:  # taking the lock writes its record again
        if record is not None:
            repaired.append(Repaired(lock.info_path, record, "written again"))
        for directory in _release_dirs(root):
            try:
                load(directory)
            except JournalUnreadable as exc:
                path = directory / "journal.json"
                moved = _aside(path, BROKEN_PREFIX)
                repaired.append(Repaired(path, exc.what, f"moved to {moved.name}"))
    return repaired


# ---------------------------------------------------------------- lock


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    command: str
    since: str


class ReleaseLock:
    """``.shipit/lock``: one release (resume, rollback) per project at a time.

    The OS lock (``filelock``) is released by the kernel when its holder dies, so a lock left
    by a killed process is taken over at once; ``.shipit/lock.json`` says who holds it.
    """

    def __init__(self, root: Path, command: str = "release") -> None:
        self.root = root
        self.command = command
        self.dir = shipit_dir(root)
        self.lock_path = self.dir / "lock"
        self.info_path = self.dir / "lock.json"
        self._lock: filelock.BaseFileLock | None = None

    def holder(self) -> LockInfo | None:
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
            return LockInfo(
                int(data["pid"]), str(data["host"]), str(data["command"]), str(data["since"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def record_problem(self) -> str | None:
        """What is wrong with the lock record (``lock.json``) when it exists and cannot be
        read as one; None when it is fine or absent."""
        if not self.info_path.exists() or self.holder() is not None:
            return None
        try:
            self.info_path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return "is not a shipit lock record (not UTF-8 text)"
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc})"
        return "is not a shipit lock record (not the JSON object with pid, host, command, since)"

    def acquire(self) -> None:
        protect(self.root)  # makes .shipit/, or says why it cannot
        lock = filelock.FileLock(str(self.lock_path), timeout=0, mode=FILE_MODE)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            info = self.holder()
            problem = self.record_problem()
            who = (
                f"PID {info.pid} on {info.host} (`shipit {info.command}`, since {info.since})"
                if info
                else "another process"
                + (f" (its record {self.info_path.name} {problem})" if problem else "")
            )
            raise ReleaseLocked(
                "another shipit release is running in this project",
                why=f"{self.lock_path} is held by {who}",
                hint="wait for it to finish (or stop it), then run the command again",
            ) from None
        except OSError as exc:  # a directory, or a file shipit may not open, in its place
            raise WorkspaceUnusable(
                f"shipit cannot take the release lock {self.lock_path}",
                why=f"{type(exc).__name__}: {exc.strerror or exc}",
                hint=f"move it aside (`mv {self.lock_path} {self.lock_path}.old`): no shipit "
                "holds its lock in a directory or an unreadable file; then run the command again",
            ) from None
        self._lock = lock
        payload = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "since": now_iso(),
        }
        write_atomic(self.info_path, json.dumps(payload) + "\n")

    def release(self) -> None:
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            info = self.holder()
            if info is not None and info.pid == os.getpid():
                self.info_path.unlink()
        self._lock.release()
        self._lock = None

    def __enter__(self) -> ReleaseLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_holder(root: Path) -> LockInfo | None:
    """Who holds the release lock, when that process still runs; None when nobody does (or
    the holder was killed). A holder on another host, or on Windows (where signal 0 would be
    Ctrl-C), cannot be checked from here: the lock file is trusted."""
    info = ReleaseLock(root).holder()
    if info is None or info.host != socket.gethostname() or os.name == "nt":
        return info
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return info
    return info


def effective_state(journal: Journal, root: Path) -> ReleaseState:
    """The journal's state, except that a release left ``releasing``/``rolling-back`` by a
    process that no longer runs (killed) reads as ``interrupted``."""
    if journal.state in ACTIVE and running_holder(root) is None:
        return ReleaseState.INTERRUPTED
    return journal.state


@contextlib.contextmanager
def locked(root: Path, command: str = "release") -> Iterator[ReleaseLock]:
    lock = ReleaseLock(root, command)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
