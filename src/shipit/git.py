"""git through its command line: repository state, tags, pushes and release commits.

Every call goes through ``shipit.proc.run`` (redacted, with timeouts). Read-only questions
answer ``None`` where "nothing there" is a normal answer (no commits, detached HEAD, no
upstream, no such tag); conditions a release cannot go on from raise a ``GitError`` subclass
that says what is wrong, why, and the command that fixes it. ``state()`` gathers everything
``shipit check`` and ``shipit status`` show into one ``GitState`` snapshot and never raises for
those conditions: it records them and lists them in ``GitState.problems()``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shipit.errors import (
    DetachedHeadError,
    GitError,
    NoCommitsError,
    NoRemoteError,
    NotARepoError,
    NoUpstreamError,
    PushRejectedError,
    RemoteAuthError,
    RemoteUnreachableError,
    TagExistsError,
)
from shipit.proc import Result, run

if TYPE_CHECKING:
    from shipit.git_snapshot import Snapshot

LOCAL_TIMEOUT = 60.0
REMOTE_TIMEOUT = 30.0
CLONE_TIMEOUT = 300.0
_IDENTITY_HINT = (
    "set your identity: git config user.name 'You' && git config user.email you@example.com"
)


# ---------------------------------------------------------------- running git


def _env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git: never prompt, stable (English) messages.

    ``base`` is the caller's environment (``os.environ`` when None); it decides which git is
    found on PATH and which global configuration (HOME) applies.
    """
    env = dict(os.environ if base is None else base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def _git(
    root: Path | str,
    *args: str,
    timeout: float = LOCAL_TIMEOUT,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    log_output: bool = True,
) -> Result:
    return run(
        ["git", *args],
        cwd=root,
        env=_env(env),
        timeout=timeout,
        input=input,
        log_output=log_output,
    )


def _first_line(result: Result) -> str:
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if lines else ""


def _check(result: Result, what: str, hint: str | None = None) -> Result:
    if not result.ok:
        raise GitError(what, why=result.failure(8), hint=hint)
    return result


def _not_a_repo(path: Path, result: Result | None = None) -> GitError:
    text = result.stderr if result is not None else ""
    if "dubious ownership" in text:
        return NotARepoError(
            f"git refuses to work in {path}",
            why="the directory is owned by another user (git's safe.directory protection)",
            hint=f"git config --global --add safe.directory {path}",
        )
    return NotARepoError(
        f"{path} is not inside a git repository",
        why="shipit tags and pushes releases with git, so the project must be a git repository",
        hint=f"run `git init` in {path} (and commit), or point shipit at the project with -C DIR",
    )


# ---------------------------------------------------------------- repository


def is_repo(path: Path | str) -> bool:
    """True when ``path`` is inside a git work tree."""
    p = Path(path)
    if not p.is_dir():
        return False
    result = _git(p, "rev-parse", "--is-inside-work-tree")
    return result.ok and _first_line(result) == "true"


def repo_root(path: Path | str) -> Path:
    """The top directory of the work tree containing ``path`` (NotARepoError if none)."""
    p = Path(path)
    if not p.is_dir():
        raise _not_a_repo(p)
    result = _git(p, "rev-parse", "--show-toplevel")
    if not result.ok or not _first_line(result):
        raise _not_a_repo(p.resolve(), result)
    return Path(_first_line(result)).resolve()


def rev_parse(root: Path, rev: str) -> str | None:
    """The full object id ``rev`` names, or None when it names nothing."""
    result = _git(root, "rev-parse", "-q", "--verify", "--end-of-options", rev)
    return _first_line(result) if result.ok and _first_line(result) else None


def head_commit(root: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    return rev_parse(root, "HEAD^{commit}")


def require_head(root: Path) -> str:
    """HEAD's commit; NotARepoError outside a repository, NoCommitsError before the first
    commit."""
    head = head_commit(root)
    if head is None:
        repo_root(root)  # outside a repository that is the problem to report
        raise NoCommitsError(
            "the repository has no commits yet",
            why="a release tags a commit, and HEAD does not point at one",
            hint='commit your files first: git add -A && git commit -m "initial commit"',
        )
    return head


def commit_message(root: Path, rev: str = "HEAD") -> str | None:
    """The full message of commit ``rev`` (trailing whitespace stripped), or None when
    ``rev`` names no commit."""
    result = _git(root, "log", "-1", "--format=%B", "--end-of-options", rev, "--")
    return result.stdout.strip() if result.ok else None


def commit_time(root: Path, rev: str = "HEAD") -> int | None:
    """The committer time of ``rev`` in seconds since the epoch (what SOURCE_DATE_EPOCH
    wants), or None when ``rev`` names no commit."""
    result = _git(root, "show", "-s", "--format=%ct", "--end-of-options", rev, "--")
    line = _first_line(result)
    return int(line) if result.ok and line.isdigit() else None


def current_branch(root: Path) -> str | None:
    """The checked-out branch (also before the first commit), or None on a detached HEAD."""
    result = _git(root, "symbolic-ref", "-q", "--short", "HEAD")
    return _first_line(result) if result.ok and _first_line(result) else None


def require_branch(root: Path) -> str:
    """The checked-out branch; NotARepoError outside a repository, else DetachedHeadError."""
    branch = current_branch(root)
    if branch is None:
        repo_root(root)
        head = head_commit(root)
        at = f" at {head[:12]}" if head else ""
        raise DetachedHeadError(
            "HEAD is detached (no branch is checked out)",
            why=f"HEAD points directly at a commit{at}; a release needs a branch to push",
            hint="switch to the release branch: git switch main",
        )
    return branch


def status_changes(
    root: Path, pathspec: Sequence[str] = (), *, untracked: bool = True
) -> list[str]:
    """Paths with uncommitted changes, untracked files included (unless ``untracked`` is
    False), ignored files not.

    The paths are relative to the top of the work tree (git's porcelain form), whatever
    directory ``root`` is; ``pathspec`` (relative to ``root``) limits the answer.
    """
    args = ["status", "--porcelain=v1", "-z", f"--untracked-files={'all' if untracked else 'no'}"]
    if pathspec:
        args += ["--", *pathspec]
    result = _check(_git(root, *args), "cannot read the work tree's status", hint="git status")
    changes: list[str] = []
    entries = result.stdout.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        changes.append(path)
        if code[0] in "RC":  # rename/copy: the next entry is the source path
            i += 1
    return changes


def changed_lines(root: Path, path: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) in ``path``'s uncommitted change against HEAD."""
    result = _check(
        _git(root, "diff", "--no-color", "--no-ext-diff", "-U0", "HEAD", "--", path),
        f"cannot read the change of {path}",
        hint=f"git diff HEAD -- {path}",
    )
    removed: list[str] = []
    added: list[str] = []
    for line in result.stdout.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
    return removed, added


def changed_paths(directory: Path, pathspec: Sequence[str] = (".",)) -> list[Path]:
    """Absolute paths of uncommitted changes (untracked included) that ``pathspec`` matches.

    ``pathspec`` is relative to ``directory`` (by default: everything under it). Raises
    NotARepoError when ``directory`` is not in a git work tree.
    """
    top = repo_root(directory)
    return [(top / path).resolve() for path in status_changes(directory, pathspec)]


def list_files(directory: Path, env: Mapping[str, str] | None = None) -> list[str] | None:
    """Files under ``directory`` that git does not ignore (tracked and untracked), relative to
    it and sorted; None when ``directory`` is not in a git work tree."""
    if not directory.is_dir():
        return None
    result = _git(
        directory,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        ".",
        env=env,
        log_output=False,
    )
    if not result.ok:
        return None
    files = sorted({f for f in result.stdout.split("\0") if f})
    return [f for f in files if (directory / f).is_file()]


def is_clean(root: Path) -> tuple[bool, list[str]]:
    """(clean, changed paths): untracked files count as changes, ignored ones do not."""
    changes = status_changes(root)
    return (not changes, changes)


def tags_at_head(root: Path) -> list[str]:
    """Tags pointing at HEAD (sorted)."""
    if head_commit(root) is None:
        return []
    result = _git(root, "tag", "--points-at", "HEAD")
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())


def list_tags(root: Path, *, merged: str | None = None) -> list[str]:
    """Every local tag; with ``merged``, only tags reachable from that revision."""
    args = ["tag", "--list"]
    if merged is not None:
        args += ["--merged", merged]
    result = _git(root, *args)
    if not result.ok:
        return []
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------- remotes


def remotes(root: Path) -> list[str]:
    result = _git(root, "remote")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def remote_url(root: Path, remote: str = "origin") -> str | None:
    """The fetch URL of ``remote``, or None when there is no such remote."""
    result = _git(root, "remote", "get-url", remote)
    return _first_line(result) if result.ok and _first_line(result) else None


def require_remote(root: Path, remote: str = "origin") -> str:
    """The URL of ``remote``, or NoRemoteError."""
    url = remote_url(root, remote)
    if url is None:
        known = remotes(root)
        why = (
            f"the repository has remotes {', '.join(known)} but none named `{remote}`"
            if known
            else "the repository has no remote at all"
        )
        raise NoRemoteError(
            f"no git remote `{remote}`",
            why=why + "; the release tag must be pushed somewhere",
            hint=f"git remote add {remote} <url>  (or set release.remote in shipit.toml)",
        )
    return url


_AUTH_FAILURE = re.compile(
    r"Authentication failed|Permission denied|could not read Username|"
    r"terminal prompts disabled|HTTP Basic: Access denied|returned error: 40[13]",
    re.I,
)


def _unreachable(remote: str, url: str | None, result: Result) -> GitError:
    """The error for a failed talk with a remote: refused credentials, or unreachable."""
    shown = f"`{remote}`" + (f" ({url})" if url else "")
    if not result.timed_out and _AUTH_FAILURE.search(result.output):
        return RemoteAuthError(
            f"git remote {shown} refused the credentials",
            why=result.failure(8),
            hint="check that you may push there (git push --dry-run "
            f"{remote} HEAD) and your credential helper or SSH key",
        )
    return RemoteUnreachableError(
        f"cannot reach git remote {shown}",
        why=result.failure(8),
        hint=f"check the network and the remote's URL (git remote -v), then: git fetch {remote}",
    )


def upstream(root: Path) -> str | None:
    """The upstream of the current branch (e.g. ``origin/main``), or None."""
    result = _git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    return _first_line(result) if result.ok and _first_line(result) else None


def fetch(
    root: Path, remote: str = "origin", timeout: float = REMOTE_TIMEOUT, *, url: str | None = None
) -> None:
    """``git fetch remote`` of its branches; NoRemoteError or RemoteUnreachableError.

    Tags are not fetched: a local release tag must never be replaced by the remote's (the
    remote's tags are read with ``git ls-remote`` instead). ``url``: the remote's, if known.
    """
    url = url or require_remote(root, remote)
    result = _git(root, "fetch", "--quiet", "--no-tags", remote, timeout=timeout)
    if not result.ok:
        raise _unreachable(remote, url, result)


def ahead_behind(root: Path) -> tuple[int, int]:
    """(commits ahead of upstream, commits behind it), as of the last fetch."""
    if upstream(root) is None:
        branch = current_branch(root)
        raise NoUpstreamError(
            f"branch `{branch}` has no upstream" if branch else "HEAD has no upstream",
            why="shipit compares the branch with its remote counterpart before releasing",
            hint=f"git push --set-upstream origin {branch or 'main'}",
        )
    result = _check(
        _git(root, "rev-list", "--left-right", "--count", "HEAD...@{upstream}"),
        "cannot compare the branch with its upstream",
    )
    parts = _first_line(result).split()
    return int(parts[0]), int(parts[1])


def remote_default_branch(
    root: Path, remote: str = "origin", timeout: float = REMOTE_TIMEOUT
) -> str | None:
    """The remote's default branch (``main``), or None when it cannot be told."""
    result = _git(root, "symbolic-ref", "-q", "--short", f"refs/remotes/{remote}/HEAD")
    if result.ok and _first_line(result).startswith(f"{remote}/"):
        return _first_line(result)[len(remote) + 1 :]
    url = require_remote(root, remote)
    result = _git(root, "ls-remote", "--symref", remote, "HEAD", timeout=timeout)
    if not result.ok:
        raise _unreachable(remote, url, result)
    for line in result.stdout.splitlines():
        m = re.match(r"ref:\s+refs/heads/(\S+)\s+HEAD", line)
        if m:
            return m.group(1)
    return None


def _ls_remote(root: Path, remote: str, refs: Sequence[str], timeout: float) -> dict[str, str]:
    url = require_remote(root, remote)
    result = _git(root, "ls-remote", remote, *refs, timeout=timeout)
    if not result.ok:
        raise _unreachable(remote, url, result)
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            found[parts[1].strip()] = parts[0].strip()
    return found


def remote_tag_commit(
    root: Path, remote: str, tag: str, timeout: float = REMOTE_TIMEOUT
) -> str | None:
    """The commit ``tag`` points at on the remote (peeled), or None when it is absent there."""
    ref = f"refs/tags/{tag}"
    found = _ls_remote(root, remote, [ref, ref + "^{}"], timeout)
    return found.get(ref + "^{}") or found.get(ref)


def remote_tags(
    root: Path, remote: str = "origin", timeout: float = REMOTE_TIMEOUT
) -> dict[str, str]:
    """Every tag on the remote mapped to the commit it points at (peeled)."""
    found: dict[str, str] = {}
    url = require_remote(root, remote)
    result = _git(root, "ls-remote", "--tags", remote, timeout=timeout)
    if not result.ok:
        raise _unreachable(remote, url, result)
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].startswith("refs/tags/"):
            continue
        name = parts[1][len("refs/tags/") :]
        if name.endswith("^{}"):
            found[name[:-3]] = parts[0]
        else:
            found.setdefault(name, parts[0])
    return found


def remote_branch_commit(
    root: Path, remote: str, branch: str, timeout: float = REMOTE_TIMEOUT
) -> str | None:
    """The commit ``branch`` points at on the remote, or None when it is absent there."""
    ref = f"refs/heads/{branch}"
    return _ls_remote(root, remote, [ref], timeout).get(ref)


# ---------------------------------------------------------------- tags


def local_tag_commit(root: Path, tag: str) -> str | None:
    """The commit the local ``tag`` points at (peeled), or None when it does not exist."""
    return rev_parse(root, f"refs/tags/{tag}^{{commit}}")


def tag_is_annotated(root: Path, tag: str) -> bool:
    result = _git(root, "cat-file", "-t", f"refs/tags/{tag}")
    return result.ok and _first_line(result) == "tag"


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    """True when ``ancestor`` is reachable from ``descendant``."""
    return _git(root, "merge-base", "--is-ancestor", ancestor, descendant).ok


def tag_pattern(tag_format: str) -> re.Pattern[str]:
    """A regex matching tag names made from ``tag_format``; group ``version``."""
    if "{version}" not in tag_format:
        raise GitError(
            f"tag format {tag_format!r} has no {{version}} placeholder",
            hint='set release.tag-format to something like "v{version}"',
        )
    before, _, after = tag_format.partition("{version}")
    return re.compile(rf"^{re.escape(before)}(?P<version>[0-9][0-9A-Za-z.+\-]*){re.escape(after)}$")


def _default_version_key(version: str) -> tuple[object, ...] | None:
    """SemVer precedence; on a tie an exact SemVer tag beats a PEP 440 spelling (v1.0)."""
    from shipit.project.versions import is_semver, sort_key

    key = sort_key(version)
    return None if key is None else (key, is_semver(version))


def last_release_tag(
    root: Path,
    tag_format: str = "v{version}",
    *,
    merged: str | None = None,
    key: Callable[[str], tuple[object, ...] | None] | None = None,
) -> str | None:
    """The tag of the highest version matching ``tag_format`` (None when there is none).

    With ``merged`` (e.g. ``"HEAD"``) only tags reachable from that revision count.
    Tags whose version part is not a valid version are ignored.
    """
    pattern = tag_pattern(tag_format)
    version_key = key or _default_version_key
    best: tuple[tuple[object, ...], str] | None = None
    for tag in list_tags(root, merged=merged):
        m = pattern.match(tag)
        if not m:
            continue
        k = version_key(m.group("version"))
        if k is None:
            continue
        if best is None or k > best[0]:
            best = (k, tag)
    return best[1] if best else None


def create_annotated_tag(
    root: Path, tag: str, message: str, commit: str = "HEAD", *, sign: bool = False
) -> str:
    """Create an annotated (or signed) tag on ``commit``; return the commit it points at."""
    existing = local_tag_commit(root, tag)
    if existing is not None:
        raise tag_exists(tag, existing)
    write_tag(root, tag, message, commit, sign=sign)
    target = local_tag_commit(root, tag)
    assert target is not None
    return target


def tag_exists(tag: str, existing: str) -> TagExistsError:
    return TagExistsError(
        f"tag {tag} already exists locally",
        why=f"it points at {existing[:12]}",
        hint=f"inspect it with `git show {tag}`; delete it with `git tag -d {tag}` if stale",
    )


def write_tag(root: Path, tag: str, message: str, commit: str, *, sign: bool = False) -> None:
    """``git tag -a`` (``-s`` to sign) ``tag`` on ``commit``; GitError when git refuses."""
    result = _git(root, "tag", "-s" if sign else "-a", "-F", "-", tag, commit, input=message)
    hint = (
        "check your signing key (git config user.signingkey) and gpg-agent"
        if sign
        else _IDENTITY_HINT
    )
    _check(result, f"cannot create tag {tag}", hint=hint)


def delete_local_tag(root: Path, tag: str) -> bool:
    """Delete a local tag; False when it did not exist."""
    if rev_parse(root, f"refs/tags/{tag}") is None:
        return False
    _check(_git(root, "tag", "-d", tag), f"cannot delete local tag {tag}")
    return True


def verify_tag_signature(root: Path, tag: str) -> tuple[bool, str]:
    """(valid, git's output) for ``git tag -v tag``."""
    result = _git(root, "tag", "-v", tag)
    return result.ok, result.output.strip()


def tag_message(root: Path, tag: str) -> str | None:
    result = _git(root, "tag", "-l", "--format=%(contents)", tag)
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


# ---------------------------------------------------------------- writing


def push_ref(
    root: Path,
    remote: str,
    refspec: str,
    timeout: float = REMOTE_TIMEOUT * 2,
    *,
    set_upstream: bool = False,
) -> None:
    """``git push remote refspec``: RemoteUnreachableError or PushRejectedError on failure.

    ``set_upstream`` makes the pushed branch the current branch's upstream (``-u``).
    """
    push_refs(root, remote, [refspec], timeout, set_upstream=set_upstream)


_NO_ATOMIC = re.compile(r"does not support --atomic", re.I)


def push_refs(
    root: Path,
    remote: str,
    refspecs: Sequence[str],
    timeout: float = REMOTE_TIMEOUT * 2,
    *,
    set_upstream: bool = False,
    atomic: bool = False,
    url: str | None = None,
) -> None:
    """``git push remote refspec...`` in one push; ``atomic``: all refs or none, where the
    remote supports it (where it does not, the same push without ``--atomic``).

    ``url`` is the remote's URL when the caller knows it (else it is read, and a missing
    remote is a NoRemoteError). RemoteUnreachableError or PushRejectedError on failure.
    """
    url = url or require_remote(root, remote)
    flags = ["--set-upstream"] if set_upstream else []
    if atomic and len(refspecs) > 1:
        flags.append("--atomic")
    result = _git(root, "push", "--porcelain", *flags, remote, *refspecs, timeout=timeout)
    if result.ok:
        return
    text = result.output
    if "--atomic" in flags and _NO_ATOMIC.search(text):
        push_refs(root, remote, refspecs, timeout, set_upstream=set_upstream, url=url)
        return
    if "[rejected]" in text or "[remote rejected]" in text or "! " in result.stdout:
        shown = " and ".join(refspecs)
        raise PushRejectedError(
            f"`{remote}` rejected the push of {shown}",
            why=result.failure(8),
            hint=f"compare with the remote: git fetch {remote} && git log --oneline -3 "
            f"{remote}/HEAD",
        )
    raise _unreachable(remote, url, result)


def delete_remote_tag(
    root: Path, remote: str, tag: str, timeout: float = REMOTE_TIMEOUT * 2
) -> bool:
    """Delete ``tag`` on the remote; False when it was not there."""
    if remote_tag_commit(root, remote, tag, timeout) is None:
        return False
    push_ref(root, remote, f":refs/tags/{tag}", timeout)
    return True


def fetch_tag(
    root: Path, remote: str, tag: str, timeout: float = REMOTE_TIMEOUT, *, url: str | None = None
) -> None:
    """Fetch ``tag`` from ``remote`` into the local tags (never replacing a local one)."""
    url = url or require_remote(root, remote)
    ref = f"refs/tags/{tag}"
    result = _git(root, "fetch", "--quiet", remote, f"{ref}:{ref}", timeout=timeout)
    if not result.ok:
        raise _unreachable(remote, url, result)


def reset_keep(root: Path, rev: str) -> None:
    """Move the current branch to ``rev`` keeping uncommitted changes (``git reset --keep``);
    GitError when a change would be lost."""
    _check(
        _git(root, "reset", "--keep", rev, "--"),
        f"cannot reset the branch to {rev[:12]}",
        hint=f"look at the work tree first: git status; then git reset --keep {rev[:12]}",
    )


def commit_files(
    root: Path, paths: Iterable[Path | str], message: str, *, has_commits: bool | None = None
) -> str:
    """Commit exactly ``paths`` (other staged changes stay staged); return the new commit.

    ``has_commits``: whether HEAD points at a commit, when the caller knows (else read)."""
    rel = [str(p) for p in paths]
    if not rel:
        raise GitError("nothing to commit", why="no files were named for the release commit")
    _check(_git(root, "add", "--", *rel), "cannot stage the release files")
    args = ["commit", "--quiet", "--no-verify", "-F", "-"]
    if has_commits is None:
        has_commits = head_commit(root) is not None
    if has_commits:
        if _git(root, "diff", "--quiet", "HEAD", "--", *rel).ok:
            raise GitError(
                f"nothing to commit in {', '.join(rel)}",
                why="the files are already committed as they are",
                hint="git status",
            )
        args += ["--only", "--", *rel]
    result = _git(root, *args, input=message)
    _check(
        result,
        "cannot create the release commit",
        hint=_IDENTITY_HINT,
    )
    return require_head(root)


def add_exclude(root: Path, pattern: str) -> bool:
    """Add ``pattern`` to ``.git/info/exclude`` unless there; True when it was added."""
    result = _check(
        _git(root, "rev-parse", "--git-path", "info/exclude"), "cannot locate .git/info/exclude"
    )
    path = Path(_first_line(result))
    if not path.is_absolute():
        path = root / path
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if pattern in (line.strip() for line in existing.splitlines()):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{prefix}{pattern}\n")
    return True


# ---------------------------------------------------------------- clones and config


def clone(
    source: Path | str, dest: Path, *, branch: str | None = None, timeout: float = CLONE_TIMEOUT
) -> None:
    """``git clone`` ``source`` into ``dest`` (a local source is copied, not hard-linked)."""
    args = ["clone", "--quiet", "--no-hardlinks"]
    if branch is not None:
        args += ["--branch", branch]
    _check(
        _git(dest.parent, *args, "--", str(source), str(dest), timeout=timeout),
        f"cannot clone {source} into {dest}",
        hint=f"check that {source} is a healthy repository: git -C {source} status",
    )


def checkout_branch(root: Path, branch: str, commit: str) -> None:
    """Check out ``branch``, created or reset to ``commit`` (``git checkout -B``)."""
    _check(
        _git(root, "checkout", "--quiet", "-B", branch, commit),
        f"cannot check out {branch} at {commit[:12]}",
        hint="git status",
    )


def set_remote_url(root: Path, remote: str, url: str) -> None:
    """Point the existing ``remote`` at ``url``."""
    _check(
        _git(root, "remote", "set-url", remote, url),
        f"cannot set the URL of git remote `{remote}`",
        hint="git remote -v",
    )


def config_value(root: Path, key: str) -> str | None:
    """The value of ``key`` as git sees it in ``root`` (any scope), or None when unset."""
    result = _git(root, "config", "--get", key)
    return result.stdout.rstrip("\n") if result.ok else None


def set_config(root: Path, key: str, value: str) -> None:
    """Set ``key`` in the repository's own configuration."""
    _check(
        _git(root, "config", "--local", key, value),
        f"cannot set git config {key}",
        hint=f"git config --local {key} <value>",
    )


# ---------------------------------------------------------------- github


_GITHUB_URL = re.compile(
    r"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


def github_repo_from_url(url: str | None) -> str | None:
    """``owner/name`` when ``url`` is a github.com remote URL, else None."""
    if not url:
        return None
    m = _GITHUB_URL.match(url.strip())
    return f"{m.group('owner')}/{m.group('name')}" if m else None


# ---------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class TagState:
    """Where a release tag stands locally and (if asked) on the remote."""

    name: str
    local_commit: str | None
    remote_commit: str | None = None
    remote_checked: bool = False


@dataclass(frozen=True)
class GitState:
    """Everything ``shipit check``/``status`` want to know about the repository, at once."""

    root: Path
    head: str | None
    branch: str | None
    clean: bool
    changes: tuple[str, ...]
    remote: str
    remote_url: str | None
    upstream: str | None
    fetched: bool = False
    fetch_error: str | None = None
    ahead: int | None = None
    behind: int | None = None
    tags_at_head: tuple[str, ...] = ()
    last_tag: str | None = None
    tag: TagState | None = None
    errors: tuple[GitError, ...] = field(default_factory=tuple)

    @property
    def has_commits(self) -> bool:
        return self.head is not None

    @property
    def detached(self) -> bool:
        return self.branch is None

    @property
    def github_repository(self) -> str | None:
        return github_repo_from_url(self.remote_url)

    @property
    def at_pushed_tag(self) -> bool:
        """HEAD is detached at the release tag the remote already has: a run started by the
        tag's push (CI checks the tag out), which releases that tag and pushes no branch."""
        return (
            self.detached
            and self.head is not None
            and self.tag is not None
            and self.tag.remote_commit == self.head
        )

    def problems(self) -> list[GitError]:
        """Every condition that blocks a release, each a precise GitError (may be empty)."""
        found: list[GitError] = []
        if self.head is None:
            found.append(
                NoCommitsError(
                    "the repository has no commits yet",
                    why="a release tags a commit, and HEAD does not point at one",
                    hint='commit your files first: git add -A && git commit -m "initial commit"',
                )
            )
        elif self.branch is None and not self.at_pushed_tag:
            found.append(
                DetachedHeadError(
                    "HEAD is detached (no branch is checked out)",
                    why=f"HEAD points directly at {self.head[:12]}; a release needs a branch",
                    hint="switch to the release branch: git switch main",
                )
            )
        if self.remote_url is None:
            found.append(
                NoRemoteError(
                    f"no git remote `{self.remote}`",
                    why="the release tag must be pushed somewhere",
                    hint=f"git remote add {self.remote} <url>",
                )
            )
        found.extend(self.errors)
        return found


def state(
    root: Path,
    *,
    remote: str = "origin",
    fetch_remote: bool = False,
    fetch_timeout: float = REMOTE_TIMEOUT,
    tag: str | None = None,
    tag_format: str = "v{version}",
    snapshot: Snapshot | None = None,
) -> GitState:
    """A snapshot of the repository. Raises only NotARepoError.

    ``fetch_remote`` fetches first (so ahead/behind are current) and checks ``tag`` on the
    remote; a failed fetch is recorded in ``fetch_error`` and ``errors``. ``snapshot`` is the
    run's ``git_snapshot.Snapshot`` to read from (and to leave what was read in).
    """
    from shipit.git_snapshot import Snapshot

    snap = snapshot or Snapshot(root)
    top = snap.top()
    url = snap.remote_url(remote)
    snap.work_tree()  # the work tree as it is now, before the (slower) fetch
    errors: list[GitError] = []
    fetched = False
    fetch_error: str | None = None
    if fetch_remote and url is not None:
        try:
            snap.fetch(remote, fetch_timeout)
            fetched = True
        except GitError as exc:
            fetch_error = str(exc)
            errors.append(exc)
    tree = snap.work_tree()
    up = snap.upstream()
    tag_state: TagState | None = None
    if tag is not None:
        remote_commit = None
        checked = False
        if fetched:
            try:
                remote_commit = snap.remote_tag_commit(remote, tag, fetch_timeout)
                checked = True
            except GitError as exc:
                errors.append(exc)
        tag_state = TagState(tag, snap.local_tag_commit(tag), remote_commit, checked)
    try:
        last = snap.last_release_tag(tag_format)
    except GitError as exc:
        errors.append(exc)
        last = None
    return GitState(
        root=top,
        head=tree.head,
        branch=tree.branch,
        clean=not tree.changes,
        changes=tree.changes,
        remote=remote,
        remote_url=url,
        upstream=up,
        fetched=fetched,
        fetch_error=fetch_error,
        ahead=tree.ahead if up is not None else None,
        behind=tree.behind if up is not None else None,
        tags_at_head=tuple(snap.tags_at_head()),
        last_tag=last,
        tag=tag_state,
        errors=tuple(errors),
    )
