"""One run's view of a git repository: read once, shared by checks, the plan and the probes.

A ``Snapshot`` asks git lazily and remembers the answer: the top of the work tree; the work
tree itself (HEAD, branch, upstream, ahead/behind and every change, from one ``git status
--porcelain=v2 --branch``); every local tag with the commit it points at (one ``git
for-each-ref``); each remote's URL; and each remote's branches, tags and default branch (one
``git ls-remote --symref``). Commit messages and ancestry are remembered by commit id (they
never change).

What shipit itself changes goes through the snapshot's writers (``fetch``, ``create_tag``,
``push``, ``commit_files``, ...), which do it and then record or forget exactly what changed,
so a later reader does not ask git again. Whoever lets something else touch the repository
(a user's command, a prompt the user may answer after a commit in another terminal) calls
``forget()``. Thread-safe: checks and probes read it in parallel; each answer is computed once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from shipit import git
from shipit.errors import GitError, NoCommitsError
from shipit.proc import Result

T = TypeVar("T")
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class WorkTree:
    """What ``git status --porcelain=v2 --branch`` says, at once."""

    head: str | None  # None before the first commit
    branch: str | None  # None on a detached HEAD
    upstream: str | None  # None without one (or when its remote-tracking ref is gone)
    ahead: int | None
    behind: int | None
    changes: tuple[str, ...]  # paths relative to the top, untracked included, ignored not
    untracked: tuple[str, ...] = ()  # those of ``changes`` git does not track

    @property
    def tracked_changes(self) -> list[str]:
        """Changed files git tracks (untracked ones left out)."""
        return [c for c in self.changes if c not in set(self.untracked)]


@dataclass(frozen=True)
class LocalTag:
    name: str
    commit: str | None  # the commit it points at (peeled); None for a tree or blob
    annotated: bool


@dataclass(frozen=True)
class RemoteRefs:
    """One remote's branches and tags (tags peeled to their commits) and its HEAD's branch."""

    heads: Mapping[str, str]
    tags: Mapping[str, str]
    default_branch: str | None


def parse_status_v2(text: str) -> WorkTree:
    """Read ``git status --porcelain=v2 --branch -z`` output."""
    head = branch = upstream = None
    ahead = behind = None
    changes: list[str] = []
    untracked: list[str] = []
    entries = text.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if not entry:
            continue
        if entry.startswith("# "):
            key, _, value = entry[2:].partition(" ")
            if key == "branch.oid":
                head = None if value == "(initial)" else value
            elif key == "branch.head":
                branch = None if value == "(detached)" else value
            elif key == "branch.upstream":
                upstream = value
            elif key == "branch.ab":
                plus, _, minus = value.partition(" ")
                ahead, behind = int(plus.lstrip("+")), int(minus.lstrip("-"))
            continue
        kind = entry[0]
        if kind == "1":  # 1 XY sub mH mI mW hH hI path
            changes.append(entry.split(" ", 8)[8])
        elif kind == "2":  # 2 XY sub mH mI mW hH hI Xscore path, then the original path
            changes.append(entry.split(" ", 9)[9])
            i += 1
        elif kind == "u":  # u XY sub m1 m2 m3 mW h1 h2 h3 path
            changes.append(entry.split(" ", 10)[10])
        elif kind == "?":
            changes.append(entry[2:])
            untracked.append(entry[2:])
    if ahead is None:  # the upstream is configured but its remote-tracking ref is gone
        upstream = None
    return WorkTree(head, branch, upstream, ahead, behind, tuple(changes), tuple(untracked))


def parse_tags(text: str) -> dict[str, LocalTag]:
    """Read ``git for-each-ref refs/tags`` output in ``_TAG_FORMAT``."""
    tags: dict[str, LocalTag] = {}
    for line in text.splitlines():
        parts = line.split("\0")
        if len(parts) != 5:
            continue
        name, obj, kind, peeled, peeled_kind = parts
        if kind == "commit":
            tags[name] = LocalTag(name, obj, annotated=False)
        elif kind == "tag":
            tags[name] = LocalTag(name, peeled if peeled_kind == "commit" else None, True)
        else:
            tags[name] = LocalTag(name, None, annotated=False)
    return tags


_TAG_FORMAT = "%(refname:strip=2)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)"


def parse_ls_remote(text: str) -> RemoteRefs:
    """Read ``git ls-remote --symref`` output."""
    heads: dict[str, str] = {}
    tags: dict[str, str] = {}
    default: str | None = None
    for line in text.splitlines():
        left, _, ref = line.partition("\t")
        if left.startswith("ref: "):
            target = left[len("ref: ") :].strip()
            if ref == "HEAD" and target.startswith("refs/heads/"):
                default = target[len("refs/heads/") :]
            continue
        if ref.startswith("refs/heads/"):
            heads[ref[len("refs/heads/") :]] = left
        elif ref.startswith("refs/tags/"):
            name = ref[len("refs/tags/") :]
            if name.endswith("^{}"):
                tags[name[:-3]] = left  # the peeled commit wins over the tag object
            else:
                tags.setdefault(name, left)
    return RemoteRefs(heads, tags, default)


@dataclass
class _Memo:
    """Answers by key, each computed once even when asked from several threads."""

    values: dict[object, object] = field(default_factory=dict)
    locks: dict[object, threading.Lock] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: object, compute: Callable[[], T]) -> T:
        with self.guard:
            if key in self.values:
                return self.values[key]  # type: ignore[return-value]
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            with self.guard:
                if key in self.values:
                    return self.values[key]  # type: ignore[return-value]
            value = compute()
            with self.guard:
                self.values[key] = value
            return value

    def peek(self, key: object) -> object | None:
        with self.guard:
            return self.values.get(key)

    def put(self, key: object, value: object) -> None:
        with self.guard:
            self.values[key] = value

    def drop(self, keep: Callable[[object], bool] = lambda key: False) -> None:
        with self.guard:
            for key in [k for k in self.values if not keep(k)]:
                del self.values[key]


class Snapshot:
    """The repository containing ``path``, read once per run (see the module's docstring)."""

    def __init__(self, path: Path | str, env: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self.env = env
        self._memo = _Memo()

    def __repr__(self) -> str:
        return f"Snapshot({str(self.path)!r})"

    def _git(
        self, *args: str, timeout: float = git.LOCAL_TIMEOUT, input: str | None = None
    ) -> Result:
        return git._git(self.path, *args, timeout=timeout, input=input, env=self.env)

    # ------------------------------------------------------------ the work tree

    def top(self) -> Path:
        """The top directory of the work tree (NotARepoError when there is none)."""

        def read() -> Path | GitError:
            try:
                return git.repo_root(self.path)
            except GitError as exc:
                return exc

        found = self._memo.get("top", read)
        if isinstance(found, GitError):
            raise found
        return found

    def is_repo(self) -> bool:
        try:
            self.top()
        except GitError:
            return False
        return True

    def work_tree(self) -> WorkTree:
        def read() -> WorkTree:
            self.top()
            result = git._check(
                self._git("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"),
                "cannot read the work tree's status",
                hint="git status",
            )
            return parse_status_v2(result.stdout)

        return self._memo.get("work_tree", read)

    def head(self) -> str | None:
        """HEAD's commit; None without commits (or outside a repository)."""
        return self.work_tree().head if self.is_repo() else None

    def require_head(self) -> str:
        head = self.head()
        if head is None:
            raise NoCommitsError(
                "the repository has no commits yet",
                why="a release tags a commit, and HEAD does not point at one",
                hint='commit your files first: git add -A && git commit -m "initial commit"',
            )
        return head

    def branch(self) -> str | None:
        """The checked-out branch; None on a detached HEAD (or outside a repository)."""
        return self.work_tree().branch if self.is_repo() else None

    def upstream(self) -> str | None:
        if not self.is_repo():
            return None
        tree = self.work_tree()
        return tree.upstream if tree.head is not None and tree.branch is not None else None

    def changes(self) -> list[str]:
        return list(self.work_tree().changes)

    def changed_paths(self, paths: Iterable[Path | str]) -> list[Path]:
        """Which of ``paths`` (relative to ``path``) have uncommitted changes, as absolute
        paths (what ``git.changed_paths`` answers, from the one status)."""
        top = self.top()
        wanted = {(self.path / p).resolve() for p in paths}
        changed = {(top / c).resolve() for c in self.changes()}
        return sorted(wanted & changed)

    # ------------------------------------------------------------ commits

    def commit_message(self, rev: str = "HEAD") -> str | None:
        commit = self.head() if rev == "HEAD" else rev
        if commit is None:
            return None
        return self._memo.get(("message", commit), lambda: git.commit_message(self.path, commit))

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when ``ancestor`` is reachable from ``descendant`` (commit ids); False also
        when either is not in this repository."""
        key = ("ancestor", ancestor, descendant)
        return self._memo.get(key, lambda: git.is_ancestor(self.path, ancestor, descendant))

    # ------------------------------------------------------------ local tags

    def local_tags(self) -> dict[str, LocalTag]:
        def read() -> dict[str, LocalTag]:
            result = self._git("for-each-ref", f"--format={_TAG_FORMAT}", "refs/tags")
            return parse_tags(result.stdout) if result.ok else {}

        return dict(self._memo.get("tags", read))

    def list_tags(self) -> list[str]:
        return sorted(self.local_tags())

    def reachable_tags(self) -> list[str]:
        """Local tags reachable from HEAD (``git tag --merged HEAD``), sorted; read again
        after a tag or a reset made through the snapshot (a commit on HEAD reaches the same
        tags)."""
        if not self.is_repo():
            return []
        return self._memo.get(("merged",), lambda: sorted(git.list_tags(self.path, merged="HEAD")))

    def local_tag_commit(self, tag: str) -> str | None:
        found = self.local_tags().get(tag)
        if found is None:
            return None
        if found.commit is None and found.annotated:  # a tag of a tag: let git peel it
            return git.local_tag_commit(self.path, tag)
        return found.commit

    def tags_at_head(self) -> list[str]:
        head = self.head()
        if head is None:
            return []
        return sorted(t.name for t in self.local_tags().values() if t.commit == head)

    def last_release_tag(
        self,
        tag_format: str = "v{version}",
        *,
        key: Callable[[str], tuple[object, ...] | None] | None = None,
    ) -> str | None:
        """``git.last_release_tag`` over the tags already read."""
        pattern = git.tag_pattern(tag_format)
        version_key = key or git._default_version_key
        best: tuple[tuple[object, ...], str] | None = None
        for tag in self.list_tags():
            m = pattern.match(tag)
            k = version_key(m.group("version")) if m else None
            if k is not None and (best is None or k > best[0]):
                best = (k, tag)
        return best[1] if best else None

    # ------------------------------------------------------------ remotes

    def remote_url(self, remote: str = "origin") -> str | None:
        return self._memo.get(("url", remote), lambda: git.remote_url(self.path, remote))

    def require_remote(self, remote: str = "origin") -> str:
        url = self.remote_url(remote)
        if url is None:
            git.require_remote(self.path, remote)  # raises with the remotes it knows
        assert url is not None
        return url

    def remote_refs(
        self, remote: str = "origin", timeout: float = git.REMOTE_TIMEOUT
    ) -> RemoteRefs:
        """The remote's branches, tags and default branch: one ``git ls-remote``.

        RemoteUnreachableError/RemoteAuthError (not remembered: a later call asks again)."""

        def read() -> RemoteRefs:
            url = self.require_remote(remote)
            result = self._git(
                "ls-remote",
                "--symref",
                remote,
                "HEAD",
                "refs/heads/*",
                "refs/tags/*",
                timeout=timeout,
            )
            if not result.ok:
                raise git._unreachable(remote, url, result)
            return parse_ls_remote(result.stdout)

        return self._memo.get(("remote", remote), read)

    def remote_tag_commit(
        self, remote: str, tag: str, timeout: float = git.REMOTE_TIMEOUT
    ) -> str | None:
        return self.remote_refs(remote, timeout).tags.get(tag)

    def remote_branch_commit(
        self, remote: str, branch: str, timeout: float = git.REMOTE_TIMEOUT
    ) -> str | None:
        return self.remote_refs(remote, timeout).heads.get(branch)

    def remote_default_branch(
        self, remote: str = "origin", timeout: float = git.REMOTE_TIMEOUT
    ) -> str | None:
        return self.remote_refs(remote, timeout).default_branch

    # ------------------------------------------------------------ writing

    def forget(self, *, remote: bool = True) -> None:
        """Drop what was read (the local state; with ``remote`` the remotes' refs too); the
        top and the remotes' URLs stay."""

        def keep(key: object) -> bool:
            if key == "top" or (isinstance(key, tuple) and key[0] in ("url", "message")):
                return True
            return not remote and isinstance(key, tuple) and key[0] in ("remote", "fetched")

        self._memo.drop(keep)

    def files_changed(self) -> None:
        """Files were written: the work tree's status is read again when next asked."""
        self._changed_tree()

    def _changed_tree(self) -> None:
        self._memo.drop(lambda key: key != "work_tree")

    def fetch(self, remote: str = "origin", timeout: float = git.REMOTE_TIMEOUT) -> None:
        """``git.fetch``, once per run (until ``forget``). Only the remote-tracking branches
        move: the branch's ahead/behind are counted again, the rest of the work tree's
        status is kept. A failed fetch is not remembered."""

        def do() -> bool:
            git.fetch(self.path, remote, timeout, url=self.require_remote(remote))
            before = self._memo.peek("work_tree")
            counted = (
                self._git("rev-list", "--left-right", "--count", "HEAD...@{upstream}")
                if isinstance(before, WorkTree) and before.upstream is not None
                else None
            )
            parts = counted.stdout.split() if counted is not None and counted.ok else []
            if isinstance(before, WorkTree) and len(parts) == 2:
                ahead, behind = int(parts[0]), int(parts[1])
                self._memo.put("work_tree", replace(before, ahead=ahead, behind=behind))
            else:
                self._changed_tree()  # e.g. an upstream whose tracking ref the fetch made
            return True

        self._memo.get(("fetched", remote), do)

    def create_tag(self, tag: str, message: str, commit: str, *, sign: bool = False) -> str:
        """Create an annotated (or signed) tag on ``commit``; TagExistsError if it exists."""
        existing = self.local_tag_commit(tag)
        if existing is not None:
            raise git.tag_exists(tag, existing)
        git.write_tag(self.path, tag, message, commit, sign=sign)
        target = commit if _OID.fullmatch(commit) else git.local_tag_commit(self.path, tag)
        self._record_tag(LocalTag(tag, target, annotated=True))
        assert target is not None
        return target

    def _record_tag(self, tag: LocalTag) -> None:
        tags = self.local_tags()
        tags[tag.name] = tag
        self._memo.put("tags", tags)
        self._forget_merged()

    def _forget_merged(self) -> None:
        self._memo.drop(lambda key: not (isinstance(key, tuple) and key[0] == "merged"))

    def delete_local_tag(self, tag: str) -> bool:
        found = git.delete_local_tag(self.path, tag)
        tags = self.local_tags()
        tags.pop(tag, None)
        self._memo.put("tags", tags)
        self._forget_merged()
        return found

    def fetch_tag(self, remote: str, tag: str, timeout: float = git.REMOTE_TIMEOUT) -> None:
        git.fetch_tag(self.path, remote, tag, timeout, url=self.require_remote(remote))
        self._memo.drop(lambda key: key != "tags")
        self._forget_merged()

    def push(
        self, remote: str, refspecs: Sequence[str], timeout: float = git.REMOTE_TIMEOUT * 2
    ) -> None:
        """Push ``refspecs`` at once, atomically where the remote supports it (all or none),
        one by one where it does not; then record them as the remote's refs."""
        if not refspecs:
            return
        url = self.require_remote(remote)
        git.push_refs(self.path, remote, refspecs, timeout, atomic=True, url=url)
        self._record_pushed(remote, refspecs)

    def _record_pushed(self, remote: str, refspecs: Sequence[str]) -> None:
        key = ("remote", remote)
        known = self._memo.peek(key)
        self._changed_tree()  # git moved the remote-tracking branch: ahead/behind changed
        if not isinstance(known, RemoteRefs):
            return
        heads, tags = dict(known.heads), dict(known.tags)
        for spec in refspecs:
            source, _, dest = spec.partition(":")
            dest = dest or source
            if dest.startswith("refs/heads/") and source:
                heads[dest[len("refs/heads/") :]] = source
            elif dest.startswith("refs/tags/"):
                name = dest[len("refs/tags/") :]
                if not source:
                    tags.pop(name, None)
                else:
                    commit = self.local_tag_commit(name)
                    if commit is None:
                        self._memo.drop(lambda k: k != key)
                        return
                    tags[name] = commit
        self._memo.put(key, RemoteRefs(heads, tags, known.default_branch))

    def delete_remote_tag(
        self, remote: str, tag: str, timeout: float = git.REMOTE_TIMEOUT * 2
    ) -> bool:
        if self.remote_tag_commit(remote, tag, timeout) is None:
            return False
        self.push(remote, [f":refs/tags/{tag}"], timeout)
        return True

    def commit_files(self, paths: Iterable[Path | str], message: str) -> str:
        """``git.commit_files``; then HEAD is the new commit, one commit further ahead of the
        upstream, and the committed paths are no longer changes (nothing is read again, the
        tags reachable from HEAD neither)."""
        paths = list(paths)
        before = self.work_tree()
        commit = git.commit_files(self.path, paths, message, has_commits=before.head is not None)
        top = self.top()
        committed = {(self.path / p).resolve() for p in paths}
        self._memo.put(
            "work_tree",
            replace(
                before,
                head=commit,
                ahead=before.ahead + 1 if before.ahead is not None else None,
                changes=tuple(c for c in before.changes if (top / c).resolve() not in committed),
                untracked=tuple(
                    c for c in before.untracked if (top / c).resolve() not in committed
                ),
            ),
        )
        # the tags reachable from HEAD stay those of its parent: no tag names a new commit
        return commit

    def reset_keep(self, rev: str) -> None:
        git.reset_keep(self.path, rev)
        self._changed_tree()
        self._forget_merged()
