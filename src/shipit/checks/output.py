"""Read a tool's output: type errors, lint problems, unformatted files, failing tests.

``parse(text, root)`` runs every recogniser over the output, so a script that runs several
tools (``"test": "xo && ava"``) is read as what each line is: an xo problem is a lint
problem with its file and line, an ava failure a failing test. Multi-line reports (a deno
type error with its snippet, a vitest failure with its diff) become one finding each, at the
location the tool names. Known deno and npm errors about dependencies (not cached, lockfile
out of date, network) are dependency problems, not type errors. Output no recogniser knows is
returned verbatim (its first lines), never guessed at.

Recognised: deno check / lint / fmt --check / test and deno's located errors, tsc, eslint
(stylish), xo, ruff (concise and full), mypy, pyright, pytest, ``node --test`` (TAP and
spec), ava, vitest, jest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shipit.checks.base import Finding, Kind
from shipit.checks.command import relpath

MAX_FINDINGS = 50
VERBATIM_LINES = 8

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class Parsed:
    """Findings in output order; ``structured`` is False when they are verbatim lines."""

    findings: list[Finding]
    structured: bool


Located = tuple[int, Finding]  # (index of the line it was found at, the finding)
Recogniser = Callable[[list[str], Path], list[Located]]


def _loc(path: str, root: Path) -> str:
    return relpath(path, root)


def _own_file(path: str) -> bool:
    """A frame in the project's code, not in node_modules, node: internals or ext:."""
    return not (
        "node_modules" in path
        or path.startswith(("node:", "ext:", "internal/"))
        or path.startswith("<")
    )


def _matches(
    lines: list[str], *patterns: re.Pattern[str], strip: bool = False
) -> Iterator[tuple[int, re.Match[str]]]:
    """Each line one of ``patterns`` matches (tried in order), with its index; ``strip``
    matches the line without its surrounding white space."""
    for i, line in enumerate(lines):
        text = line.strip() if strip else line
        found = next((m for m in (p.match(text) for p in patterns) if m), None)
        if found:
            yield i, found


def _line_findings(
    lines: list[str], root: Path, kind: Kind, *patterns: re.Pattern[str], strip: bool = False
) -> list[Located]:
    """One finding per line a pattern matches (tools that print one line per problem). The
    patterns name their groups ``file``, ``line``, ``message`` and, where the tool prints one,
    ``code`` (shown before the message)."""
    out: list[Located] = []
    for i, m in _matches(lines, *patterns, strip=strip):
        found = m.groupdict()
        message = f"{found['code']}: {found['message']}" if found.get("code") else found["message"]
        out.append((i, Finding(message, _loc(found["file"], root), int(found["line"]), kind=kind)))
    return out


def _test_failed(i: int, name: str, error: str, file: str | None, line: int | None) -> Located:
    """A failing test at line ``i`` of the output, with the runner's error when it gave one."""
    message = f"test failed: {name}" + (f" ({error})" if error else "")
    return i, Finding(message, file, line, kind=Kind.TEST)


# ------------------------------------------------------------------ dependency errors

_DEPENDENCY = re.compile(
    r"lockfile is out of date|Integrity check failed|failed to load|Import '[^']+' failed|"
    r"error sending request|dns error|not found in cache|Could not find npm package|"
    r"Cannot find module '[^'./][^']*'|Cannot find package '[^']+'|ERR_MODULE_NOT_FOUND|"
    r"Could not resolve '[^'./]",
    re.I,
)


def is_dependency_error(message: str) -> bool:
    return bool(_DEPENDENCY.search(message))


# ------------------------------------------------------------------ deno

_DENO_TS = re.compile(r"^(?:error: )?(TS\d+) \[ERROR\]: (.*)$")
_DENO_AT = re.compile(r"^\s+at (?:.*\()?(file://[^\s)]+?)(?::(\d+):(\d+))?\)?\s*$")
_DENO_ERROR = re.compile(r"^error: (.+)$")


def deno_check(lines: list[str], root: Path) -> list[Located]:
    """``TS2322 [ERROR]: message``, its snippet, then ``at file:///p/mod.ts:4:14``."""
    out: list[Located] = []
    for i, m in _matches(lines, _DENO_TS, strip=True):
        file = line_no = None
        for follow in lines[i + 1 : i + 12]:
            if _DENO_TS.match(follow.strip()):
                break
            at = _DENO_AT.match(follow)
            if at:
                file = _loc(at.group(1), root)
                line_no = int(at.group(2)) if at.group(2) else None
                break
        out.append((i, Finding(f"{m.group(1)}: {m.group(2)}", file, line_no, kind=Kind.TYPE)))
    return out


def deno_errors(lines: list[str], root: Path) -> list[Located]:
    """deno's own located errors (``error: ...`` then ``at file://...``): a module that does
    not load, a missing dependency, a config problem. Not the test runner's errors."""
    out: list[Located] = []
    in_tests = False
    for i, line in enumerate(lines):
        if line.strip() in ("ERRORS", "FAILURES"):
            in_tests = True
        m = _DENO_ERROR.match(line)
        if not m or in_tests or _DENO_TS.match(line):
            continue
        message = m.group(1).strip()
        follow = lines[i + 1] if i + 1 < len(lines) else ""
        at = _DENO_AT.match(follow)
        dependency = is_dependency_error(message)
        if not at and not dependency:
            continue
        file = _loc(at.group(1), root) if at else None
        line_no = int(at.group(2)) if at and at.group(2) and not file_is_config(file) else None
        kind = Kind.DEPENDENCY if dependency else Kind.ERROR
        out.append((i, Finding(message, file, line_no, kind=kind)))
    return out


def file_is_config(file: str | None) -> bool:
    return bool(file) and Path(str(file)).name in ("deno.json", "deno.jsonc", "package.json")


_DIAG_HEAD = re.compile(r"^(?:error|warning)\[([\w/@-]+)\]: (.+)$")
_RUFF_HEAD = re.compile(r"^([A-Z]+[0-9]+) (?:\[\*\] )?(.+)$")
_ARROW = re.compile(r"^\s*--> (.+?):(\d+):(\d+)\s*$")
_HINT = re.compile(r"^\s*= hint: (.+)$")


def rust_style(lines: list[str], root: Path) -> list[Located]:
    """deno lint (``error[rule]: msg`` / `` --> file:L:C``) and ruff's full format
    (``F401 msg`` / `` --> file:L:C``)."""
    out: list[Located] = []
    for i, line in enumerate(lines):
        head = _DIAG_HEAD.match(line) or _RUFF_HEAD.match(line)
        if not head:
            continue
        arrow = _ARROW.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not arrow:
            continue
        hint = None
        for follow in lines[i + 2 : i + 10]:
            h = _HINT.match(follow)
            if h:
                hint = h.group(1).strip()
                break
            if _DIAG_HEAD.match(follow) or _ARROW.match(follow):
                break
        if line.startswith("warning["):
            continue
        out.append(
            (
                i,
                Finding(
                    f"{head.group(1)}: {head.group(2)}",
                    _loc(arrow.group(1), root),
                    int(arrow.group(2)),
                    hint,
                    kind=Kind.LINT,
                ),
            )
        )
    return out


_FMT_FROM = re.compile(r"^from (.+):$")


def deno_fmt(lines: list[str], root: Path) -> list[Located]:
    """``deno fmt --check``: ``from /p/mod.ts:`` then the diff, then "Found N not formatted"."""
    if not any("not formatted file" in ln for ln in lines):
        return []
    out: list[Located] = []
    for i, m in _matches(lines, _FMT_FROM):
        diff_line = None
        if i + 1 < len(lines):
            d = re.match(r"^\s*(\d+) \| ", lines[i + 1])
            diff_line = int(d.group(1)) if d else None
        out.append(
            (
                i,
                Finding(
                    "not formatted (deno fmt --check)",
                    _loc(m.group(1), root),
                    diff_line,
                    "run `deno fmt`",
                    kind=Kind.FORMAT,
                ),
            )
        )
    return out


_DENO_CASE = re.compile(r"^(.+?) => (\S+?):(\d+):\d+$")


def deno_test(lines: list[str], root: Path) -> list[Located]:
    """The ``FAILURES`` list of ``deno test``, each with its error and where it was thrown."""
    errors: dict[str, tuple[str, str | None, int | None]] = {}
    section = ""
    current: str | None = None
    out: list[Located] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped in ("ERRORS", "FAILURES"):
            section = stripped
            continue
        case = _DENO_CASE.match(stripped)
        if section == "ERRORS":
            if case:
                current = case.group(1)
                continue
            if current and stripped.startswith("error:") and current not in errors:
                errors[current] = (stripped[len("error:") :].strip(), None, None)
                continue
            at = _DENO_AT.match(line)
            if current and at and at.group(2) and current in errors and errors[current][1] is None:
                path = _loc(at.group(1), root)
                if _own_file(at.group(1)):
                    errors[current] = (errors[current][0], path, int(at.group(2)))
        elif section == "FAILURES" and case:
            name = case.group(1)
            why, file, line_no = errors.get(name, ("", None, None))
            if file is None:
                file, line_no = _loc(case.group(2), root), int(case.group(3))
            out.append(_test_failed(i, name, why, file, line_no))
    return out


# ------------------------------------------------------------------ TypeScript, eslint, xo

_TSC = re.compile(r"^(?P<file>.+?)\((?P<line>\d+),\d+\): error (?P<code>TS\d+): (?P<message>.*)$")
_TSC_PRETTY = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):\d+ - error (?P<code>TS\d+): (?P<message>.*)$"
)


def tsc(lines: list[str], root: Path) -> list[Located]:
    return _line_findings(lines, root, Kind.TYPE, _TSC, _TSC_PRETTY, strip=True)


_ESLINT_FILE = re.compile(r"^(/\S+|[\w.@/-]+\.(?:[cm]?[jt]sx?|vue|svelte|astro|json|md))$")
_ESLINT_LINE = re.compile(
    r"^\s+(?P<line>\d+):\d+\s+(?P<level>error|warning)\s+(?P<message>.*?)\s{2,}(?P<rule>\S+)\s*$"
)
_XO_FILE = re.compile(r"^\s+(\S+?):(\d+):(\d+)$")
_XO_LINE = re.compile(
    r"^\s+(?P<level>[\u2716\u26a0])\s+(?P<line>\d+):\d+\s+(?P<message>.*?)\s{2,}(?P<rule>\S+)\s*$"
)
_ERROR_LEVELS = ("error", "\u2716")  # eslint's word, xo's mark (warnings do not fail a run)


def eslint(lines: list[str], root: Path) -> list[Located]:
    """eslint's stylish format (file, then ``  2:9  error  message  rule``) and xo's
    (``  index.js:2:8`` then ``  ✖  2:8  message  rule``). Warnings do not fail a run."""
    out: list[Located] = []
    current: str | None = None
    for i, line in enumerate(lines):
        if not line.startswith(" "):
            f = _ESLINT_FILE.match(line.strip())
            current = _loc(f.group(1), root) if f else None
            continue
        xo_file = _XO_FILE.match(line)
        if xo_file:
            current = _loc(xo_file.group(1), root)
            continue
        p = _ESLINT_LINE.match(line) or _XO_LINE.match(line)
        if p and current and p["level"] in _ERROR_LEVELS:
            message = f"{p['rule']}: {p['message']}"
            out.append((i, Finding(message, current, int(p["line"]), kind=Kind.LINT)))
    return out


# ------------------------------------------------------------------ Python tools

_RUFF = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):\d+: (?P<code>[A-Z]+\d+) (?:\[\*\] )?(?P<message>.*)$"
)
_MYPY = re.compile(r"^(?P<file>.+?\.pyi?):(?P<line>\d+):(?:\d+:)? error: (?P<message>.*)$")
_PYRIGHT = re.compile(r"^\s*(?P<file>.+?\.pyi?):(?P<line>\d+):\d+ - error: (?P<message>.*)$")


def ruff_concise(lines: list[str], root: Path) -> list[Located]:
    return _line_findings(lines, root, Kind.LINT, _RUFF)


def mypy(lines: list[str], root: Path) -> list[Located]:
    """mypy (``a.py:3: error: msg  [code]``; its ``note:`` lines belong to the error before)
    and pyright (``/p/a.py:3:5 - error: msg``)."""
    return _line_findings(lines, root, Kind.TYPE, _MYPY, _PYRIGHT)


_PYTEST_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+?)(?:::(\S+))?(?: - (.*))?$")
_PYTEST_SECTION = re.compile(r"^_{3,} (?:ERROR (?:at \w+ of |collecting ))?(.+?) _{3,}$")
_PYTEST_WHERE = re.compile(r"^(\S+?\.py):(\d+): (\w+)")


def pytest(lines: list[str], root: Path) -> list[Located]:
    """The short summary (``FAILED tests/t.py::test_x - msg``), each failure located at the
    last ``file.py:LINE: Error`` of its section in the report."""
    where: dict[str, tuple[str, int]] = {}
    section: str | None = None
    for line in lines:
        s = _PYTEST_SECTION.match(line.strip())
        if s:
            section = s.group(1)
            continue
        w = _PYTEST_WHERE.match(line)
        if w and section:
            where[section] = (w.group(1), int(w.group(2)))
    out: list[Located] = []
    for i, m in _matches(lines, _PYTEST_SUMMARY, strip=True):
        node = m.group(2) + (f"::{m.group(3)}" if m.group(3) else "")
        key = (m.group(3) or m.group(2)).replace("::", ".")
        file, line_no = where.get(key, (m.group(2), None))
        why = m.group(4)
        verb = "test failed" if m.group(1) == "FAILED" else "test error"
        out.append(
            (
                i,
                Finding(
                    f"{verb}: {node}" + (f" ({why})" if why else ""),
                    _loc(file, root),
                    line_no,
                    kind=Kind.TEST,
                ),
            )
        )
    return out


# ------------------------------------------------------------------ JavaScript test runners

_TAP_NOT_OK = re.compile(r"^(\s*)not ok \d+ - (.*?)(?:\s+#.*)?$")
_TAP_LOCATION = re.compile(r"^\s+location: '(.+?):(\d+):\d+'")
_STACK_FRAME = re.compile(
    r"(?:at |^\s+)(?:.*?\()?((?:file://)?/[^\s():]+|[\w./-]+\.[cm]?[jt]sx?):(\d+):\d+\)?\s*$"
)


def _first_own_frame(block: list[str], root: Path) -> tuple[str, int] | None:
    for line in block:
        f = _STACK_FRAME.search(line)
        if f and _own_file(f.group(1)):
            return _loc(f.group(1), root), int(f.group(2))
    return None


def node_tap(lines: list[str], root: Path) -> list[Located]:
    """``node --test`` TAP: ``not ok 1 - name`` and its YAML block (error, location, stack)."""
    out: list[Located] = []
    for i, m in _matches(lines, _TAP_NOT_OK):
        block: list[str] = []
        for follow in lines[i + 1 :]:
            if follow.strip() == "...":
                break
            block.append(follow)
        text = "\n".join(block)
        if "subtestsFailed" in text:
            continue  # a suite whose tests failed: the tests are reported themselves
        error = ""
        for j, b in enumerate(block):
            if b.strip().startswith("error:"):
                rest = b.split("error:", 1)[1].strip().strip("'\"")
                if rest in ("|-", "|", ">-", ""):
                    rest = next((x.strip() for x in block[j + 1 :] if x.strip()), "")
                error = rest
                break
        own = _first_own_frame([b for b in block if "stack" not in b], root)
        located = None
        for b in block:
            loc = _TAP_LOCATION.match(b)
            if loc:
                located = (_loc(loc.group(1), root), int(loc.group(2)))
        file, line_no = own or located or (None, None)
        out.append(_test_failed(i, m.group(2), error, file, line_no))
    return out


_SPEC_FAIL = re.compile(r"^(\s*)\u2716 (.+?) \(\d+(?:\.\d+)?m?s\)$")


def node_spec(lines: list[str], root: Path) -> list[Located]:
    """``node --test`` spec reporter: ``✖ name (2.1ms)`` and the indented error under it."""
    out: list[Located] = []
    seen: set[str] = set()
    for i, m in _matches(lines, _SPEC_FAIL):
        if m.group(2) in seen:
            continue
        indent = len(m.group(1))
        block: list[str] = []
        for follow in lines[i + 1 :]:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                break
            block.append(follow)
        text = "\n".join(block)
        if not text.strip() or "subtest failed" in text or "subtests failed" in text:
            continue
        seen.add(m.group(2))
        error = next((b.strip() for b in block if b.strip()), "")
        file, line_no = _first_own_frame(block, root) or (None, None)
        out.append(_test_failed(i, m.group(2), error, file, line_no))
    return out


_AVA_FAIL = re.compile(r"^\s*\u2718 \[fail\]: (.+?)(?:\s{2,}.*)?$")
_AVA_WHERE = re.compile(r"^\s+([\w./@-]+\.[cm]?[jt]sx?):(\d+)$")


def ava(lines: list[str], root: Path) -> list[Located]:
    """ava: ``✘ [fail]: name`` and, in the details, the name, then ``  test.js:5``."""
    out: list[Located] = []
    for i, m in _matches(lines, _AVA_FAIL):
        name = m.group(1).strip()
        file = line_no = None
        error = ""
        for j in range(i + 1, len(lines)):
            if lines[j].strip() == name:
                for k in range(j + 1, min(j + 4, len(lines))):
                    w = _AVA_WHERE.match(lines[k])
                    if w:
                        file, line_no = _loc(w.group(1), root), int(w.group(2))
                        tail = [x.strip() for x in lines[k + 1 : k + 20] if x.strip()]
                        error = next(
                            (
                                x
                                for x in tail
                                if not re.match(r"^\d+:", x) and not x.startswith("\u203a")
                            ),
                            "",
                        )
                        break
                if file:
                    break
        out.append(_test_failed(i, name, error, file, line_no))
    return out


_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(\S+?)\s+>\s+(.+?)\s*$")
_VITEST_AT = re.compile(r"^\s*\u276f (?:\S+ )?([\w./@-]+\.[cm]?[jt]sx?):(\d+):\d+$")


def vitest(lines: list[str], root: Path) -> list[Located]:
    """vitest: `` FAIL  test/a.test.js > suite > name``, the error, then the first stack
    frame (file:L:C)."""
    out: list[Located] = []
    for i, m in _matches(lines, _VITEST_FAIL):
        error = lines[i + 1].strip() if i + 1 < len(lines) else ""
        file = line_no = None
        for follow in lines[i + 1 : i + 60]:
            if follow.strip().startswith("\u23af") or _VITEST_FAIL.match(follow):
                break
            at = _VITEST_AT.match(follow)
            if at:
                file, line_no = _loc(at.group(1), root), int(at.group(2))
                break
        name = m.group(2).replace(" > ", " > ")
        out.append(_test_failed(i, name, error, file or _loc(m.group(1), root), line_no))
    return out


_JEST_FAIL = re.compile(r"^\s*\u25cf (.+ \u203a .+|(?!Test suite failed to run).+)$")


def jest(lines: list[str], root: Path) -> list[Located]:
    """jest: a bullet, the names joined by a right angle quote, the error, then
    ``at Object.<anonymous> (file:L:C)``."""
    if not any(ln.lstrip().startswith(("Tests:", "Test Suites:")) for ln in lines):
        return []
    out: list[Located] = []
    for i, m in _matches(lines, _JEST_FAIL):
        block: list[str] = []
        for follow in lines[i + 1 : i + 80]:
            if _JEST_FAIL.match(follow):
                break
            block.append(follow)
        error = next((b.strip() for b in block if b.strip()), "")
        file, line_no = _first_own_frame([b for b in block if "at " in b], root) or (None, None)
        out.append(_test_failed(i, m.group(1).strip(), error, file, line_no))
    return out


# ------------------------------------------------------------------ other recognisers

_NODE_MISSING = re.compile(r"Cannot find (?:module|package) '([^'./][^']*)'")


def node_missing(lines: list[str], root: Path) -> list[Located]:
    """A package the code imports that is not installed (``Cannot find package 'x'``)."""
    for i, line in enumerate(lines):
        m = _NODE_MISSING.search(line)
        if m:
            message = f"cannot find the package `{m.group(1)}`: is it installed?"
            return [(i, Finding(message, kind=Kind.DEPENDENCY))]
    return []


RECOGNISERS: tuple[Recogniser, ...] = (
    deno_check,
    deno_errors,
    rust_style,
    deno_fmt,
    deno_test,
    tsc,
    eslint,
    ruff_concise,
    mypy,
    pytest,
    node_tap,
    node_spec,
    ava,
    vitest,
    jest,
    node_missing,
)


def deno_lint_json(text: str, root: Path) -> list[Finding]:
    """``deno lint --json`` (a configured command may use it)."""
    start = text.find("{")
    try:
        data = json.loads(text[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return []
    findings = []
    for d in data.get("diagnostics", []):
        line = d.get("range", {}).get("start", {}).get("line")
        findings.append(
            Finding(
                f"{d.get('code', 'lint')}: {d.get('message', '')}",
                relpath(str(d.get("filename", "")), root),
                int(line) if isinstance(line, int) else None,
                d.get("hint"),
                kind=Kind.LINT,
            )
        )
    return findings


_NPM_HEADER = re.compile(r"^> \S+@\S+ \S+$|^> ")


def verbatim(text: str, limit: int = VERBATIM_LINES) -> list[Finding]:
    """The first lines of output nobody recognised, as they are (npm's script banner left out)."""
    lines = [ln.rstrip() for ln in strip_ansi(text).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _NPM_HEADER.match(ln.strip())]
    return [Finding(line.strip()[:300], kind=Kind.OUTPUT) for line in lines[:limit]]


def parse(text: str, root: Path, parser: str = "auto") -> Parsed:
    """Every finding the recognisers see in ``text``, in output order; else verbatim lines."""
    if parser == "deno-lint-json":
        found = deno_lint_json(text, root)
        if found:
            return Parsed(found[:MAX_FINDINGS], True)
    lines = strip_ansi(text).splitlines()
    located: list[Located] = []
    for recognise in RECOGNISERS:
        located.extend(recognise(lines, root))
    located.sort(key=lambda item: item[0])
    findings: list[Finding] = []
    seen: set[tuple[str, str | None, int | None]] = set()
    for _, finding in located:
        key = (finding.message, finding.file, finding.line)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    if findings:
        return Parsed(findings[:MAX_FINDINGS], True)
    return Parsed(verbatim(text), False)
