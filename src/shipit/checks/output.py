"""Pick the relevant lines out of a tool's output: type errors, lint problems, failing tests.

Each parser turns raw output into ``Finding``s with file and line where the tool gives them,
so the summary shows what matters and the full text stays in the log file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from shipit.checks.base import Finding
from shipit.checks.command import relpath

MAX_FINDINGS = 50

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# ----------------------------------------------------------------- type checkers

_DENO_TS = re.compile(r"^(?:error: )?(TS\d+) \[ERROR\]: (.*)$")
_DENO_AT = re.compile(r"^\s+at (file://\S+?):(\d+):(\d+)\s*$")


def deno_check(text: str, root: Path) -> list[Finding]:
    """``deno check``: ``TS2322 [ERROR]: message`` followed by ``at file:///p.ts:1:7``."""
    findings: list[Finding] = []
    pending: str | None = None
    for line in strip_ansi(text).splitlines():
        m = _DENO_TS.match(line.strip())
        if m:
            if pending:
                findings.append(Finding(pending))
            pending = f"{m.group(1)}: {m.group(2)}"
            continue
        at = _DENO_AT.match(line)
        if at and pending:
            findings.append(Finding(pending, relpath(at.group(1), root), int(at.group(2))))
            pending = None
    if pending:
        findings.append(Finding(pending))
    return findings


_TSC = re.compile(r"^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$")
_TSC_PRETTY = re.compile(r"^(.+?):(\d+):(\d+) - error (TS\d+): (.*)$")


def tsc(text: str, root: Path) -> list[Finding]:
    """``tsc``: ``src/a.ts(3,7): error TS2322: message`` (or the pretty form)."""
    findings = []
    for line in strip_ansi(text).splitlines():
        m = _TSC.match(line.strip()) or _TSC_PRETTY.match(line.strip())
        if m:
            findings.append(
                Finding(f"{m.group(4)}: {m.group(5)}", relpath(m.group(1), root), int(m.group(2)))
            )
    return findings


_MYPY = re.compile(r"^(.+?):(\d+):(?:\d+:)? error: (.*)$")
_PYRIGHT = re.compile(r"^\s*(.+?):(\d+):(\d+) - error: (.*)$")


def mypy(text: str, root: Path) -> list[Finding]:
    """``mypy`` (``a.py:3: error: msg``) and ``pyright`` (``/p/a.py:3:5 - error: msg``)."""
    findings = []
    for line in strip_ansi(text).splitlines():
        m = _MYPY.match(line)
        if m:
            findings.append(Finding(m.group(3), relpath(m.group(1), root), int(m.group(2))))
            continue
        p = _PYRIGHT.match(line)
        if p:
            findings.append(Finding(p.group(4), relpath(p.group(1), root), int(p.group(2))))
    return findings


# ----------------------------------------------------------------- linters


def deno_lint(text: str, root: Path) -> list[Finding]:
    """``deno lint --json``."""
    start = text.find("{")
    try:
        data = json.loads(text[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return generic(text, root)
    findings = []
    for d in data.get("diagnostics", []):
        line = d.get("range", {}).get("start", {}).get("line")
        findings.append(
            Finding(
                f"{d.get('code', 'lint')}: {d.get('message', '')}",
                relpath(str(d.get("filename", "")), root),
                int(line) if isinstance(line, int) else None,
                d.get("hint"),
            )
        )
    for e in data.get("errors", []):
        findings.append(
            Finding(str(e.get("message", e)), relpath(str(e.get("file_path", "")), root) or None)
        )
    return findings


_RUFF = re.compile(r"^(.+?):(\d+):(\d+): ([A-Z]+\d+) (.*)$")
_RUFF_OR_ESLINT = re.compile(r"^(.+?):(\d+):(\d+): [A-Z]+\d+ |^\s+\d+:\d+\s+error\s", re.M)
_ESLINT_FILE = re.compile(r"^(/\S+|\S+\.(?:[cm]?[jt]sx?|vue|svelte))$")
_ESLINT_LINE = re.compile(r"^\s+(\d+):(\d+)\s+(error|warning)\s+(.*?)\s{2,}(\S+)$")


def ruff(text: str, root: Path) -> list[Finding]:
    """``ruff check --output-format=concise`` and eslint's stylish format; else generic."""
    findings: list[Finding] = []
    current: str | None = None
    for line in strip_ansi(text).splitlines():
        m = _RUFF.match(line)
        if m:
            findings.append(
                Finding(f"{m.group(4)}: {m.group(5)}", relpath(m.group(1), root), int(m.group(2)))
            )
            continue
        f = _ESLINT_FILE.match(line.strip()) if not line.startswith(" ") else None
        if f:
            current = relpath(f.group(1), root)
            continue
        e = _ESLINT_LINE.match(line)
        if e and current and e.group(3) == "error":
            findings.append(Finding(f"{e.group(5)}: {e.group(4)}", current, int(e.group(1))))
    return findings or generic(text, root)


# ----------------------------------------------------------------- tests

_DENO_FAIL = re.compile(r"^(.+?) => (\S+?):(\d+):\d+$")
_PYTEST_FAIL = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?:::(\S+))?(?: - (.*))?$")
_TAP_FAIL = re.compile(r"^\s*not ok \d+ - (.*)$")
_JEST_FAIL = re.compile(r"^\s*(?:\u2715|\u2716|\u00d7)\s+(.*?)(?:\s+\(\d+\s*m?s\))?$")
_MOCHA_FAIL = re.compile(r"^\s*\d+\) (.+)$")


def deno_test(text: str, root: Path) -> list[Finding]:
    """Failing tests from the ``FAILURES`` block of ``deno test``, with the error message."""
    lines = strip_ansi(text).splitlines()
    errors: dict[str, str] = {}
    current: str | None = None
    section = ""
    findings: list[Finding] = []
    for line in lines:
        stripped = line.strip()
        if stripped in ("ERRORS", "FAILURES"):
            section = stripped
            continue
        m = _DENO_FAIL.match(stripped)
        if m and section == "ERRORS":
            current = m.group(1)
            continue
        if section == "ERRORS" and current and stripped.startswith("error:"):
            errors.setdefault(current, stripped[len("error:") :].strip())
            continue
        if m and section == "FAILURES":
            name = m.group(1)
            why = errors.get(name)
            findings.append(
                Finding(
                    f"test failed: {name}" + (f" ({why})" if why else ""),
                    relpath(m.group(2), root),
                    int(m.group(3)),
                )
            )
    if not findings:
        for line in lines:
            if line.rstrip().endswith("FAILED") or " ... FAILED" in line:
                findings.append(Finding(f"test failed: {line.split(' ... ')[0].strip()}"))
    return findings


def pytest(text: str, root: Path) -> list[Finding]:
    """``FAILED tests/test_a.py::test_x - AssertionError: ...`` lines of the short summary."""
    findings = []
    for line in strip_ansi(text).splitlines():
        m = _PYTEST_FAIL.match(line.strip())
        if m:
            node = m.group(1) + (f"::{m.group(2)}" if m.group(2) else "")
            why = m.group(3)
            findings.append(
                Finding(
                    f"test failed: {node}" + (f" ({why})" if why else ""),
                    relpath(m.group(1), root),
                )
            )
    return findings


def node_test(text: str, root: Path) -> list[Finding]:
    """node:test / TAP (``not ok 2 - name``), jest/vitest (``✕ name``), mocha (``1) name``)."""
    findings = []
    seen: set[str] = set()
    for line in strip_ansi(text).splitlines():
        m = _TAP_FAIL.match(line) or _JEST_FAIL.match(line)
        if m:
            name = m.group(1).strip()
            if name and name not in seen:
                seen.add(name)
                findings.append(Finding(f"test failed: {name}"))
    if not findings:
        for line in strip_ansi(text).splitlines():
            m = _MOCHA_FAIL.match(line)
            if m and m.group(1).strip() not in seen:
                seen.add(m.group(1).strip())
                findings.append(Finding(f"test failed: {m.group(1).strip()}"))
    return findings


# ----------------------------------------------------------------- fallback

_ERRORISH = re.compile(
    r"(error\b|\bfailed\b|\bfailure\b|\bfail\b|\bnot ok\b|exception|traceback)", re.I
)


def generic(text: str, root: Path, limit: int = 8) -> list[Finding]:
    """The lines that look like errors (or the last lines), for tools we do not know."""
    lines = [ln.rstrip() for ln in strip_ansi(text).splitlines() if ln.strip()]
    picked = [ln.strip() for ln in lines if _ERRORISH.search(ln)]
    if not picked:
        picked = [ln.strip() for ln in lines[-limit:]]
    return [Finding(line[:300]) for line in picked[:limit]]


PARSERS: dict[str, Callable[[str, Path], list[Finding]]] = {
    "deno-check": deno_check,
    "tsc": tsc,
    "mypy": mypy,
    "deno-lint": deno_lint,
    "ruff": ruff,
    "deno-test": deno_test,
    "pytest": pytest,
    "node-test": node_test,
    "generic": generic,
}


def parse(parser: str, text: str, root: Path) -> list[Finding]:
    """Findings from ``text`` by the named parser, falling back to ``generic``."""
    return parse_detailed(parser, text, root)[0]


def parse_detailed(parser: str, text: str, root: Path) -> tuple[list[Finding], bool]:
    """(findings, structured): ``structured`` is False when only the generic fallback's
    error-looking or last lines could be picked (they are not a count of problems)."""
    fn = PARSERS.get(parser, generic)
    if fn is not generic:
        found = fn(text, root)
        if (found and fn is not ruff) or (fn is ruff and _RUFF_OR_ESLINT.search(text)):
            return found[:MAX_FINDINGS], True
    return generic(text, root)[:MAX_FINDINGS], False
