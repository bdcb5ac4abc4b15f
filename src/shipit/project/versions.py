"""Versions: SemVer (npm, JSR, tags) and PEP 440 (PyPI), and the mapping between them.

shipit's canonical version is SemVer (``1.2.0-rc.1``); PyPI receives its PEP 440 form
(``1.2.0rc1``). Pre-releases map ``alpha`` <-> ``a``, ``beta`` <-> ``b``, ``rc`` <-> ``rc``,
and ``dev``/``post`` <-> ``.devN``/``.postN``; SemVer build metadata ``+x`` <-> local ``+x``
(only when PEP 440 keeps it as written: no hyphens, no leading zeros).
Ordering ("is this greater than the last tag?") follows SemVer precedence, as npm does. Note
that SemVer sorts ``1.2.0-post.1`` *before* ``1.2.0`` while PEP 440 sorts ``1.2.0.post1``
after it: prefer a patch release over a post release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import semver
from packaging.version import InvalidVersion, Version

from shipit.errors import VersionError

_PRE_NAMES = {
    "alpha": "a",
    "a": "a",
    "beta": "b",
    "b": "b",
    "rc": "rc",
    "c": "rc",
    "pre": "rc",
    "preview": "rc",
}
_SEMVER_NAMES = {"a": "alpha", "b": "beta", "rc": "rc"}
_IDENT = re.compile(r"^(alpha|a|beta|b|rc|c|pre|preview|dev|post)(\d*)$")

SEMVER_TARGETS = frozenset({"npm", "jsr", "github", "binaries"})


def _where(file: str | None) -> str:
    return f" in {file}" if file else ""


def _set(file: str | None, version: str = "1.2.0") -> str:
    """The command that puts a good ``version`` where the bad one came from."""
    if file == "--version":
        return f"shipit release --version {version}"
    return f"shipit version set {version}"


def is_semver(version: str) -> bool:
    """True for a valid SemVer 2.0.0 version (no leading ``v``)."""
    return semver.Version.is_valid(version)


def is_pep440(version: str) -> bool:
    """True for a valid PEP 440 version."""
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


MAX_COMPONENT = 2**53 - 1
"""The largest MAJOR, MINOR or PATCH npm accepts (node-semver: Number.MAX_SAFE_INTEGER;
JSR takes up to 2**64 - 1 and PyPI any integer, so npm's limit is everyone's)."""
MAX_LENGTH = 256
"""The longest version string npm accepts (node-semver's MAX_LENGTH)."""


def parse_semver(version: str, *, file: str | None = None) -> semver.Version:
    """Parse a SemVer version every registry accepts, or raise a VersionError naming
    ``file``."""
    try:
        parsed = semver.Version.parse(version)
    except (ValueError, TypeError):
        raise VersionError(
            f"invalid version {version!r}{_where(file)}",
            why="npm, JSR and release tags need a SemVer version: MAJOR.MINOR.PATCH "
            "with an optional -prerelease (e.g. 1.2.0 or 1.2.0-rc.1)",
            hint=_set(file),
        ) from None
    too_big = [
        name
        for name, n in (("MAJOR", parsed.major), ("MINOR", parsed.minor), ("PATCH", parsed.patch))
        if n > MAX_COMPONENT
    ]
    if too_big or len(version) > MAX_LENGTH:
        why = (
            f"{' and '.join(too_big)} is larger than {MAX_COMPONENT}, the largest number npm "
            "accepts in a version"
            if too_big
            else f"it is longer than {MAX_LENGTH} characters, the longest version npm accepts"
        )
        raise VersionError(
            f"version {version!r}{_where(file)} cannot be published",
            why=why,
            hint=f"choose a smaller version: {_set(file)}",
        )
    return parsed


def parse_pep440(version: str, *, file: str | None = None) -> Version:
    """Parse a PEP 440 version or raise a VersionError naming ``file``."""
    try:
        return Version(version)
    except InvalidVersion:
        raise VersionError(
            f"invalid version {version!r}{_where(file)}",
            why="PyPI needs a PEP 440 version (e.g. 1.2.0 or 1.2.0rc1)",
            hint=_set(file),
        ) from None


def _pep440_from_semver(v: semver.Version, original: str, file: str | None) -> str:
    release = f"{v.major}.{v.minor}.{v.patch}"
    pre: tuple[str, int] | None = None
    post: int | None = None
    dev: int | None = None
    stage = 0  # 0: nothing yet, 1: pre seen, 2: post seen, 3: dev seen
    idents = v.prerelease.split(".") if v.prerelease else []
    i = 0

    def unmappable(reason: str) -> VersionError:
        return VersionError(
            f"version {original!r}{_where(file)} has no PEP 440 form for PyPI",
            why=reason + "; PyPI understands alpha/a, beta/b, rc, dev and post pre-releases "
            "(1.2.0-rc.1 becomes 1.2.0rc1)",
            hint="use e.g. 1.2.0-rc.1, 1.2.0-beta.2 or 1.2.0-dev.3",
        )

    while i < len(idents):
        m = _IDENT.match(idents[i].lower())
        if not m:
            raise unmappable(f"the pre-release part {idents[i]!r} is not one PyPI knows")
        name, digits = m.group(1), m.group(2)
        i += 1
        if not digits and i < len(idents) and idents[i].isdigit():
            digits = idents[i]
            i += 1
        number = int(digits) if digits else 0
        if name in _PRE_NAMES:
            if stage >= 1:
                raise unmappable(f"{name!r} comes after another pre/post/dev part")
            pre, stage = (_PRE_NAMES[name], number), 1
        elif name == "post":
            if stage >= 2:
                raise unmappable("'post' comes after post or dev")
            post, stage = number, 2
        else:
            if stage >= 3:
                raise unmappable("'dev' appears twice")
            dev, stage = number, 3
    text = release
    if pre:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    if v.build:
        text += f"+{v.build}"
    try:
        result = str(Version(text))
    except InvalidVersion:
        raise unmappable(f"the build part {v.build!r} is not a valid PEP 440 local label") from None
    if v.build and not result.endswith(f"+{v.build}"):
        raise unmappable(
            f"PEP 440 would rewrite the build part {v.build!r} (hyphens, capitals, leading zeros)"
        )
    return result


def to_pep440(version: str, *, file: str | None = None) -> str:
    """The PEP 440 form of a SemVer (or already PEP 440) version: ``1.2.0-rc.1`` -> ``1.2.0rc1``."""
    if is_semver(version):
        return _pep440_from_semver(semver.Version.parse(version), version, file)
    return str(parse_pep440(version, file=file))


def to_semver(version: str, *, file: str | None = None) -> str:
    """The SemVer form of a PEP 440 (or already SemVer) version: ``1.2.0rc1`` -> ``1.2.0-rc.1``."""
    if is_semver(version):
        return version
    v = parse_pep440(version, file=file)
    if v.epoch:
        raise VersionError(
            f"version {version!r}{_where(file)} has an epoch, which SemVer cannot express",
            why="npm, JSR and tags need SemVer",
            hint="drop the epoch (the N! prefix)",
        )
    if len(v.release) > 3:
        raise VersionError(
            f"version {version!r}{_where(file)} has more than three numbers",
            why="SemVer versions are exactly MAJOR.MINOR.PATCH",
            hint="use three numbers, e.g. shipit version set 1.2.3",
        )
    major, minor, patch = (*v.release, 0, 0)[:3]
    parts: list[str] = []
    if v.pre:
        parts += [_SEMVER_NAMES[v.pre[0]], str(v.pre[1])]
    if v.post is not None:
        parts += ["post", str(v.post)]
    if v.dev is not None:
        parts += ["dev", str(v.dev)]
    text = f"{major}.{minor}.{patch}"
    if parts:
        text += "-" + ".".join(parts)
    if v.local:
        text += f"+{v.local}"
    return text


def canonical(version: str, *, file: str | None = None) -> str:
    """shipit's canonical (SemVer) form of a SemVer or PEP 440 version."""
    return to_semver(version, file=file)


def same_version(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same release (``1.2.0-rc.1`` == ``1.2.0rc1``)."""
    if a == b:
        return True
    try:
        return Version(to_pep440(a)) == Version(to_pep440(b))
    except VersionError:
        pass
    try:
        return to_semver(a) == to_semver(b)
    except VersionError:
        return False


def sort_key(version: str) -> semver.Version | None:
    """A SemVer-precedence key for a SemVer or PEP 440 version; None when it is neither."""
    try:
        return semver.Version.parse(to_semver(version))
    except (VersionError, ValueError):
        return None


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 by SemVer precedence (PEP 440 inputs are mapped first)."""
    ka, kb = sort_key(a), sort_key(b)
    if ka is None:
        parse_semver(a)
    if kb is None:
        parse_semver(b)
    assert ka is not None and kb is not None
    return ka.compare(kb)


def greater(a: str, b: str) -> bool:
    """True when ``a`` comes after ``b``."""
    return compare(a, b) > 0


def is_prerelease(version: str) -> bool:
    key = sort_key(version)
    return bool(key is not None and key.prerelease)


def prerelease_id(version: str) -> str | None:
    """The first pre-release identifier without digits (``rc`` for ``1.2.0-rc.1``), or None."""
    key = sort_key(version)
    if key is None or not key.prerelease:
        return None
    first = key.prerelease.split(".")[0]
    name = re.sub(r"\d+$", "", first)
    return name or None


def validate_for(version: str, targets: Iterable[str], *, file: str | None = None) -> str:
    """Check ``version`` for every named target; return its canonical SemVer form.

    npm, JSR, GitHub and binaries need SemVer (a PEP 440 input is mapped); PyPI needs a PEP
    440 form. Raises a VersionError naming ``file`` when a target cannot take the version.
    """
    names = set(targets)
    if is_semver(version):
        result = version
    elif is_pep440(version):
        normal = str(Version(version))
        if normal != version:
            raise VersionError(
                f"version {version!r}{_where(file)} is not written in its normal form",
                why=f"PEP 440 reads it as {normal}; shipit writes versions exactly, "
                "so it wants the exact spelling",
                hint=_set(file, to_semver(normal)),
            )
        result = to_semver(version, file=file)
    else:
        raise VersionError(
            f"invalid version {version!r}{_where(file)}",
            why="a version is MAJOR.MINOR.PATCH with an optional pre-release, "
            "e.g. 1.2.0 or 1.2.0-rc.1 (PyPI form 1.2.0rc1)",
            hint=_set(file),
        )
    parse_semver(result, file=file)
    if "pypi" in names:
        to_pep440(result, file=file)
    return result


BUMPS = ("major", "minor", "patch", "prerelease")


def bump(version: str, part: str, preid: str | None = None) -> str:
    """The next version, exactly as npm's ``semver.inc(version, part, preid)`` computes it.

    ``major``/``minor``/``patch`` of a stable version raise that number (``1.2.3`` patch ->
    ``1.2.4``); of a pre-release they release it when it is already that kind of version
    (``1.2.4-rc.0`` patch -> ``1.2.4``, ``2.0.0-rc.0`` major -> ``2.0.0``). ``prerelease``
    of a stable version raises the patch and starts at 0 (``1.2.3`` -> ``1.2.4-0``, with
    ``preid="rc"`` -> ``1.2.4-rc.0``); of a pre-release it raises the last number
    (``1.2.4-rc.0`` -> ``1.2.4-rc.1``), and a different ``preid`` starts over
    (``1.2.4-rc.1`` with ``beta`` -> ``1.2.4-beta.0``). Build metadata is dropped.
    """
    if part not in BUMPS:
        raise VersionError(
            f"cannot bump {part!r}",
            why=f"a bump is one of {', '.join(BUMPS)}",
            hint="shipit release --bump patch",
        )
    v = parse_semver(to_semver(version))
    major, minor, patch = v.major, v.minor, v.patch
    pre: list[str | int] = [int(p) if p.isdigit() else p for p in (v.prerelease or "").split(".")]
    pre = [] if pre == [""] else pre
    if part == "major":
        if minor != 0 or patch != 0 or not pre:
            major += 1
        minor, patch, pre = 0, 0, []
    elif part == "minor":
        if patch != 0 or not pre:
            minor += 1
        patch, pre = 0, []
    elif part == "patch":
        if not pre:
            patch += 1
        pre = []
    else:
        if not pre:
            patch += 1
            pre = [0]
        else:
            numbers = [i for i, p in enumerate(pre) if isinstance(p, int)]
            if numbers:
                pre[numbers[-1]] = int(pre[numbers[-1]]) + 1
            else:
                pre.append(0)
        if preid and (pre[0] != preid or len(pre) < 2 or not isinstance(pre[1], int)):
            pre = [preid, 0]
    text = f"{major}.{minor}.{patch}"
    if pre:
        text += "-" + ".".join(str(p) for p in pre)
    parse_semver(text)
    return text
